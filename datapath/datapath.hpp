// Datapath: what weftd needs from this host's data plane — start and stop it, refresh it
// when the mesh changes, expose/hide addresses on the bridge, and say per peer how its
// traffic travels. Dataplane (dataplane.hpp) is the implementation: the bridge, the kernel
// VXLAN fast datapath with its heartbeats, the sleeve and the overlay switch between them.
//
// Contract: every call on the control thread. start() needs CAP_NET_ADMIN; its error means
// no data plane at all (weftd keeps the mesh running and says why). status() and peer()
// are cheap snapshots for /report, /metrics and the status page.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "common/cidr.hpp"
#include "common/clock.hpp"
#include "common/result.hpp"
#include "datapath/fastdp_probe.hpp"
#include "datapath/overlay_switch.hpp"
#include "datapath/sleeve_types.hpp"
#include "router/peer_name.hpp"

namespace weft::datapath {

// How traffic to one peer travels.
enum class DatapathKind { kNone, kFastdp, kSleeve };
std::string_view to_string(DatapathKind kind);  // "none" | "fastdp" | "sleeve"

struct PeerDatapath {
  DatapathKind kind = DatapathKind::kNone;
  std::string detail{};  // why (e.g. "confirming the vxlan path")
  bool encrypted = false;
  std::optional<Clock::Duration> rtt{};
};

struct FastdpDeviceStatus {
  IpFamily family = IpFamily::kV4;
  std::string name{};
  IpAddress local{};
  std::uint32_t mtu = 0;
  MacAddress mac{};
};

struct SleevePeerView {
  PeerName peer{};
  bool path_ok = false;
  std::size_t pmtu = 0;
  bool pmtu_settled = false;
  SleeveSuite suite = SleeveSuite::kNone;
};

struct SleeveStatus {
  bool available = false;
  std::string error{};  // why not, when unavailable
  SleeveSuite suite = SleeveSuite::kNone;
  SleeveStats stats{};
  std::vector<SleevePeerView> peers{};
};

struct DataplaneStatus {
  std::string bridge{};
  std::uint32_t mtu = 0;
  std::uint32_t underlay_mtu = 0;
  DatapathMode mode = DatapathMode::kAuto;
  bool encryption_required = false;
  std::vector<FastdpDeviceStatus> devices{};
  std::map<IpFamily, std::string> errors{};  // why fastdp is off for a family
  std::map<IpFamily, ProbeStats> heartbeats{};
  std::size_t local_macs = 0;
  std::vector<Cidr> exposed{};
  SleeveStatus sleeve{};
};

class Datapath {
 public:
  virtual ~Datapath() = default;

  virtual Result<void> start() = 0;
  // Stops heartbeats and the sleeve and removes the VXLAN devices (the bridge and the
  // containers stay: they outlive weftd).
  virtual boost::asio::awaitable<void> stop() = 0;
  // Reprograms everything from the mesh (also runs periodically).
  virtual void refresh() = 0;
  // `weft expose` / `weft hide` (expose.hpp).
  virtual Result<void> expose(const Cidr& address) = 0;
  virtual Result<void> hide(const Cidr& address) = 0;
  virtual std::optional<PeerDatapath> peer(PeerName peer) const = 0;
  virtual std::uint32_t overlay_mtu() const = 0;
  virtual DataplaneStatus status() const = 0;
};

}  // namespace weft::datapath
