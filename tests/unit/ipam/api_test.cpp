// The typed IPAM operations of ipam/api.hpp (what weftd's /ip and /peer routes answer)
// against one seeded allocator.
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
  Allocator& a() { return lb_[0x0a0000000001]; }
  static Cidr cidr(std::string_view text) { return parse_host_cidr(text).value(); }
  static std::vector<Cidr> cidrs(std::initializer_list<std::string_view> texts) {
    std::vector<Cidr> out;
    for (auto t : texts)
      out.push_back(cidr(t));
    return out;
  }
  test::Loopback lb_;
};

TEST_F(ApiTest, AllocateLookupClaimRelease) {
  auto r = allocate(a(), "abc", "eth0", FamilyChoice::kDefault);
  EXPECT_EQ(r.status, 200) << r.error;
  EXPECT_EQ(r.value, cidrs({"10.32.0.1/12", "fd00:19::1/48"}));
  EXPECT_EQ(allocate(a(), "abc", "eth0", FamilyChoice::kDefault).value, r.value) << "idempotent";
  EXPECT_EQ(allocate(a(), "def", "eth1", FamilyChoice::kV4).value, cidrs({"10.32.0.2/12"}));
  EXPECT_EQ(allocate(a(), "sub", "net1", FamilyChoice::kDefault, cidr("10.32.8.0/24")).value,
            cidrs({"10.32.8.1/24"}));
  const Cidr ip99 = Cidr::single(parse_ip_address("10.32.0.99").value());
  EXPECT_EQ(claim(a(), "xyz", "eth0", ip99).value, cidrs({"10.32.0.99/12"}));
  EXPECT_EQ(claim(a(), "other", "eth0", ip99).status, 409);
  EXPECT_EQ(claim(a(), "far", "eth0", Cidr::single(parse_ip_address("10.47.255.1").value())).status,
            409)
      << "owned by the other peer";
  EXPECT_EQ(lookup(a(), "abc").value, cidrs({"10.32.0.1/12", "fd00:19::1/48"}));
  auto nobody = lookup(a(), "nobody");
  EXPECT_EQ(nobody.status, 404);
  EXPECT_EQ(nobody.error, "no address for nobody");
  EXPECT_EQ(list(a()).value.size(), 5u);
  EXPECT_EQ(release_one(a(), "abc", parse_ip_address("10.32.0.1").value()).value, 1u);
  EXPECT_EQ(release(a(), "abc").value, 1u);
  EXPECT_EQ(release(a(), "abc").value, 0u);
  EXPECT_EQ(release(a(), "def", "eth0").value, 0u) << "only that interface's";
  EXPECT_EQ(release(a(), "def", "eth1").value, 1u);
  auto outside = allocate(a(), "bad", "eth0", FamilyChoice::kDefault, cidr("10.99.0.0/24"));
  EXPECT_EQ(outside.status, 400) << outside.error;
  EXPECT_FALSE(outside.error.empty());
}

TEST_F(ApiTest, RmpeerAndStatus) {
  EXPECT_EQ(rmpeer(a(), "not-a-name").status, 400);
  auto r = rmpeer(a(), "0a:00:00:00:00:02");
  EXPECT_EQ(r.status, 200) << r.error;
  EXPECT_GT(r.value, 0u);
  auto again = rmpeer(a(), "0a:00:00:00:00:02");
  EXPECT_EQ(again.status, 404);
  EXPECT_NE(again.error.find("owns no range"), std::string::npos) << again.error;
  const auto js = status_json(a().status());
  EXPECT_EQ(js["peer"], "0a:00:00:00:00:01");
  EXPECT_EQ(js["ready"], true);
  ASSERT_EQ(js["rings"].size(), 2u);
  EXPECT_EQ(js["rings"][0]["range"], "10.32.0.0-10.47.255.255");
  EXPECT_EQ(js["rings"][0]["peers"].size(), 1u);
  EXPECT_EQ(js["rings"][0]["peers"][0]["share"], 1.0);
}

}  // namespace
}  // namespace weft::ipam
