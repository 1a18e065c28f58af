// The Weave-shaped HTTP routes of ipam/api.hpp against one seeded allocator.
#include "ipam/api.hpp"

#include <gtest/gtest.h>

#include "tests/unit/ipam/loopback.hpp"

namespace weft::ipam {
namespace {

class ApiTest : public testing::Test {
 protected:
  ApiTest() : lb_(config()) {
    lb_.add(0x0a0000000001);
    lb_.add(0x0a0000000002);
    lb_.tick_all();
  }
  static AllocatorConfig config() {
    AllocatorConfig c;
    c.range_v4 = parse_cidr("10.32.0.0/12").value();
    c.range_v6 = parse_cidr("fd00:19::/48").value();
    c.bootstrap.mode = BootstrapConfig::Mode::kSeed;
    c.bootstrap.seeds = {0x0a0000000001, 0x0a0000000002};
    return c;
  }
  ApiResponse call(std::string method, std::string path, std::string query = "") {
    return handle_api(lb_[0x0a0000000001], {std::move(method), std::move(path), std::move(query)});
  }
  test::Loopback lb_;
};

TEST_F(ApiTest, AllocateLookupClaimRelease) {
  auto r = call("POST", "/ip/abc");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "10.32.0.1/12\nfd00:19::1/48\n");
  EXPECT_EQ(call("POST", "/ip/abc").body, r.body) << "idempotent";
  EXPECT_EQ(call("POST", "/ip/def", "family=ipv4&ifname=eth1").body, "10.32.0.2/12\n");
  EXPECT_EQ(call("POST", "/ip/sub/10.32.8.0/24", "ifname=net1").body, "10.32.8.1/24\n");
  EXPECT_EQ(call("PUT", "/ip/xyz/10.32.0.99").body, "10.32.0.99/12\n");
  EXPECT_EQ(call("PUT", "/ip/other/10.32.0.99").status, 409);
  EXPECT_EQ(call("PUT", "/ip/far/10.47.255.1").status, 409) << "owned by the other peer";
  EXPECT_EQ(call("GET", "/ip/abc").body, "10.32.0.1/12\nfd00:19::1/48\n");
  EXPECT_EQ(call("GET", "/ip/nobody").status, 404);
  auto list = nlohmann::json::parse(call("GET", "/ip").body);
  EXPECT_EQ(list.size(), 5u);
  EXPECT_EQ(call("DELETE", "/ip/abc/10.32.0.1").body, "1\n");
  EXPECT_EQ(call("DELETE", "/ip/abc").body, "1\n");
  EXPECT_EQ(call("DELETE", "/ip/abc").body, "0\n");
  EXPECT_EQ(call("POST", "/ip/bad", "family=ipx").status, 400);
  EXPECT_EQ(call("POST", "/ip/bad/10.99.0.0/24").status, 400);
  EXPECT_EQ(call("PATCH", "/ip/abc").status, 404);
  EXPECT_EQ(call("GET", "/nothing").status, 404);
  EXPECT_TRUE(is_ipam_path("/ip/abc"));
  EXPECT_FALSE(is_ipam_path("/status"));
}

TEST_F(ApiTest, RmpeerAndStatus) {
  EXPECT_EQ(call("DELETE", "/peer/not-a-name").status, 400);
  auto r = call("DELETE", "/peer/0a:00:00:00:00:02");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(call("DELETE", "/peer/0a:00:00:00:00:02").status, 404);
  const auto js = status_json(lb_[0x0a0000000001].status());
  EXPECT_EQ(js["peer"], "0a:00:00:00:00:01");
  EXPECT_EQ(js["ready"], true);
  ASSERT_EQ(js["rings"].size(), 2u);
  EXPECT_EQ(js["rings"][0]["range"], "10.32.0.0-10.47.255.255");
  EXPECT_EQ(js["rings"][0]["peers"].size(), 1u);
  EXPECT_EQ(js["rings"][0]["peers"][0]["share"], 1.0);
}

}  // namespace
}  // namespace weft::ipam
