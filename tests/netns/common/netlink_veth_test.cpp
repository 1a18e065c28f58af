// The container plumbing weftd and weft-cni do: a bridge in the host namespace, a veth
// pair whose peer is created inside the container namespace and renamed eth0 there, MAC,
// addresses, routes (default routes too), hairpin; then real traffic with ping.
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

std::unique_ptr<Netlink> open_or_fail(const test::ScopedNetns& ns) {
  auto nl = open_netlink(ns.netns());
  EXPECT_TRUE(nl) << nl.error().to_string();
  return nl ? std::move(*nl) : nullptr;
}

bool ip_has_address(const test::ScopedNetns& ns, const std::string& dev, const std::string& addr,
                    int len) {
  const auto j = ns.json("ip -j addr show dev " + dev);
  if (!j.is_array() || j.empty()) {
    return false;
  }
  for (const auto& a : j[0]["addr_info"]) {
    if (a["local"] == addr && a["prefixlen"] == len) {
      return true;
    }
  }
  return false;
}

// Finds a route in `ip -j route` output by its "dst" text ("default", "10.0.0.0/8").
nlohmann::json ip_route(const test::ScopedNetns& ns, const std::string& family_flag,
                        const std::string& dst) {
  const auto j = ns.json("ip " + family_flag + " -j route show table main");
  if (j.is_array()) {
    for (const auto& r : j) {
      if (r["dst"] == dst) {
        return r;
      }
    }
  }
  return nullptr;
}

bool has_route(const std::vector<Route>& routes, const Route& want) {
  for (const auto& r : routes) {
    if (r.dst == want.dst && r.gateway == want.gateway && r.device == want.device &&
        (want.metric == 0 || r.metric == want.metric)) {
      return true;
    }
  }
  return false;
}

bool has_address(const std::vector<Cidr>& list, const Cidr& want) {
  return std::find(list.begin(), list.end(), want) != list.end();
}

