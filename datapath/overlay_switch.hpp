// OverlaySwitch: per directly connected peer, the choice between the kernel VXLAN fast
// datapath and the sleeve, and the VXLAN forwarding entries that go with it.
//
// Design note: fastdp is used for a peer when the mode allows it (--datapath auto|fastdp),
// no encryption is required (no password/keys, or the peer's underlay address is in a
// trusted subnet), both ends offer a VXLAN device of the underlay family of the
// connection, and heartbeats over the VXLAN path are answered. Until the first answer only
// the heartbeat FDB entry (the peer's device MAC) is installed, so the path can be
// confirmed without carrying traffic; after `heartbeat_timeout` without an answer the
// peer's forwarding entries (flood + container MACs) are removed again (fallback) and come
// back when answers resume. Anything else falls back: the caller then uses the sleeve (or
// nothing, and says why). Peers without a direct connection never reach the switch: they
// are reached through relays on the sleeve.
//
// The switch owns no sockets: this host's VXLAN path of a family (device and heartbeats) is
// asked for through `LocalPath` only when a peer is a fastdp candidate, so that devices are
// created lazily, and the FDB is programmed through FastDatapath (netlink passed in), so
// the whole state machine runs in unit tests against a fake netlink and a virtual clock.
//
// Contract: control thread only.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/cidr.hpp"
#include "common/clock.hpp"
#include "datapath/datapath_info.hpp"
#include "datapath/fastdp.hpp"

namespace weft::datapath {

enum class DatapathMode { kAuto, kFastdp, kSleeve };
Result<DatapathMode> parse_datapath_mode(std::string_view text);
std::string_view to_string(DatapathMode mode);

struct SwitchConfig {
  DatapathMode mode = DatapathMode::kAuto;
  bool encryption_required = false;
  std::vector<Cidr> trusted_subnets{};
  Clock::Duration heartbeat_timeout = std::chrono::seconds(5);
};

// This host's VXLAN path towards one peer: usable (device up, heartbeats running) or why
// not, and what its heartbeats have heard from that peer.
struct LocalPath {
  bool ready = false;
  std::string error{};
  std::optional<Clock::TimePoint> last_pong{};
  std::optional<Clock::Duration> rtt{};
};

struct SwitchPeer {
  PeerName name{};
  IpAddress underlay{};                 // the peer's address on our connection
  const DatapathInfo* offer = nullptr;  // what it publishes; nullptr: nothing yet
};

struct SwitchDecision {
  bool fastdp = false;  // its traffic goes over VXLAN
  std::string why{};    // when not: why (shown in status)
  std::optional<Clock::Duration> rtt{};
};

class OverlaySwitch {
 public:
  using LocalPathFn = std::function<LocalPath(IpFamily family, const IpAddress& towards)>;

  OverlaySwitch(Clock& clock, FastDatapath& fastdp, SwitchConfig config);

  // Decides for one peer and programs its VXLAN entries to match. `local` is called only
  // for a fastdp candidate (it may create this host's device of that family).
  SwitchDecision decide(const SwitchPeer& peer, const LocalPathFn& local);
  // Removes the entries of peers that are no longer directly connected.
  void retain(const std::vector<PeerName>& connected);
  const SwitchConfig& config() const { return config_; }

 private:
  SwitchDecision fall_back(PeerName peer, std::string why, bool keep_heartbeats = false);

  Clock& clock_;
  FastDatapath& fastdp_;
  SwitchConfig config_;
  std::map<PeerName, Clock::TimePoint> confirming_since_;
};

}  // namespace weft::datapath
