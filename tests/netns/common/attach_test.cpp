// attach_container / detach_container against the real kernel: two containers on a bridge
// reach each other over IPv4 and IPv6; failures leave nothing behind; detach is idempotent.
#include "common/attach.hpp"

#include <gtest/gtest.h>

#include "tests/support/netns_fixture.hpp"

namespace weft::test {
namespace {

bool host_has_link(const ScopedNetns& ns, const std::string& name) {
  return ns.run("ip link show dev " + name + " >/dev/null 2>&1").ok();
}

class AttachTest : public testing::Test {
 protected:
  void SetUp() override {
    WEFT_REQUIRE_ROOT();
    ASSERT_TRUE(host_.ok()) << host_.error();
    auto nl = open_netlink(host_.netns());
    ASSERT_TRUE(nl);
    WEFT_ASSERT_OK((*nl)->create_bridge("weft", 1400u));
    WEFT_ASSERT_OK((*nl)->add_address("weft", prefix("198.19.0.1/16")));
    WEFT_ASSERT_OK((*nl)->add_address("weft", prefix("fd00:19::1/64")));
    WEFT_ASSERT_OK((*nl)->set_up("weft"));
  }
  AttachSpec spec(const ScopedNetns& c, const std::string& host_if, const std::string& v4,
                  const std::string& v6) {
    AttachSpec s;
    s.host_netns = &host_.netns();
    s.container_netns = &c.netns();
    s.host_ifname = host_if;
    s.ifname = "eth0";
    s.addresses = {prefix(v4), prefix(v6)};
    s.routes = {{.dst = prefix("0.0.0.0/0"), .gateway = ip("198.19.0.1")},
                {.dst = prefix("::/0"), .gateway = ip("fd00:19::1")}};
    s.hairpin = true;
    return s;
  }
  ScopedNetns host_;
  ScopedNetns c1_, c2_;
};

TEST_F(AttachTest, TwoContainersOnTheBridgeReachEachOtherAndTheHost) {
  auto s1 = spec(c1_, "vw1", "198.19.0.2/16", "fd00:19::2/64");
  s1.mac = mac("02:19:00:00:00:02");
  auto a1 = attach_container(s1);
  ASSERT_TRUE(a1) << a1.error().to_string();
  auto a2 = attach_container(spec(c2_, "vw2", "198.19.0.3/16", "fd00:19::3/64"));
  ASSERT_TRUE(a2) << a2.error().to_string();
  EXPECT_EQ(a1->mac, mac("02:19:00:00:00:02"));
  EXPECT_EQ(a1->mtu, 1400u);  // the bridge's, when none is given

  EXPECT_TRUE(ping_ok(c1_.name(), "198.19.0.3"));
  EXPECT_TRUE(ping_ok(c1_.name(), "fd00:19::3"));
  EXPECT_TRUE(ping_ok(c2_.name(), "198.19.0.1"));
  EXPECT_TRUE(ping_ok(c2_.name(), "fd00:19::1"));

  const auto links = host_.json("ip -j -d link show dev vw1");
  ASSERT_TRUE(links.is_array() && links.size() == 1);
  EXPECT_EQ(links[0]["master"], "weft");
  EXPECT_EQ(links[0]["linkinfo"]["info_slave_data"]["hairpin"], true);
  auto state = inspect_interface(c1_.netns(), "eth0");
  ASSERT_TRUE(state) << state.error().to_string();
  EXPECT_EQ(state->addresses.size(), 2u);
  EXPECT_EQ(state->link.mtu, 1400u);
  std::size_t defaults = 0;
  for (const auto& r : state->routes) {
    defaults += r.dst.prefix_length() == 0 ? 1 : 0;
  }
  EXPECT_EQ(defaults, 2u);

  WEFT_EXPECT_OK(detach_container(c1_.netns(), "eth0"));
  EXPECT_FALSE(host_has_link(host_, "vw1"));
  WEFT_EXPECT_OK(detach_container(c1_.netns(), "eth0"));  // again: still fine
  EXPECT_FALSE(ping_ok(c2_.name(), "198.19.0.2", 1));
}

TEST_F(AttachTest, AFailedAttachLeavesNothingBehind) {
  // A gateway outside every on-link prefix: the route is refused after the veth exists.
  auto s = spec(c1_, "vw1", "198.19.0.2/16", "fd00:19::2/64");
  s.routes = {{.dst = prefix("0.0.0.0/0"), .gateway = ip("203.0.113.1")}};
  auto a = attach_container(s);
  ASSERT_FALSE(a);
  EXPECT_FALSE(host_has_link(host_, "vw1"));
  EXPECT_FALSE(c1_.run("ip link show dev eth0 >/dev/null 2>&1").ok());

  // The container already has eth0: refused, and the existing one is untouched.
  ASSERT_TRUE(attach_container(spec(c1_, "vw1", "198.19.0.2/16", "fd00:19::2/64")));
  auto again = attach_container(spec(c1_, "vw9", "198.19.0.9/16", "fd00:19::9/64"));
  ASSERT_FALSE(again);
  EXPECT_EQ(errc_of(again), Errc::kAlreadyExists);
  EXPECT_FALSE(host_has_link(host_, "vw9"));
  EXPECT_TRUE(ping_ok(c1_.name(), "198.19.0.1"));

  // Not a bridge.
  auto bad = spec(c2_, "vw2", "198.19.0.3/16", "fd00:19::3/64");
  bad.bridge = "lo";
  EXPECT_EQ(errc_of(attach_container(bad)), Errc::kInvalidArgument);
}

}  // namespace
}  // namespace weft::test
