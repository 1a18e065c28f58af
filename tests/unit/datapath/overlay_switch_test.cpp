// The overlay switch against a fake netlink on a virtual clock: which peers go fastdp, which
// fall back, and which VXLAN FDB entries exist at each step (heartbeat entry only while the
// path is confirmed; flood + container MACs once heartbeats are answered; back to the
// heartbeat entry when they stop).
#include "datapath/overlay_switch.hpp"

#include <gtest/gtest.h>

#include "tests/support/fake_netlink.hpp"
#include "tests/support/virtual_clock.hpp"

namespace weft::datapath {
namespace {

using namespace std::chrono_literals;

MacAddress mac(std::uint8_t last) {
  return MacAddress(MacAddress::Bytes{2, 0, 0, 0, 0, last});
}
IpAddress ip(const char* text) {
  return *parse_ip_address(text);
}

class OverlaySwitchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(nl_.create_bridge("weft", 1450));
    ASSERT_TRUE(fastdp_.ensure_device(IpFamily::kV4, ip("198.18.0.1"), 1500));
    offer_.fastdp = true;
    offer_.sleeve = true;
    offer_.vxlan = {{IpFamily::kV4, mac(0xaa)}};
    offer_.macs = {mac(1), mac(2)};
  }

  OverlaySwitch make(SwitchConfig config = {}) {
    config.heartbeat_timeout = 5s;
    return OverlaySwitch(clock_, fastdp_, std::move(config));
  }
  SwitchDecision decide(OverlaySwitch& sw, const char* underlay = "198.18.0.2",
                        const DatapathInfo* offer = nullptr) {
    ++local_calls_;
    return sw.decide({.name = peer_, .underlay = ip(underlay), .offer = offer ? offer : &offer_},
                     [this](IpFamily, const IpAddress&) { return path_; });
  }
  std::vector<std::string> fdb() const { return nl_.fdb_lines("weft-vx4"); }

  test::FakeNetlink nl_;
  test::VirtualClock clock_;
  FastDatapath fastdp_{nl_, "weft"};
  DatapathInfo offer_;
  LocalPath path_{.ready = true, .error = "", .last_pong = std::nullopt, .rtt = std::nullopt};
  router::PeerName peer_{0x0000000000b2};
  int local_calls_ = 0;
};

const std::vector<std::string> kHeartbeatOnly = {"02:00:00:00:00:aa 198.18.0.2"};
const std::vector<std::string> kForwarding = {
    "00:00:00:00:00:00 198.18.0.2", "02:00:00:00:00:01 198.18.0.2", "02:00:00:00:00:02 198.18.0.2",
    "02:00:00:00:00:aa 198.18.0.2"};

TEST_F(OverlaySwitchTest, DeviceIsAnIsolatedBridgePort) {
  const auto* dev = nl_.find("weft-vx4");
  ASSERT_NE(dev, nullptr);
  EXPECT_EQ(dev->info.kind, "vxlan");
  EXPECT_EQ(dev->info.master_name, "weft");
  EXPECT_TRUE(dev->isolated);
  EXPECT_TRUE(dev->info.up);
  EXPECT_EQ(dev->info.mtu, 1450u);
  EXPECT_EQ(dev->info.vxlan->vni, kVni);
}

TEST_F(OverlaySwitchTest, ConfirmsThenForwardsThenFallsBackAndRecovers) {
  auto sw = make();
  // No answer yet: only the heartbeat entry, traffic stays on the sleeve.
  auto d = decide(sw);
  EXPECT_FALSE(d.fastdp);
  EXPECT_EQ(d.why, "confirming the vxlan path");
  EXPECT_EQ(fdb(), kHeartbeatOnly);
  // Still no answer after the timeout.
  clock_.advance(6s);
  d = decide(sw);
  EXPECT_EQ(d.why, "vxlan heartbeats unanswered");
  EXPECT_EQ(fdb(), kHeartbeatOnly);
  // An answer: flood entry and container MACs, fastdp with its RTT.
  path_.last_pong = clock_.now();
  path_.rtt = 300us;
  d = decide(sw);
  EXPECT_TRUE(d.fastdp);
  EXPECT_EQ(d.rtt, std::optional<Clock::Duration>(300us));
  EXPECT_EQ(fdb(), kForwarding);
  // A new container MAC on the peer is programmed; a gone one removed.
  offer_.macs = {mac(2), mac(3)};
  d = decide(sw);
  EXPECT_TRUE(d.fastdp);
  EXPECT_EQ(fdb(), (std::vector<std::string>{
                       "00:00:00:00:00:00 198.18.0.2", "02:00:00:00:00:02 198.18.0.2",
                       "02:00:00:00:00:03 198.18.0.2", "02:00:00:00:00:aa 198.18.0.2"}));
  // Heartbeats stop: after the timeout, back to the heartbeat entry only.
  clock_.advance(4s);
  EXPECT_TRUE(decide(sw).fastdp);
  clock_.advance(2s);
  d = decide(sw);
  EXPECT_FALSE(d.fastdp);
  EXPECT_EQ(d.why, "vxlan heartbeats unanswered");
  EXPECT_EQ(fdb(), kHeartbeatOnly);
  // They resume.
  path_.last_pong = clock_.now();
  EXPECT_TRUE(decide(sw).fastdp);
  offer_.macs = {mac(1), mac(2)};
  EXPECT_TRUE(decide(sw).fastdp);
  EXPECT_EQ(fdb(), kForwarding);
}

