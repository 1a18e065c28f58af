// `weft expose` / `weft hide` with a real weftd: a container behind the bridge reaches a host
// outside the overlay (which has no route back) only while its subnet is exposed, over IPv4
// and IPv6; exposed addresses survive a weftd restart.
#include <gtest/gtest.h>

#include "common/attach.hpp"
#include "tests/support/netns_fixture.hpp"
#include "tests/support/weft_lab.hpp"
#include <fmt/format.h>

namespace weft::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

std::size_t exposed_count(const WeftHost& h) {
  json r = h.report();
  json e = r["router"]["dataplane"]["exposed"];
  return e.is_array() ? e.size() : 0;
}

TEST(ExposeNetnsTest, ExposedSubnetsReachTheOutsideThroughMasquerade) {
  WEFT_REQUIRE_ROOT();
  WeftLab lab;
  ASSERT_EQ(lab.error(), "");
  ASSERT_TRUE(lab.add_host("h1", {"198.18.0.1/24", "fd00:18::1/64"}));
  ASSERT_TRUE(lab.add_host("ext", {"198.18.0.100/24", "fd00:18::100/64"}));
  WeftHost& h1 = lab.host("h1");
  ASSERT_TRUE(h1.start_weftd({"--no-discovery"}));
  ASSERT_EQ(eventually(
                [&] {
                  json r = h1.report();
                  return r["router"]["dataplane"].is_object() ? "" : std::string("no dataplane");
                },
                20s),
            "")
      << lab.logs();

  ScopedNetns c;
  ASSERT_TRUE(c.ok());
  AttachSpec spec;
  spec.host_netns = &h1.ns().netns();
  spec.container_netns = &c.netns();
  spec.host_ifname = "vc1";
  spec.addresses = {prefix("198.19.1.1/16"), prefix("fd00:19::1:1/64")};
  // No default routes yet: their gateways appear on-link only once exposed.
  ASSERT_TRUE(attach_container(spec));
  EXPECT_FALSE(ping_ok(c.name(), "198.18.0.100", 1));

  CommandResult r = h1.weft("expose 198.19.0.1/16 fd00:19::1/64");
  ASSERT_TRUE(r.ok()) << r.out << lab.logs();
  EXPECT_NE(r.out.find("exposed"), std::string::npos) << r.out;
  ASSERT_TRUE(c.run("ip route add default via 198.19.0.1 && ip -6 route add default via "
                    "fd00:19::1")
                  .ok());
  EXPECT_TRUE(ping_ok(c.name(), "198.18.0.100"));
  EXPECT_TRUE(ping_ok(c.name(), "fd00:18::100"));
  EXPECT_TRUE(ping_ok(h1.netns(), "198.19.1.1"));  // the host reaches the container
  EXPECT_EQ(exposed_count(h1), 2u);
  const std::string rules = h1.ns().run("nft list table inet weft").out;
  EXPECT_NE(rules.find("masquerade"), std::string::npos) << rules;

  r = h1.weft("hide 198.19.0.1/16");
  ASSERT_TRUE(r.ok()) << r.out;
  EXPECT_FALSE(ping_ok(c.name(), "198.18.0.100", 1));
  EXPECT_TRUE(ping_ok(c.name(), "fd00:18::100"));

  // Restart: the exposed IPv6 address (kept on the bridge) is exposed again, NAT included.
  EXPECT_EQ(h1.stop_weftd(), 0);
  ASSERT_TRUE(h1.start_weftd({"--no-discovery"}));
  ASSERT_EQ(eventually([&] { return exposed_count(h1) == 1 ? "" : std::string("not yet"); }, 20s),
            "")
      << lab.logs();
  EXPECT_TRUE(ping_ok(c.name(), "fd00:18::100"));
  EXPECT_FALSE(ping_ok(c.name(), "198.18.0.100", 1));

  // Bad input is refused with a clear message.
  r = h1.weft("expose not-an-address");
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.out.find("not-an-address"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace weft::test
