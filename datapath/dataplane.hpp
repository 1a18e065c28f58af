// Dataplane: the Datapath of a Linux host, driven from the control thread — the bridge
// "weft", the kernel VXLAN fast datapath with its heartbeats, the sleeve, the per-peer
// overlay switch between them (overlay_switch.hpp has its design note), expose/hide, and
// the datapath offer we publish in our topology record.
//
// Local container MACs are read from the bridge FDB (entries learnt on veth ports) every
// tick and published (DatapathInfo) so that peers install static VXLAN entries for them.
//
// Netlink is passed in (opened by weftd in its namespace), so that everything that programs
// the kernel goes through one seam. Contract: control thread only. start() needs
// CAP_NET_ADMIN; a kernel without VXLAN or AF_PACKET leaves fastdp off with the reason in
// status().
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "common/cidr.hpp"
#include "common/clock.hpp"
#include "common/netlink.hpp"
#include "common/rng.hpp"
#include "common/task_group.hpp"
#include "datapath/datapath.hpp"
#include "datapath/datapath_info.hpp"
#include "datapath/expose.hpp"
#include "datapath/fastdp.hpp"
#include "datapath/fastdp_probe.hpp"
#include "datapath/overlay_switch.hpp"
#include "datapath/sleeve_datapath.hpp"
#include "router/router.hpp"

namespace weft::datapath {

using router::PeerName;
using router::PeerRecord;
using router::Router;
using router::RouterStatus;
using router::Routes;

struct DataplaneConfig {
  std::string bridge = "weft";
  DatapathMode mode = DatapathMode::kAuto;
  bool encryption_required = false;
  std::vector<Cidr> trusted_subnets{};
  std::optional<std::uint32_t> mtu{};  // overlay MTU override
  Clock::Duration tick = std::chrono::seconds(1);
  Clock::Duration heartbeat_timeout = std::chrono::seconds(5);
};

class Dataplane final : public Datapath {
 public:
  Dataplane(boost::asio::any_io_executor executor, Clock& clock, Rng& rng, Router& router,
            std::unique_ptr<Netlink> netlink, DataplaneConfig config);
  ~Dataplane() override;
  Dataplane(const Dataplane&) = delete;
  Dataplane& operator=(const Dataplane&) = delete;

  // Makes sure the bridge exists and is up with the overlay MTU, starts the sleeve, and
  // starts the periodic tick (which also runs on every topology change).
  Result<void> start() override;
  boost::asio::awaitable<void> stop() override;
  void refresh() override;
  // Addresses found on the bridge at start() count as exposed (they are the state that
  // survives a restart).
  Result<void> expose(const Cidr& address) override;
  Result<void> hide(const Cidr& address) override;
  std::optional<PeerDatapath> peer(PeerName peer) const override;
  std::uint32_t overlay_mtu() const override { return overlay_mtu_; }
  DataplaneStatus status() const override;
  const std::string& bridge() const { return config_.bridge; }

 private:
  struct FamilyState {
    std::optional<IpAddress> local{};
    std::string error{};  // why fastdp is off for this family
    std::unique_ptr<FastdpProber> prober{};
  };
  FamilyState& family_state(IpFamily family, const IpAddress& towards);
  LocalPath local_path(IpFamily family, const IpAddress& towards, PeerName peer);
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
  SleeveStatus sleeve_status() const;
  std::vector<MacAddress> local_macs();
  void publish();

  boost::asio::any_io_executor executor_;
  Clock& clock_;
  Rng& rng_;
  Router& router_;
  DataplaneConfig config_;
  std::unique_ptr<Netlink> nl_;
  std::unique_ptr<FastDatapath> fastdp_;
  std::unique_ptr<OverlaySwitch> switch_;
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
  std::vector<MacAddress> macs_;
  std::uint32_t overlay_mtu_ = 1410;
  std::uint32_t underlay_mtu_ = 1500;
  std::string fastdp_error_;
  TaskGroup tasks_;
  bool stopping_ = false;
};

}  // namespace weft::datapath
