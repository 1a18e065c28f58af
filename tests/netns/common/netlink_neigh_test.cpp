// Permanent neighbour (ARP / NDP) entries, checked through the wrapper and `ip neigh`.
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

// lladdr and state of `dst` in `ip -j neigh show dev DEV`, or null.
nlohmann::json ip_neigh(const test::ScopedNetns& ns, const std::string& dev,
                        const std::string& dst) {
  const auto j = ns.json("ip -j neigh show dev " + dev);
  if (j.is_array()) {
    for (const auto& n : j) {
      if (n["dst"] == dst) {
        return n;
      }
    }
  }
  return nullptr;
}

TEST(NetlinkNeigh, PermanentEntriesV4AndV6) {
  WEFT_REQUIRE_ROOT();
  WEFT_SCOPED_NETNS(ns);
  auto opened = open_netlink(ns.netns());
  WEFT_ASSERT_OK(opened);
  Netlink& nl = **opened;
  WEFT_ASSERT_OK(nl.create_bridge("weft", std::nullopt));
  WEFT_ASSERT_OK(nl.add_address("weft", prefix("198.19.3.1/24")));
  WEFT_ASSERT_OK(nl.add_address("weft", prefix("fd00:19:3::1/64")));
  WEFT_ASSERT_OK(nl.set_up("weft"));

  WEFT_ASSERT_OK(nl.add_neigh("weft", ip("198.19.3.5"), mac("02:00:00:00:03:05")));
  WEFT_ASSERT_OK(nl.add_neigh("weft", ip("fd00:19:3::5"), mac("02:00:00:00:03:06")));
  auto v4 = ip_neigh(ns, "weft", "198.19.3.5");
  EXPECT_EQ(v4["lladdr"], "02:00:00:00:03:05");
  EXPECT_TRUE(test::has_flag(v4["state"], "PERMANENT")) << v4.dump();
  auto v6 = ip_neigh(ns, "weft", "fd00:19:3::5");
  EXPECT_EQ(v6["lladdr"], "02:00:00:00:03:06");
  EXPECT_TRUE(test::has_flag(v6["state"], "PERMANENT")) << v6.dump();

  auto list = nl.list_neigh("weft");
  WEFT_ASSERT_OK(list);
  auto find = [&](const IpAddress& a) {
    return std::find_if(list->begin(), list->end(), [&](const Neighbour& n) { return n.ip == a; });
  };
  ASSERT_NE(find(ip("198.19.3.5")), list->end());
  EXPECT_EQ(find(ip("198.19.3.5"))->mac, mac("02:00:00:00:03:05"));
  EXPECT_TRUE(find(ip("198.19.3.5"))->permanent);
  ASSERT_NE(find(ip("fd00:19:3::5")), list->end());
  EXPECT_EQ(find(ip("fd00:19:3::5"))->mac, mac("02:00:00:00:03:06"));

  // Adding again replaces the MAC.
  WEFT_ASSERT_OK(nl.add_neigh("weft", ip("198.19.3.5"), mac("02:00:00:00:03:07")));
  EXPECT_EQ(ip_neigh(ns, "weft", "198.19.3.5")["lladdr"], "02:00:00:00:03:07");

  WEFT_ASSERT_OK(nl.del_neigh("weft", ip("198.19.3.5")));
  WEFT_ASSERT_OK(nl.del_neigh("weft", ip("fd00:19:3::5")));
  EXPECT_TRUE(ip_neigh(ns, "weft", "198.19.3.5").is_null());
  EXPECT_TRUE(ip_neigh(ns, "weft", "fd00:19:3::5").is_null());
  list = nl.list_neigh("weft");
  WEFT_ASSERT_OK(list);
  EXPECT_EQ(find(ip("198.19.3.5")), list->end());
  EXPECT_EQ(errc_of(nl.del_neigh("weft", ip("198.19.3.5"))), Errc::kNotFound);
  EXPECT_EQ(errc_of(nl.add_neigh("missing0", ip("198.19.3.5"), mac("02:00:00:00:03:05"))),
            Errc::kNotFound);
}

}  // namespace
}  // namespace weft