TEST(NetlinkVeth, ContainerPairWithAddressesRoutesHairpinAndPing) {
  WEFT_REQUIRE_ROOT();
  WEFT_SCOPED_NETNS(host);
  WEFT_SCOPED_NETNS(container);
  auto nl = open_or_fail(host);
  auto cnl = open_or_fail(container);
  ASSERT_TRUE(nl && cnl);

  // Host side: the bridge with a gateway address, like `weft expose`.
  WEFT_ASSERT_OK(nl->create_bridge("weft", std::nullopt));
  WEFT_ASSERT_OK(nl->add_address("weft", prefix("198.19.0.1/24")));
  WEFT_ASSERT_OK(nl->add_address("weft", prefix("fd00:19::1/64")));
  WEFT_ASSERT_OK(nl->set_up("weft"));

  // The veth: peer created directly in the container namespace.
  WEFT_ASSERT_OK(nl->create_veth({"vethwepl1", "vethwepg1", &container.netns(), 1400}));
  EXPECT_EQ(errc_of(nl->link_by_name("vethwepg1")), Errc::kNotFound);
  WEFT_ASSERT_OK(nl->set_master("vethwepl1", "weft"));
  WEFT_ASSERT_OK(nl->set_hairpin("vethwepl1", true));
  WEFT_ASSERT_OK(nl->set_up("vethwepl1"));

  // Container side: rename, MAC, addresses, up, routes.
  WEFT_ASSERT_OK(cnl->rename("vethwepg1", "eth0"));
  WEFT_ASSERT_OK(cnl->set_mac("eth0", mac("02:19:00:00:00:02")));
  WEFT_ASSERT_OK(cnl->add_address("eth0", prefix("198.19.0.2/24")));
  WEFT_ASSERT_OK(cnl->add_address("eth0", prefix("fd00:19::2/64")));
  WEFT_ASSERT_OK(cnl->set_up("lo"));
  WEFT_ASSERT_OK(cnl->set_up("eth0"));
  const Route def4{prefix("0.0.0.0/0"), ip("198.19.0.1"), "eth0", 0, kMainTable};
  const Route def6{prefix("::/0"), ip("fd00:19::1"), "eth0", 0, kMainTable};
  const Route extra4{prefix("198.19.128.0/17"), ip("198.19.0.1"), "eth0", 50, kMainTable};
  WEFT_ASSERT_OK(cnl->add_route(def4));
  WEFT_ASSERT_OK(cnl->add_route(def6));
  WEFT_ASSERT_OK(cnl->add_route(extra4));

  // The wrapper's view.
  auto eth0 = cnl->link_by_name("eth0");
  WEFT_ASSERT_OK(eth0);
  EXPECT_EQ(eth0->kind, "veth");
  EXPECT_EQ(eth0->mtu, 1400u);
  EXPECT_EQ(eth0->mac.to_string(), "02:19:00:00:00:02");
  EXPECT_TRUE(eth0->up);
  auto host_end = nl->link_by_name("vethwepl1");
  WEFT_ASSERT_OK(host_end);
  EXPECT_EQ(host_end->master_name, "weft");
  auto hp = nl->hairpin("vethwepl1");
  WEFT_ASSERT_OK(hp);
  EXPECT_TRUE(*hp);
  auto addrs = cnl->list_addresses("eth0");
  WEFT_ASSERT_OK(addrs);
  EXPECT_TRUE(has_address(*addrs, prefix("198.19.0.2/24")));
  EXPECT_TRUE(has_address(*addrs, prefix("fd00:19::2/64")));
  auto routes4 = cnl->list_routes(IpFamily::kV4);
  WEFT_ASSERT_OK(routes4);
  EXPECT_TRUE(has_route(*routes4, def4));
  EXPECT_TRUE(has_route(*routes4, extra4));
  // The kernel's own prefix route is listed too.
  EXPECT_TRUE(has_route(*routes4, Route{prefix("198.19.0.0/24"), std::nullopt, "eth0"}));
  auto routes6 = cnl->list_routes(IpFamily::kV6);
  WEFT_ASSERT_OK(routes6);
  EXPECT_TRUE(has_route(*routes6, def6));
  for (const auto& r : *routes6) {
    EXPECT_TRUE(r.dst.address().is_v6()) << r.dst.to_string();
  }

  // iproute2's view.
  const auto j = container.json("ip -j -d link show dev eth0");
  ASSERT_TRUE(j.is_array() && j.size() == 1);
  EXPECT_EQ(j[0]["linkinfo"]["info_kind"], "veth");
  EXPECT_EQ(j[0]["address"], "02:19:00:00:00:02");
  EXPECT_EQ(j[0]["mtu"], 1400);
  EXPECT_TRUE(test::has_flag(j[0]["flags"], "UP"));
  EXPECT_TRUE(ip_has_address(container, "eth0", "198.19.0.2", 24));
  EXPECT_TRUE(ip_has_address(container, "eth0", "fd00:19::2", 64));
  EXPECT_TRUE(ip_has_address(host, "weft", "198.19.0.1", 24));
  const auto r4 = ip_route(container, "-4", "default");
  EXPECT_EQ(r4["gateway"], "198.19.0.1");
  EXPECT_EQ(r4["dev"], "eth0");
  const auto r6 = ip_route(container, "-6", "default");
  EXPECT_EQ(r6["gateway"], "fd00:19::1");
  EXPECT_EQ(r6["dev"], "eth0");
  const auto rx = ip_route(container, "-4", "198.19.128.0/17");
  EXPECT_EQ(rx["gateway"], "198.19.0.1");
  EXPECT_EQ(rx["metric"], 50);
  const auto port = host.json("bridge -d -j link show dev vethwepl1");
  ASSERT_TRUE(port.is_array() && port.size() == 1) << port.dump();
  EXPECT_EQ(port[0]["hairpin"], true);
  EXPECT_EQ(port[0]["master"], "weft");

  // Traffic both families, both directions.
  EXPECT_TRUE(test::ping_ok(container.name(), "198.19.0.1"));
  EXPECT_TRUE(test::ping_ok(container.name(), "fd00:19::1"));
  EXPECT_TRUE(test::ping_ok(host.name(), "198.19.0.2"));
  EXPECT_TRUE(test::ping_ok(host.name(), "fd00:19::2"));

  // Hairpin off, route and address removal.
  WEFT_ASSERT_OK(nl->set_hairpin("vethwepl1", false));
  EXPECT_FALSE(*nl->hairpin("vethwepl1"));
  EXPECT_EQ(host.json("bridge -d -j link show dev vethwepl1")[0]["hairpin"], false);
  WEFT_ASSERT_OK(cnl->del_route(def4));
  EXPECT_TRUE(ip_route(container, "-4", "default").is_null());
  EXPECT_FALSE(has_route(*cnl->list_routes(IpFamily::kV4), def4));
  EXPECT_EQ(errc_of(cnl->del_route(def4)), Errc::kNotFound);
  WEFT_ASSERT_OK(cnl->del_address("eth0", prefix("fd00:19::2/64")));
  EXPECT_FALSE(ip_has_address(container, "eth0", "fd00:19::2", 64));
  EXPECT_EQ(errc_of(cnl->del_address("eth0", prefix("fd00:19::2/64"))), Errc::kNotFound);
  EXPECT_FALSE(test::ping_ok(host.name(), "fd00:19::2", 1));
}