TEST_F(OverlaySwitchTest, SleeveModeNeverProgramsVxlan) {
  auto sw = make({.mode = DatapathMode::kSleeve});
  path_.last_pong = clock_.now();
  auto d = decide(sw);
  EXPECT_FALSE(d.fastdp);
  EXPECT_EQ(d.why, "fastdp disabled (--datapath sleeve)");
  EXPECT_TRUE(fdb().empty());
  EXPECT_EQ(nl_.calls("add_fdb"), 0u);
}

TEST_F(OverlaySwitchTest, EncryptionRequiredUnlessTrustedSubnet) {
  auto sw = make({.mode = DatapathMode::kAuto,
                  .encryption_required = true,
                  .trusted_subnets = {*parse_cidr("198.18.0.0/24")}});
  path_.last_pong = clock_.now();
  auto d = decide(sw, "198.18.1.7");
  EXPECT_FALSE(d.fastdp);
  EXPECT_EQ(d.why, "encryption required");
  EXPECT_TRUE(fdb().empty());
  EXPECT_TRUE(decide(sw, "198.18.0.2").fastdp);
  EXPECT_EQ(fdb(), kForwarding);
}

TEST_F(OverlaySwitchTest, WhatThePeerOffers) {
  auto sw = make();
  path_.last_pong = clock_.now();
  DatapathInfo none = offer_;
  none.fastdp = false;
  EXPECT_EQ(decide(sw, "198.18.0.2", &none).why, "peer offers no fastdp");
  DatapathInfo no_device = offer_;
  no_device.vxlan.clear();
  EXPECT_EQ(decide(sw, "198.18.0.2", &no_device).why, "waiting for the peer's vxlan device");
  EXPECT_TRUE(fdb().empty());
  // Once forwarding, a peer that withdraws its offer loses every entry.
  EXPECT_TRUE(decide(sw).fastdp);
  EXPECT_EQ(decide(sw, "198.18.0.2", &none).why, "peer offers no fastdp");
  EXPECT_TRUE(fdb().empty());
}

TEST_F(OverlaySwitchTest, LocalPathUnavailable) {
  auto sw = make();
  path_ = {.ready = false, .error = "no vxlan in this kernel", .last_pong = {}, .rtt = {}};
  auto d = decide(sw);
  EXPECT_FALSE(d.fastdp);
  EXPECT_EQ(d.why, "fastdp unavailable here: no vxlan in this kernel");
  EXPECT_TRUE(fdb().empty());
}

TEST_F(OverlaySwitchTest, NetlinkFailureLeavesNothingHalfProgrammed) {
  auto sw = make();
  path_.last_pong = clock_.now();
  nl_.fail_next("add_fdb", Errc::kIo);
  auto d = decide(sw);
  EXPECT_FALSE(d.fastdp);
  EXPECT_EQ(d.why.rfind("cannot program vxlan: ", 0), 0u) << d.why;
  EXPECT_TRUE(fdb().empty());
  EXPECT_TRUE(decide(sw).fastdp);
  EXPECT_EQ(fdb(), kForwarding);
}

TEST_F(OverlaySwitchTest, RetainDropsDisconnectedPeers) {
  auto sw = make();
  path_.last_pong = clock_.now();
  EXPECT_TRUE(decide(sw).fastdp);
  sw.retain({});
  EXPECT_TRUE(fdb().empty());
  EXPECT_FALSE(fastdp_.has_peer(peer_));
}

TEST(DatapathMode, ParsesAndPrints) {
  for (auto m : {DatapathMode::kAuto, DatapathMode::kFastdp, DatapathMode::kSleeve}) {
    EXPECT_EQ(parse_datapath_mode(to_string(m)).value(), m);
  }
  EXPECT_FALSE(parse_datapath_mode("vxlan"));
}

}  // namespace
}  // namespace weft::datapath
