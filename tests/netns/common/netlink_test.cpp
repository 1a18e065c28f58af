// Netlink links (bridge, generic kinds, rename, master, move) and error mapping, checked
// through the wrapper and against `ip -j -d link` in the test's own namespaces.
#include "common/netlink.hpp"

#include <algorithm>

#include <gtest/gtest.h>

#include "tests/support/netns_fixture.hpp"

namespace weft {
namespace {

using test::errc_of;

std::unique_ptr<Netlink> open_or_fail(const test::ScopedNetns& ns) {
  auto nl = open_netlink(ns.netns());
  EXPECT_TRUE(nl) << nl.error().to_string();
  return nl ? std::move(*nl) : nullptr;
}

nlohmann::json link_json(const test::ScopedNetns& ns, const std::string& name) {
  const auto j = ns.json("ip -j -d link show dev " + name);
  return j.is_array() && j.size() == 1 ? j[0] : nlohmann::json();
}

bool link_exists_per_ip(const test::ScopedNetns& ns, const std::string& name) {
  return ns.run("ip link show dev " + name + " >/dev/null 2>&1").ok();
}

TEST(NetlinkLink, BridgeCreateMtuUpMacDelete) {
  WEFT_REQUIRE_ROOT();
  WEFT_SCOPED_NETNS(ns);
  auto nl = open_or_fail(ns);
  ASSERT_TRUE(nl);

  WEFT_ASSERT_OK(nl->create_bridge("weft", 1400));
  auto info = nl->link_by_name("weft");
  WEFT_ASSERT_OK(info);
  EXPECT_EQ(info->kind, "bridge");
  EXPECT_EQ(info->mtu, 1400u);
  EXPECT_FALSE(info->up);
  EXPECT_GT(info->index, 0);
  auto j = link_json(ns, "weft");
  EXPECT_EQ(j["linkinfo"]["info_kind"], "bridge");
  EXPECT_EQ(j["mtu"], 1400);
  EXPECT_EQ(j["ifindex"], info->index);
  EXPECT_FALSE(test::has_flag(j["flags"], "UP"));

  WEFT_ASSERT_OK(nl->set_up("weft"));
  WEFT_ASSERT_OK(nl->set_mtu("weft", 1376));
  WEFT_ASSERT_OK(nl->set_mac("weft", test::mac("02:57:45:46:54:01")));
  info = nl->link_by_name("weft");
  WEFT_ASSERT_OK(info);
  EXPECT_TRUE(info->up);
  EXPECT_EQ(info->mtu, 1376u);
  EXPECT_EQ(info->mac.to_string(), "02:57:45:46:54:01");
  j = link_json(ns, "weft");
  EXPECT_TRUE(test::has_flag(j["flags"], "UP"));
  EXPECT_EQ(j["mtu"], 1376);
  EXPECT_EQ(j["address"], "02:57:45:46:54:01");

  WEFT_ASSERT_OK(nl->set_down("weft"));
  info = nl->link_by_name("weft");
  WEFT_ASSERT_OK(info);
  EXPECT_FALSE(info->up);
  EXPECT_FALSE(test::has_flag(link_json(ns, "weft")["flags"], "UP"));

  auto links = nl->list_links();
  WEFT_ASSERT_OK(links);
  std::vector<std::string> names;
  for (const auto& l : *links) {
    names.push_back(l.name);
  }
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"lo", "weft"}));

  WEFT_ASSERT_OK(nl->delete_link("weft"));
  EXPECT_EQ(errc_of(nl->link_by_name("weft")), Errc::kNotFound);
  EXPECT_FALSE(link_exists_per_ip(ns, "weft"));
}

TEST(NetlinkLink, ErrorsCarryOperationObjectAndCode) {
  WEFT_REQUIRE_ROOT();
  WEFT_SCOPED_NETNS(ns);
  auto nl = open_or_fail(ns);
  ASSERT_TRUE(nl);

  WEFT_ASSERT_OK(nl->create_bridge("br-x", std::nullopt));
  auto dup = nl->create_bridge("br-x", std::nullopt);
  ASSERT_EQ(errc_of(dup), Errc::kAlreadyExists);
  EXPECT_EQ(dup.error().message.rfind("create bridge br-x: File exists", 0), 0u)
      << dup.error().message;

  auto missing = nl->delete_link("missing0");
  ASSERT_EQ(errc_of(missing), Errc::kNotFound);
  EXPECT_NE(missing.error().message.find("delete link missing0"), std::string::npos)
      << missing.error().message;
  EXPECT_EQ(errc_of(nl->set_mtu("missing0", 1400)), Errc::kNotFound);
  EXPECT_EQ(errc_of(nl->set_master("br-x", "missing0")), Errc::kNotFound);
  EXPECT_EQ(errc_of(nl->list_addresses("missing0")), Errc::kNotFound);

  EXPECT_EQ(errc_of(nl->create_bridge("name-longer-than-15", std::nullopt)),
            Errc::kInvalidArgument);
  EXPECT_EQ(errc_of(nl->create_bridge("a/b", std::nullopt)), Errc::kInvalidArgument);
  EXPECT_EQ(errc_of(nl->set_mtu("br-x", 10)), Errc::kInvalidArgument);
  EXPECT_FALSE(link_exists_per_ip(ns, "a/b"));
}