TEST(NetlinkVeth, TwoNamespacesOnOneVethPairPingEachOther) {
  WEFT_REQUIRE_ROOT();
  WEFT_SCOPED_NETNS(a);
  WEFT_SCOPED_NETNS(b);
  auto nla = open_or_fail(a);
  auto nlb = open_or_fail(b);
  ASSERT_TRUE(nla && nlb);
  WEFT_ASSERT_OK(nla->create_veth({"va", "vb", &b.netns(), std::nullopt}));
  WEFT_ASSERT_OK(nla->add_address("va", prefix("198.19.1.1/30")));
  WEFT_ASSERT_OK(nla->add_address("va", prefix("fd00:19:1::1/64")));
  WEFT_ASSERT_OK(nlb->add_address("vb", prefix("198.19.1.2/30")));
  WEFT_ASSERT_OK(nlb->add_address("vb", prefix("fd00:19:1::2/64")));
  WEFT_ASSERT_OK(nla->set_up("va"));
  WEFT_ASSERT_OK(nlb->set_up("vb"));
  EXPECT_TRUE(test::ping_ok(a.name(), "198.19.1.2"));
  EXPECT_TRUE(test::ping_ok(b.name(), "198.19.1.1"));
  EXPECT_TRUE(test::ping_ok(a.name(), "fd00:19:1::2"));
  EXPECT_TRUE(test::ping_ok(b.name(), "fd00:19:1::1"));
  // Taking one end down stops the traffic: the ping above was real.
  WEFT_ASSERT_OK(nlb->set_down("vb"));
  EXPECT_FALSE(test::ping_ok(a.name(), "198.19.1.2", 1));
}

TEST(NetlinkRoute, DuplicatesMetricsAndMissingRoutes) {
  WEFT_REQUIRE_ROOT();
  WEFT_SCOPED_NETNS(ns);
  auto nl = open_or_fail(ns);
  ASSERT_TRUE(nl);
  WEFT_ASSERT_OK(nl->create_bridge("br0", std::nullopt));
  WEFT_ASSERT_OK(nl->add_address("br0", prefix("198.19.2.1/24")));
  WEFT_ASSERT_OK(nl->add_address("br0", prefix("fd00:19:2::1/64")));
  WEFT_ASSERT_OK(nl->set_up("br0"));

  const Route dev_only{prefix("198.19.64.0/18"), std::nullopt, "br0", 0, kMainTable};
  const Route v6{prefix("fd00:19:99::/48"), ip("fd00:19:2::fe"), "br0", 300, kMainTable};
  const Route v6_default{prefix("::/0"), ip("fd00:19:2::fe"), "br0", 0, kMainTable};
  WEFT_ASSERT_OK(nl->add_route(dev_only));
  WEFT_ASSERT_OK(nl->add_route(v6));
  WEFT_ASSERT_OK(nl->add_route(v6_default));
  auto again = nl->add_route(dev_only);
  EXPECT_EQ(errc_of(again), Errc::kAlreadyExists) << (again ? "" : again.error().to_string());

  const auto r = ip_route(ns, "-4", "198.19.64.0/18");
  EXPECT_EQ(r["dev"], "br0");
  EXPECT_EQ(r["scope"], "link");
  EXPECT_FALSE(r.contains("gateway"));
  const auto r6 = ip_route(ns, "-6", "fd00:19:99::/48");
  EXPECT_EQ(r6["gateway"], "fd00:19:2::fe");
  EXPECT_EQ(r6["metric"], 300);
  EXPECT_EQ(ip_route(ns, "-6", "default")["gateway"], "fd00:19:2::fe");

  auto all = nl->list_routes(std::nullopt);
  WEFT_ASSERT_OK(all);
  EXPECT_TRUE(has_route(*all, dev_only));
  EXPECT_TRUE(has_route(*all, v6));
  EXPECT_TRUE(has_route(*all, v6_default));

  WEFT_ASSERT_OK(nl->del_route(v6));
  EXPECT_TRUE(ip_route(ns, "-6", "fd00:19:99::/48").is_null());
  EXPECT_EQ(errc_of(nl->del_route(v6)), Errc::kNotFound);
  EXPECT_EQ(errc_of(nl->add_route(Route{prefix("198.19.0.0/16"), std::nullopt, "", 0})),
            Errc::kInvalidArgument);
  EXPECT_EQ(errc_of(nl->add_route(Route{prefix("198.19.0.0/16"), ip("fd00::1"), "br0", 0})),
            Errc::kInvalidArgument);
}

}  // namespace
}  // namespace weft
