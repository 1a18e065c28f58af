// Values the sleeve engine (datapath/sleeve.hpp) exchanges with the control plane and with its
// I/O driver: sessions and routes in, counters and per-peer status out, and the batch of
// datagrams and TAP frames one engine call produces.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/clock.hpp"
#include "common/datagram.hpp"
#include "common/endpoint.hpp"
#include "datapath/sleeve_crypto.hpp"

namespace weft::datapath {

// One direct sleeve neighbour, from the control plane's handshake. Indices are chosen by
// the receiving side: we put tx_index into every datagram we send the peer, and the peer
// puts our rx_index into the ones it sends us (rx_index must be unique among our peers).
struct SleeveSession {
  std::uint64_t peer = 0;  // 48-bit peer name
  std::uint32_t tx_index = 0;
  std::uint32_t rx_index = 0;
  SleeveKey tx_key{};
  SleeveKey rx_key{};
  SleeveSuite suite = SleeveSuite::kChaCha20Poly1305;
  Endpoint endpoint;  // the peer's UDP address (its port 6783)
};

// Where frames go, in peer names; from router::Routes (next_hop / broadcast_next_hops).
struct SleeveRoutes {
  // Unicast: destination peer -> neighbour to send to (the destination itself when direct).
  std::unordered_map<std::uint64_t, std::uint64_t> next_hop;
  // Broadcast tree: source peer -> the neighbours we forward its floods to. The entry for
  // ourselves is where our own floods go.
  std::unordered_map<std::uint64_t, std::vector<std::uint64_t>> broadcast;
};

// Counters since the engine started; drops by reason. Monotonic.
struct SleeveStats {
  std::uint64_t rx_datagrams = 0, rx_bytes = 0, tx_datagrams = 0, tx_bytes = 0;
  std::uint64_t tap_frames_in = 0, tap_frames_out = 0, relayed_frames = 0, flooded_frames = 0;
  std::uint64_t probes_sent = 0, probe_acks = 0, icmp_too_big = 0;
  // Drops.
  std::uint64_t drop_malformed = 0;      // header or frame records do not parse
  std::uint64_t drop_unknown_index = 0;  // no session has that receiver index
  std::uint64_t drop_auth_failed = 0;    // tampered, or a wrong key
  std::uint64_t drop_replay = 0;         // counter seen before or too old
  std::uint64_t drop_oversize = 0;       // frame over kMaxFrameSize or the path MTU (relayed)
  std::uint64_t drop_no_route = 0;       // no next hop / session for the destination peer
  std::uint64_t drop_hops = 0;           // relayed kSleeveMaxHops times (routing loop)
  std::uint64_t drop_send = 0;           // the socket refused a datagram

  // Calls fn(name, value) for every counter, names as in /metrics ("rx_datagrams",
  // "drop_replay", ...).
  void for_each(const std::function<void(std::string_view, std::uint64_t)>& fn) const;
};

struct SleevePeerStatus {
  std::uint64_t peer = 0;
  Endpoint endpoint;
  SleeveSuite suite = SleeveSuite::kNone;
  bool path_ok = false;          // an authenticated datagram arrived recently
  std::size_t max_datagram = 0;  // current PMTU estimate (UDP payload bytes)
  bool pmtu_settled = false;     // the PMTU search has finished
  std::size_t max_frame = 0;     // largest Ethernet frame sent in one datagram
  std::uint64_t tx_counter = 0;
  std::uint64_t rx_datagrams = 0, tx_datagrams = 0;
};

// What one engine call produced. Buffers are reused across calls: the driver sends
// datagrams()[0..], writes frames()[0..] to the TAP, then clear()s.
class SleeveOutput {
 public:
  Datagram& add_datagram();
  std::vector<std::uint8_t>& add_frame();
  std::span<Datagram> datagrams() { return {datagrams_.data(), datagram_count_}; }
  std::span<const std::vector<std::uint8_t>> frames() const {
    return {frames_.data(), frame_count_};
  }
  void clear() { datagram_count_ = frame_count_ = 0; }

 private:
  std::vector<Datagram> datagrams_;
  std::size_t datagram_count_ = 0;
  std::vector<std::vector<std::uint8_t>> frames_;
  std::size_t frame_count_ = 0;
};

}  // namespace weft::datapath
