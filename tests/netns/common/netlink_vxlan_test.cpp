// Kernel VXLAN devices (fast datapath) and their FDB: flood entries for head-end
// replication (several all-zero entries, one per peer) and static remote-MAC entries,
// checked through the wrapper, `ip -d link` and `bridge fdb show`, and with real traffic
// between two "hosts" over IPv4 and IPv6 underlays.
#include <algorithm>

#include <gtest/gtest.h>

#include "common/netlink.hpp"
#include "tests/support/netns_fixture.hpp"

namespace weft {
namespace {

using test::errc_of;
using test::ip;
using test::mac;
using test::prefix;

constexpr std::uint32_t kVni = 0x574546;  // fixed VNI of the overlay
const MacAddress kZero{};

std::unique_ptr<Netlink> open_or_fail(const test::ScopedNetns& ns) {
  auto nl = open_netlink(ns.netns());
  EXPECT_TRUE(nl) << nl.error().to_string();
  return nl ? std::move(*nl) : nullptr;
}

int count_self(const std::vector<FdbEntry>& fdb, const MacAddress& m, const IpAddress& dst) {
  return static_cast<int>(std::count_if(fdb.begin(), fdb.end(), [&](const FdbEntry& e) {
    return e.self && e.permanent && e.mac == m && e.dst == dst;
  }));
}

int count_bridge_fdb(const test::ScopedNetns& ns, const std::string& dev, const std::string& m,
                     const std::string& dst) {
  const auto j = ns.json("bridge -j fdb show dev " + dev);
  int n = 0;
  if (j.is_array()) {
    for (const auto& e : j) {
      if (e["mac"] == m && e.value("dst", "") == dst && test::has_flag(e["flags"], "self") &&
          e["state"] == "permanent") {
        ++n;
      }
    }
  }
  return n;
}

// The underlay of a host: a veth end `ul0` with `local`, its peer `ul1` in the same
// namespace (or elsewhere, for the traffic test).
void make_underlay(Netlink& nl, const Cidr& local) {
  WEFT_ASSERT_OK(nl.create_veth({"ul0", "ul1", nullptr, std::nullopt}));
  WEFT_ASSERT_OK(nl.add_address("ul0", local));
  WEFT_ASSERT_OK(nl.set_up("ul0"));
}

struct FamilyCase {
  const char* name;
  const char* local;  // with prefix
  const char* peer1;
  const char* peer2;
};

// GoogleTest's printer hook (its name is fixed by GoogleTest).
void PrintTo(const FamilyCase& c, std::ostream* os) {  // NOLINT(readability-identifier-naming)
  *os << c.name;
}

class NetlinkVxlanFdb : public ::testing::TestWithParam<FamilyCase> {};

TEST_P(NetlinkVxlanFdb, DeviceOnBridgeWithFloodAndStaticEntries) {
  WEFT_REQUIRE_ROOT();
  const FamilyCase& c = GetParam();
  WEFT_SCOPED_NETNS(ns);
  auto nl = open_or_fail(ns);
  ASSERT_TRUE(nl);
  const Cidr local = prefix(c.local);
  const bool v6 = local.address().is_v6();
  const std::string dev = v6 ? "weft-vx6" : "weft-vx4";
  make_underlay(*nl, local);
  WEFT_ASSERT_OK(nl->create_bridge("weft", std::nullopt));

  VxlanConfig cfg;
  cfg.name = dev;
  cfg.vni = kVni;
  cfg.local = local.address();
  cfg.underlay_device = "ul0";
  cfg.mtu = v6 ? 1430 : 1450;
  WEFT_ASSERT_OK(nl->create_vxlan(cfg));
  WEFT_ASSERT_OK(nl->set_master(dev, "weft"));
  WEFT_ASSERT_OK(nl->set_up(dev));
  WEFT_ASSERT_OK(nl->set_up("weft"));

  auto info = nl->link_by_name(dev);
  WEFT_ASSERT_OK(info);
  EXPECT_EQ(info->kind, "vxlan");
  EXPECT_EQ(info->master_name, "weft");
  EXPECT_EQ(info->mtu, *cfg.mtu);
  ASSERT_TRUE(info->vxlan.has_value());
  EXPECT_EQ(info->vxlan->vni, kVni);
  EXPECT_EQ(info->vxlan->port, 6784);
  EXPECT_EQ(info->vxlan->local, local.address());
  EXPECT_FALSE(info->vxlan->learning);
  EXPECT_EQ(info->vxlan->underlay_index, nl->link_by_name("ul0")->index);

  const auto j = ns.json("ip -j -d link show dev " + dev);
  ASSERT_TRUE(j.is_array() && j.size() == 1);
  const auto& data = j[0]["linkinfo"]["info_data"];
  EXPECT_EQ(j[0]["linkinfo"]["info_kind"], "vxlan");
  EXPECT_EQ(data["id"], kVni);
  EXPECT_EQ(data[v6 ? "local6" : "local"], local.address().to_string());
  EXPECT_EQ(data["port"], 6784);
  EXPECT_EQ(data["learning"], false);
  EXPECT_EQ(data["link"], "ul0");
  if (v6) {
    EXPECT_EQ(data["udp_zero_csum6_tx"], false);
    EXPECT_EQ(data["udp_zero_csum6_rx"], false);
  } else {
    EXPECT_EQ(data["udp_csum"], true);
  }
  EXPECT_EQ(j[0]["master"], "weft");
  EXPECT_EQ(j[0]["mtu"], *cfg.mtu);

  // Head-end replication: one all-zero entry per peer; appending twice is harmless.
  const IpAddress p1 = ip(c.peer1);
  const IpAddress p2 = ip(c.peer2);
  const MacAddress remote = mac("02:57:00:00:00:09");
  WEFT_ASSERT_OK(nl->add_fdb(dev, kZero, p1, FdbMode::kAppend));
  WEFT_ASSERT_OK(nl->add_fdb(dev, kZero, p2, FdbMode::kAppend));
  WEFT_ASSERT_OK(nl->add_fdb(dev, kZero, p2, FdbMode::kAppend));
  WEFT_ASSERT_OK(nl->add_fdb(dev, remote, p1, FdbMode::kReplace));
  auto fdb = nl->list_fdb(dev);
  WEFT_ASSERT_OK(fdb);
  EXPECT_EQ(count_self(*fdb, kZero, p1), 1);
  EXPECT_EQ(count_self(*fdb, kZero, p2), 1);
  EXPECT_EQ(count_self(*fdb, remote, p1), 1);
  // The bridge's entry for the device's own MAC shows up as a master entry.
  EXPECT_TRUE(std::any_of(fdb->begin(), fdb->end(), [&](const FdbEntry& e) {
    return !e.self && e.master == "weft" && e.mac == info->mac;
  }));
  const std::string zero = "00:00:00:00:00:00";
  EXPECT_EQ(count_bridge_fdb(ns, dev, zero, c.peer1), 1);
  EXPECT_EQ(count_bridge_fdb(ns, dev, zero, c.peer2), 1);
  EXPECT_EQ(count_bridge_fdb(ns, dev, "02:57:00:00:00:09", c.peer1), 1);

  // A static entry is replaced, not duplicated, when the MAC moves to another peer.
  WEFT_ASSERT_OK(nl->add_fdb(dev, remote, p2, FdbMode::kReplace));
  EXPECT_EQ(count_bridge_fdb(ns, dev, "02:57:00:00:00:09", c.peer1), 0);
  EXPECT_EQ(count_bridge_fdb(ns, dev, "02:57:00:00:00:09", c.peer2), 1);
  fdb = nl->list_fdb(dev);
  WEFT_ASSERT_OK(fdb);
  EXPECT_EQ(count_self(*fdb, remote, p2), 1);
  EXPECT_EQ(count_self(*fdb, remote, p1), 0);

  // Removing one peer's flood entry keeps the other.
  WEFT_ASSERT_OK(nl->del_fdb(dev, kZero, p1));
  EXPECT_EQ(count_bridge_fdb(ns, dev, zero, c.peer1), 0);
  EXPECT_EQ(count_bridge_fdb(ns, dev, zero, c.peer2), 1);
  fdb = nl->list_fdb(dev);
  WEFT_ASSERT_OK(fdb);
  EXPECT_EQ(count_self(*fdb, kZero, p1), 0);
  EXPECT_EQ(count_self(*fdb, kZero, p2), 1);
  // The kernel ignores a missing remote of a MAC that has others; a missing MAC is an error.
  WEFT_EXPECT_OK(nl->del_fdb(dev, kZero, p1));
  EXPECT_EQ(count_bridge_fdb(ns, dev, zero, c.peer2), 1);
  EXPECT_EQ(errc_of(nl->del_fdb(dev, mac("02:57:00:00:00:0a"), std::nullopt)), Errc::kNotFound);
  WEFT_ASSERT_OK(nl->del_fdb(dev, remote, std::nullopt));
  EXPECT_EQ(count_bridge_fdb(ns, dev, "02:57:00:00:00:09", c.peer2), 0);

  // A second device with the same VNI, port and family is refused.
  cfg.name = dev + "b";
  cfg.underlay_device.reset();
  auto dup = nl->create_vxlan(cfg);
  ASSERT_EQ(errc_of(dup), Errc::kAlreadyExists);
  EXPECT_NE(dup.error().message.find("VNI already exists"), std::string::npos)
      << dup.error().message;
  cfg.name = dev;
  dup = nl->create_vxlan(cfg);
  ASSERT_EQ(errc_of(dup), Errc::kAlreadyExists);
  EXPECT_EQ(dup.error().message.rfind("create vxlan " + dev + ": File exists", 0), 0u)
      << dup.error().message;
}

INSTANTIATE_TEST_SUITE_P(
    Underlay, NetlinkVxlanFdb,
    ::testing::Values(FamilyCase{"v4", "198.18.0.1/24", "198.18.0.2", "198.18.0.3"},
                      FamilyCase{"v6", "fd00:18::1/64", "fd00:18::2", "fd00:18::3"}),
    [](const auto& p) { return std::string(p.param.name); });

TEST(NetlinkVxlan, ChecksumAndConfigValidation) {
  WEFT_REQUIRE_ROOT();
  WEFT_SCOPED_NETNS(ns);
  auto nl = open_or_fail(ns);
  ASSERT_TRUE(nl);
  VxlanConfig cfg;
  cfg.name = "vx6z";
  cfg.vni = 7;
  cfg.local = ip("fd00:18::1");
  cfg.udp_checksum = false;
  WEFT_ASSERT_OK(nl->create_vxlan(cfg));
  const auto data = ns.json("ip -j -d link show dev vx6z")[0]["linkinfo"]["info_data"];
  EXPECT_EQ(data["udp_zero_csum6_tx"], true);
  EXPECT_EQ(data["udp_zero_csum6_rx"], true);

  cfg.name = "vxbad";
  cfg.vni = 1u << 24;
  EXPECT_EQ(errc_of(nl->create_vxlan(cfg)), Errc::kInvalidArgument);
  cfg.vni = 8;
  cfg.group = ip("239.1.1.1");
  EXPECT_EQ(errc_of(nl->create_vxlan(cfg)), Errc::kInvalidArgument);
  cfg.group.reset();
  cfg.underlay_device = "missing0";
  EXPECT_EQ(errc_of(nl->create_vxlan(cfg)), Errc::kNotFound);
  EXPECT_FALSE(ns.run("ip link show dev vxbad >/dev/null 2>&1").ok());
}

// Two hosts joined by an underlay veth; each has the bridge, a VXLAN device on it with a
// flood entry to the other host, and an overlay address on the bridge. A ping over the
// overlay only works if the FDB flood entries do their job.
TEST_P(NetlinkVxlanFdb, FloodEntriesCarryTrafficBetweenTwoHosts) {
  WEFT_REQUIRE_ROOT();
  const FamilyCase& c = GetParam();
  WEFT_SCOPED_NETNS(h1);
  WEFT_SCOPED_NETNS(h2);
  auto nl1 = open_or_fail(h1);
  auto nl2 = open_or_fail(h2);
  ASSERT_TRUE(nl1 && nl2);
  const Cidr u1 = prefix(c.local);
  const Cidr u2 = Cidr::make_host(ip(c.peer1), u1.prefix_length()).value();
  WEFT_ASSERT_OK(nl1->create_veth({"ul0", "ul0", &h2.netns(), std::nullopt}));
  struct Host {
    Netlink* nl;
    Cidr underlay;
    IpAddress peer;
    const char* overlay;
  };
  for (const Host& h : {Host{nl1.get(), u1, u2.address(), "198.19.5.1/24"},
                        Host{nl2.get(), u2, u1.address(), "198.19.5.2/24"}}) {
    WEFT_ASSERT_OK(h.nl->add_address("ul0", h.underlay));
    WEFT_ASSERT_OK(h.nl->set_up("ul0"));
    WEFT_ASSERT_OK(h.nl->create_bridge("weft", 1400));
    VxlanConfig cfg;
    cfg.name = "vx";
    cfg.vni = kVni;
    cfg.local = h.underlay.address();
    cfg.mtu = 1400;
    WEFT_ASSERT_OK(h.nl->create_vxlan(cfg));
    WEFT_ASSERT_OK(h.nl->set_master("vx", "weft"));
    WEFT_ASSERT_OK(h.nl->add_fdb("vx", kZero, h.peer, FdbMode::kAppend));
    WEFT_ASSERT_OK(h.nl->add_address("weft", prefix(h.overlay)));
    WEFT_ASSERT_OK(h.nl->set_up("vx"));
    WEFT_ASSERT_OK(h.nl->set_up("weft"));
  }
  EXPECT_TRUE(test::ping_ok(h1.name(), "198.19.5.2"));
  EXPECT_TRUE(test::ping_ok(h2.name(), "198.19.5.1"));
  // Without the flood entry there is no path: the ping above really used it.
  WEFT_ASSERT_OK(nl1->del_fdb("vx", kZero, u2.address()));
  WEFT_ASSERT_OK(nl2->del_fdb("vx", kZero, u1.address()));
  h1.run("ip neigh flush dev weft");
  h2.run("ip neigh flush dev weft");
  EXPECT_FALSE(test::ping_ok(h1.name(), "198.19.5.2", 1));
}

}  // namespace
}  // namespace weft
