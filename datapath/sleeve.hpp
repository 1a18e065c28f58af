// SleeveEngine: the encrypted userspace data plane as a synchronous state machine. TAP
// frames in -> sealed, batched datagrams out; datagrams in -> frames for the TAP, relayed
// datagrams and probe answers out. No I/O and no threads here: datapath/sleeve_datapath.hpp
// drives it from a datapath thread with recvmmsg/sendmmsg and the TAP fd, and the unit tests
// wire engines back to back in memory.
//
// Design note (routing by peer): every frame record names its source and destination peer
// (datapath/sleeve_wire.hpp). A frame from the TAP goes to the peer its destination MAC was
// learned behind, else it floods (destination 0) along our broadcast tree. A receiver
// delivers frames addressed to it (or flooded) to the TAP, forwards floods along the
// source's tree, and relays other frames toward their destination, re-sealed for the next
// hop with that hop's session. Several frames share one datagram up to the next hop's path
// MTU (flushed at the end of every call); a frame too big for the path gets an ICMP answer.
//
// Design note (path MTU): per peer, the estimate starts at the ceiling (underlay MTU minus
// IP/UDP headers); a sealed probe padded to the candidate size is sent every probe interval
// and acknowledged by the peer. Two unanswered probes at a size make it the new upper
// bound and the search bisects between the largest acknowledged size and it, using the
// acknowledged size (at least kMinDatagram) meanwhile. A settled size is re-confirmed every
// ten intervals; if that fails the search starts over (paths can shrink). Small heartbeats (also
// probes) keep path_ok up to date for the overlay switch.
//
// Contract: not thread-safe; every call on one thread (the datapath thread). Bad datagrams
// never fail a call: they are dropped and counted in stats(). Time from the injected Clock.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

#include "datapath/sleeve_mac_table.hpp"
#include "datapath/sleeve_types.hpp"
#include "datapath/sleeve_wire.hpp"

namespace weft::datapath {

struct SleeveConfig {
  std::uint64_t self = 0;           // our peer name
  const Clock* clock = nullptr;     // required
  std::size_t underlay_mtu = 1500;  // PMTU ceiling; the UDP payload is this minus 28 / 48
  Clock::Duration probe_interval = std::chrono::seconds(1);
  Clock::Duration path_timeout = std::chrono::seconds(5);  // path_ok after this much silence
  Clock::Duration mac_max_age = std::chrono::minutes(5);
};

// Smallest datagram the PMTU search falls back to (fits the IPv6 minimum MTU of 1280).
inline constexpr std::size_t kMinDatagram = 1280 - 48;

// The largest IP packet (the overlay MTU for containers) the sleeve carries in one datagram
// over an underlay of `underlay_mtu`: minus IP+UDP (28 / 48), sleeve header (13), tag (16,
// or 0 for "none"), frame record header (16) and Ethernet header (14). 1413 for an
// encrypted IPv4 underlay of 1500, 1393 over IPv6.
constexpr std::uint32_t sleeve_overlay_mtu(std::uint32_t underlay_mtu, bool v6_underlay,
                                           SleeveSuite suite) {
  const std::uint32_t overhead =
      (v6_underlay ? 48u : 28u) + 13u + (suite == SleeveSuite::kNone ? 0u : 16u) + 16u + 14u;
  return underlay_mtu > overhead ? underlay_mtu - overhead : 0;
}

class SleeveEngine {
 public:
  explicit SleeveEngine(SleeveConfig config);
  ~SleeveEngine();
  SleeveEngine(const SleeveEngine&) = delete;
  SleeveEngine& operator=(const SleeveEngine&) = delete;

  // Sessions. add_peer fails with kAlreadyExists (peer known), kConflict (rx_index in use),
  // kInvalidArgument (peer 0 or ourselves) or kUnsupported (suite not on this CPU).
  // update_peer replaces keys/indices/endpoint (rekey, roaming): a changed key or index
  // restarts the counter and the replay window; kNotFound when unknown.
  Result<void> add_peer(const SleeveSession& session);
  Result<void> update_peer(const SleeveSession& session);
  void remove_peer(std::uint64_t peer);
  void set_routes(SleeveRoutes routes);

  // Frames read from the TAP (raw Ethernet). Appends datagrams to send and ICMP answers
  // for the TAP to `out`.
  void handle_tap_frames(std::span<const std::span<const std::uint8_t>> frames, SleeveOutput& out);
  // Datagrams received on the UDP socket (peer = source address).
  void handle_datagrams(std::span<const Datagram> datagrams, SleeveOutput& out);
  // Heartbeats, PMTU probes, MAC aging. Call at least every probe_interval / 4.
  void tick(SleeveOutput& out);

  // The driver reports datagrams the socket refused (counted as drop_send).
  void count_send_drops(std::uint64_t n) { stats_.drop_send += n; }

  const SleeveStats& stats() const { return stats_; }
  std::vector<SleevePeerStatus> peer_status() const;
  // Largest Ethernet frame the engine currently sends to `peer` (0 when unknown).
  std::size_t max_frame(std::uint64_t peer) const;
  std::size_t mac_table_size() const { return macs_.size(); }

 private:
  struct Peer;

  Peer* find(std::uint64_t peer);
  void send_frame(std::uint64_t src, std::uint64_t dst, std::uint8_t hops,
                  std::span<const std::uint8_t> frame, std::uint64_t next_hop, bool from_tap,
                  SleeveOutput& out);
  void flood(std::uint64_t src, std::uint8_t hops, std::span<const std::uint8_t> frame,
             std::uint64_t except, bool from_tap, SleeveOutput& out);
  void flush(Peer& p, SleeveOutput& out);
  void flush_all(SleeveOutput& out);
  void seal_into(Peer& p, PacketType type, std::vector<std::uint8_t>& packet, SleeveOutput& out);
  void send_probe(Peer& p, PacketType type, std::uint32_t id, std::size_t size, SleeveOutput& out);
  void receive_one(const Datagram& d, SleeveOutput& out);
  void receive_data(Peer& from, std::span<const std::uint8_t> plaintext, SleeveOutput& out);
  void receive_probe(Peer& from, PacketType type, std::span<const std::uint8_t> plaintext,
                     std::size_t datagram_size, SleeveOutput& out);
  void tick_pmtu(Peer& p, Clock::TimePoint now, SleeveOutput& out);

  SleeveConfig config_;
  SleeveStats stats_;
  SleeveMacTable macs_;
  SleeveRoutes routes_;
  std::unordered_map<std::uint64_t, std::unique_ptr<Peer>> peers_;
  std::unordered_map<std::uint32_t, Peer*> by_rx_index_;
  std::vector<Peer*> dirty_;         // peers with a pending batch
  std::vector<std::uint8_t> plain_;  // scratch: opened plaintext
  std::uint32_t next_probe_id_ = 1;
};

}  // namespace weft::datapath
