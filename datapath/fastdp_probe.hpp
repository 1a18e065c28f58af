// Fast datapath heartbeats: proof that the kernel VXLAN path to a peer works end to end
// before traffic is switched to it, and that it keeps working.
//
// Design note: a heartbeat is a real Ethernet frame (EtherType 0x88B5, IEEE "local
// experimental") written with an AF_PACKET socket onto our VXLAN device, addressed to the
// MAC of the peer's VXLAN device. Our kernel encapsulates it (static FDB entry for that
// MAC), the peer's kernel decapsulates it on its VXLAN device, where the peer's AF_PACKET
// socket reads it; the bridge then delivers it locally (its destination is a port's own MAC)
// and the stack drops it, so containers never see it. A plain UDP probe could not prove
// this: the kernel owns UDP 6784. A ping is answered by a pong carrying its nonce.
//
// Frame (after the 14-byte Ethernet header, padded to 60 bytes):
//   magic "WFTP" version:u8 (=1) type:u8 (1 ping, 2 pong) from:name(6) to:name(6)
//   nonce:u64 — big-endian.
//
// Contract: encode/parse are pure (parse_probe never crashes on any input). FastdpProber
// runs on the control thread; open() fails with kUnsupported/kIo when AF_PACKET sockets
// are not available, and the caller then never switches peers to fastdp.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "common/address.hpp"
#include "common/clock.hpp"
#include "common/result.hpp"
#include "common/rng.hpp"
#include "router/peer_name.hpp"

namespace weft::datapath {

using router::PeerName;

inline constexpr std::uint16_t kProbeEtherType = 0x88B5;

struct ProbeFrame {
  MacAddress dst{};
  MacAddress src{};
  enum class Type : std::uint8_t { kPing = 1, kPong = 2 } type = Type::kPing;
  PeerName from{};
  PeerName to{};
  std::uint64_t nonce = 0;
  bool operator==(const ProbeFrame&) const = default;
};

std::vector<std::uint8_t> encode_probe(const ProbeFrame& frame);
Result<ProbeFrame> parse_probe(std::span<const std::uint8_t> bytes);

struct ProbeStats {
  std::uint64_t pings_sent = 0, pongs_sent = 0, pongs_received = 0, bad_frames = 0;
};

class FastdpProber {
 public:
  FastdpProber(boost::asio::any_io_executor executor, Clock& clock, Rng& rng, PeerName self);
  ~FastdpProber();
  FastdpProber(const FastdpProber&) = delete;
  FastdpProber& operator=(const FastdpProber&) = delete;

  // Binds to a VXLAN device (by index, with its MAC) and the bridge it is a port of, and
  // starts answering and pinging; one prober per device. Pings go every `interval` to each
  // target.
  Result<void> open(int vxlan_index, int bridge_index, MacAddress device_mac,
                    Clock::Duration interval);
  // Peers to ping, with the MAC of their VXLAN device.
  void set_targets(std::map<PeerName, MacAddress> targets);
  // When we last heard a pong from `peer` (nullopt: never).
  std::optional<Clock::TimePoint> last_pong(PeerName peer) const;
  // Round-trip time of the last answered ping.
  std::optional<Clock::Duration> rtt(PeerName peer) const;
  const ProbeStats& stats() const;
  boost::asio::awaitable<void> stop();

  struct State;  // shared with the receive/send tasks (fastdp_probe.cpp)

 private:
  std::shared_ptr<State> s_;
};

}  // namespace weft::datapath
