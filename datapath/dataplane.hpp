// Dataplane: the host side of the overlay, driven from the control thread — the bridge
// "weft", the kernel VXLAN fast datapath with its heartbeats, the per-peer overlay switch,
// and the datapath offer we publish in our topology record.
//
// Design note (the overlay switch): per directly connected peer, fastdp is used when the
// mode allows it, both ends offer a VXLAN device of the underlay family of the connection,
// no encryption is required (no password/keys, or the peer's underlay address is in a
// trusted subnet) and heartbeats over the VXLAN path are answered. Until the first answer
// only the heartbeat FDB entry is installed; after `heartbeat_timeout` without an answer
// the peer's forwarding entries are removed again (fallback). Anything else goes over the
// sleeve (or, where no sleeve is attached, nowhere — status says so). Peers we have no
// direct connection to get no fastdp entries: they are reached through relays on the sleeve.
//
// Local container MACs are read from the bridge FDB (entries learnt on veth ports) every
// tick and published (DatapathInfo) so that peers install static VXLAN entries for them.
//
// Contract: control thread only. start() needs CAP_NET_ADMIN in the host namespace; a
// kernel without VXLAN or AF_PACKET leaves fastdp off with the reason in report().
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <nlohmann/json_fwd.hpp>

#include "common/cidr.hpp"
#include "common/clock.hpp"
#include "common/netlink.hpp"
#include "common/rng.hpp"
#include "common/task_group.hpp"
#include "datapath/datapath_info.hpp"
#include "datapath/expose.hpp"
#include "datapath/fastdp.hpp"
#include "datapath/fastdp_probe.hpp"
#include "datapath/sleeve_datapath.hpp"
#include "router/router.hpp"

namespace weft::datapath {

using router::PeerName;
using router::PeerRecord;
using router::Router;
using router::RouterStatus;
using router::Routes;

enum class DatapathMode { kAuto, kFastdp, kSleeve };
Result<DatapathMode> parse_datapath_mode(std::string_view text);
std::string_view to_string(DatapathMode mode);

struct DataplaneConfig {
  std::string bridge = "weft";
  DatapathMode mode = DatapathMode::kAuto;
  bool encryption_required = false;
  std::vector<Cidr> trusted_subnets{};
  std::optional<std::uint32_t> mtu{};  // overlay MTU override
  Clock::Duration tick = std::chrono::seconds(1);
  Clock::Duration heartbeat_timeout = std::chrono::seconds(5);
};

// How traffic to one peer travels.
struct PeerDatapath {
  std::string datapath = "none";  // fastdp | sleeve | none
  std::string detail{};           // why (e.g. "confirming the vxlan path")
  bool encrypted = false;
  std::optional<Clock::Duration> rtt{};
};

class Dataplane {
 public:
  Dataplane(boost::asio::any_io_executor executor, Clock& clock, Rng& rng, Router& router,
            DataplaneConfig config);
  ~Dataplane();
  Dataplane(const Dataplane&) = delete;
  Dataplane& operator=(const Dataplane&) = delete;

  // Opens netlink, makes sure the bridge exists and is up with the overlay MTU, and starts
  // the periodic tick (which also runs on every topology change).
  Result<void> start();
  // Stops heartbeats and removes the VXLAN devices (the bridge and containers stay).
  boost::asio::awaitable<void> stop();

  void refresh();
  // `weft expose` / `weft hide`: see expose.hpp. Addresses found on the bridge at start()
  // count as exposed (they are the state that survives a restart).
  Result<void> expose(const Cidr& address);
  Result<void> hide(const Cidr& address);
  std::optional<PeerDatapath> peer(PeerName peer) const;
  std::uint32_t overlay_mtu() const { return overlay_mtu_; }
  const std::string& bridge() const { return config_.bridge; }
  nlohmann::json report() const;

 private:
  struct FamilyState {
    std::optional<IpAddress> local{};
    std::string error{};  // why fastdp is off for this family
    std::unique_ptr<FastdpProber> prober{};
  };
  FamilyState& family_state(IpFamily family, const IpAddress& towards);
  PeerDatapath decide(PeerName peer, const IpAddress& underlay, const DatapathInfo* info);
  // dataplane_sleeve.cpp
  void start_sleeve(bool v6_underlay);
  // The suite for traffic with a peer: none without encryption; AES-256-GCM when both
  // ends have AES-NI; else ChaCha20-Poly1305.
  SleeveSuite sleeve_suite(const DatapathInfo* peer = nullptr) const;
  // Keeps a sleeve session with every connected peer that offers the sleeve (relays run
  // through any of them); returns its datapath when fastdp is not used for it.
  std::optional<PeerDatapath> sleeve_peer(PeerName peer, const IpAddress& underlay,
                                          const DatapathInfo* info);
  void sleeve_routes(const std::map<PeerName, PeerDatapath>& direct);
  nlohmann::json sleeve_report() const;
  std::vector<MacAddress> local_macs();
  void publish();

  boost::asio::any_io_executor executor_;
  Clock& clock_;
  Rng& rng_;
  Router& router_;
  DataplaneConfig config_;
  std::unique_ptr<Netlink> nl_;
  std::unique_ptr<FastDatapath> fastdp_;
  std::unique_ptr<Exposer> exposer_;
  std::unique_ptr<SleeveDatapath> sleeve_;
  std::string sleeve_error_;
  struct SleeveKeyState {
    std::uint32_t rx_index = 0;
    Endpoint endpoint{};
    SleeveSuite suite = SleeveSuite::kNone;
  };
  std::map<PeerName, SleeveKeyState> sleeve_sessions_;
  std::map<IpFamily, FamilyState> families_;
  std::map<PeerName, PeerDatapath> peers_;
  std::map<PeerName, Clock::TimePoint> fastdp_since_;  // when we started confirming
  std::vector<MacAddress> macs_;
  std::uint32_t overlay_mtu_ = 1410;
  std::uint32_t underlay_mtu_ = 1500;
  std::string fastdp_error_;
  TaskGroup tasks_;
  bool stopping_ = false;
};

}  // namespace weft::datapath