TEST(NetlinkLink, UnknownOrMissingKindsAreUnsupported) {
  WEFT_REQUIRE_ROOT();
  WEFT_SCOPED_NETNS(ns);
  auto nl = open_or_fail(ns);
  ASSERT_TRUE(nl);

  auto bogus = nl->create_link("bogus0", "weft-no-such-kind");
  ASSERT_EQ(errc_of(bogus), Errc::kUnsupported);
  EXPECT_NE(bogus.error().message.find("create weft-no-such-kind bogus0"), std::string::npos)
      << bogus.error().message;
  // The kernel's extended-ack reason is kept.
  EXPECT_NE(bogus.error().message.find("Unknown device type"), std::string::npos)
      << bogus.error().message;
  EXPECT_FALSE(link_exists_per_ip(ns, "bogus0"));

  // These modules are missing on our build machines (see ENVIRONMENT.md); where a kernel
  // has them, the link must really be created.
  for (const char* kind : {"wireguard", "dummy", "geneve", "openvswitch"}) {
    const std::string name = fmt::format("k-{}", kind).substr(0, 15);
    auto r = nl->create_link(name, kind);
    if (r) {
      auto info = nl->link_by_name(name);
      WEFT_ASSERT_OK(info);
      EXPECT_EQ(info->kind, kind);
      WEFT_EXPECT_OK(nl->delete_link(name));
    } else {
      EXPECT_TRUE(errc_of(r) == Errc::kUnsupported || errc_of(r) == Errc::kInvalidArgument)
          << kind << ": " << r.error().to_string();
      EXPECT_FALSE(link_exists_per_ip(ns, name));
    }
  }

  // The generic path creates kinds that exist.
  WEFT_ASSERT_OK(nl->create_link("br-generic", "bridge"));
  EXPECT_EQ(link_json(ns, "br-generic")["linkinfo"]["info_kind"], "bridge");
}

TEST(NetlinkLink, MasterRenameAndMoveToAnotherNamespace) {
  WEFT_REQUIRE_ROOT();
  WEFT_SCOPED_NETNS(host);
  WEFT_SCOPED_NETNS(other);
  auto nl = open_or_fail(host);
  auto nl_other = open_or_fail(other);
  ASSERT_TRUE(nl && nl_other);

  WEFT_ASSERT_OK(nl->create_bridge("br0", std::nullopt));
  WEFT_ASSERT_OK(nl->create_veth({"v0", "v1", nullptr, 1450}));
  auto v0 = nl->link_by_name("v0");
  WEFT_ASSERT_OK(v0);
  EXPECT_EQ(v0->kind, "veth");
  EXPECT_EQ(v0->mtu, 1450u);
  EXPECT_EQ(link_json(host, "v1")["mtu"], 1450);

  WEFT_ASSERT_OK(nl->set_master("v0", "br0"));
  v0 = nl->link_by_name("v0");
  WEFT_ASSERT_OK(v0);
  EXPECT_EQ(v0->master_name, "br0");
  EXPECT_EQ(v0->master_index, nl->link_by_name("br0")->index);
  EXPECT_EQ(link_json(host, "v0")["master"], "br0");
  WEFT_ASSERT_OK(nl->set_nomaster("v0"));
  EXPECT_EQ(nl->link_by_name("v0")->master_index, 0);
  EXPECT_FALSE(link_json(host, "v0").contains("master"));

  WEFT_ASSERT_OK(nl->rename("v1", "eth9"));
  EXPECT_EQ(errc_of(nl->link_by_name("v1")), Errc::kNotFound);
  EXPECT_TRUE(link_exists_per_ip(host, "eth9"));
  EXPECT_EQ(errc_of(nl->rename("eth9", "v0")), Errc::kAlreadyExists);
  EXPECT_EQ(errc_of(nl->rename("eth9", "bad/name")), Errc::kInvalidArgument);
  WEFT_ASSERT_OK(nl->set_up("eth9"));

  WEFT_ASSERT_OK(nl->move_to_netns("eth9", other.netns()));
  EXPECT_EQ(errc_of(nl->link_by_name("eth9")), Errc::kNotFound);
  EXPECT_FALSE(link_exists_per_ip(host, "eth9"));
  auto moved = nl_other->link_by_name("eth9");
  WEFT_ASSERT_OK(moved);
  EXPECT_EQ(moved->kind, "veth");
  EXPECT_EQ(link_json(other, "eth9")["linkinfo"]["info_kind"], "veth");
}

TEST(NetlinkLink, EachObjectStaysInItsNamespace) {
  WEFT_REQUIRE_ROOT();
  WEFT_SCOPED_NETNS(a);
  WEFT_SCOPED_NETNS(b);
  auto before = Netns::current();
  WEFT_ASSERT_OK(before);
  auto nl_a = open_or_fail(a);
  auto nl_b = open_or_fail(b);
  ASSERT_TRUE(nl_a && nl_b);
  // The same name in two namespaces does not clash.
  WEFT_ASSERT_OK(nl_a->create_bridge("same", 1300));
  WEFT_ASSERT_OK(nl_b->create_bridge("same", 1301));
  EXPECT_EQ(link_json(a, "same")["mtu"], 1300);
  EXPECT_EQ(link_json(b, "same")["mtu"], 1301);
  WEFT_ASSERT_OK(nl_a->delete_link("same"));
  EXPECT_FALSE(link_exists_per_ip(a, "same"));
  EXPECT_TRUE(link_exists_per_ip(b, "same"));
  EXPECT_EQ(nl_b->link_by_name("same")->mtu, 1301u);
  // None of this moved the test's own thread.
  auto after = Netns::current();
  WEFT_ASSERT_OK(after);
  EXPECT_TRUE(after->same_as(*before));
}

}  // namespace
}  // namespace weft
