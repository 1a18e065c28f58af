// Tests of MacAddress: text forms, rejects, flag bits, the 48-bit integer form used for
// peer names, ordering, hashing and formatting.
#include <sstream>
#include <string>
#include <unordered_set>
#include <vector>

#include <gtest/gtest.h>

#include "common/address.hpp"
#include "common/rng.hpp"

namespace weft {
namespace {

MacAddress mac(std::string_view text) {
  auto m = parse_mac_address(text);
  EXPECT_TRUE(m) << text << ": " << m.error().message;
  return m ? *m : MacAddress();
}

TEST(MacAddress, ParsesBothSeparatorsAnyCaseAndFormatsLowercase) {
  const MacAddress expected(MacAddress::Bytes{0xaa, 0xbb, 0xcc, 0x0d, 0xe0, 0xff});
  for (const char* text :
       {"aa:bb:cc:0d:e0:ff", "AA:BB:CC:0D:E0:FF", "aa-bb-cc-0d-e0-ff", "Aa-bB-cC-0d-E0-Ff"}) {
    SCOPED_TRACE(text);
    EXPECT_EQ(mac(text), expected);
  }
  EXPECT_EQ(expected.to_string(), "aa:bb:cc:0d:e0:ff");
  EXPECT_EQ(fmt::format("{}", expected), "aa:bb:cc:0d:e0:ff");
  EXPECT_EQ(MacAddress().to_string(), "00:00:00:00:00:00");
}

TEST(MacAddress, RejectsMalformedText) {
  const std::vector<std::pair<std::string, const char*>> cases = {
      {"", "expected 17 characters (6 groups of 2 hex digits), got 0"},
      {"aa:bb:cc:dd:ee", "got 14"},
      {"aa:bb:cc:dd:ee:ff:", "got 18"},
      {"a:b:c:d:e:f", "got 11"},
      {"aa:bb:cc:dd:ee:f", "got 16"},
      {"aa:bb-cc:dd:ee:ff", "expected ':' before group 3"},
      {"aa-bb-cc-dd-ee:ff", "expected '-' before group 6"},
      {"aa.bb.cc.dd.ee.ff", "separated by ':' or '-'"},
      {"aabb:ccdd:eeff:11", "separated by ':' or '-'"},
      {"aa:bb:cc:dd:ee:fg", "group 6 is not two hex digits"},
      {"-a:bb:cc:dd:ee:ff", "group 1 is not two hex digits"},
      {"aa:bb:cc:dd:ee:f ", "group 6 is not two hex digits"},
  };
  for (const auto& [text, reason] : cases) {
    SCOPED_TRACE(text);
    auto m = parse_mac_address(text);
    ASSERT_FALSE(m) << m->to_string();
    EXPECT_EQ(m.error().code, make_error_code(Errc::kInvalidArgument));
    EXPECT_NE(m.error().message.find(reason), std::string::npos) << m.error().message;
  }
  EXPECT_EQ(parse_mac_address("aa:bb").error().message,
            "invalid MAC address \"aa:bb\": expected 17 characters (6 groups of 2 hex digits), "
            "got 5");
}

TEST(MacAddress, FlagBits) {
  EXPECT_TRUE(mac("01:00:5e:00:00:01").is_multicast());
  EXPECT_FALSE(mac("01:00:5e:00:00:01").is_broadcast());
  EXPECT_FALSE(mac("00:00:5e:00:00:01").is_multicast());
  EXPECT_TRUE(mac("ff:ff:ff:ff:ff:ff").is_broadcast());
  EXPECT_TRUE(mac("ff:ff:ff:ff:ff:ff").is_multicast());
  EXPECT_FALSE(mac("ff:ff:ff:ff:ff:fe").is_broadcast());
  EXPECT_TRUE(mac("02:42:ac:11:00:02").is_local_admin());
  EXPECT_FALSE(mac("00:42:ac:11:00:02").is_local_admin());
  EXPECT_FALSE(mac("fd:42:ac:11:00:02").is_local_admin());
  EXPECT_TRUE(MacAddress().is_zero());
  EXPECT_FALSE(mac("00:00:00:00:00:01").is_zero());
}

TEST(MacAddress, RoundTripsThe48BitIntegerForm) {
  const MacAddress m = mac("aa:bb:cc:dd:ee:ff");
  EXPECT_EQ(m.to_uint64(), 0xaabbccddeeffULL);
  EXPECT_EQ(*MacAddress::from_uint64(0xaabbccddeeffULL), m);
  EXPECT_EQ(*MacAddress::from_uint64(0), MacAddress());
  EXPECT_EQ(MacAddress::from_uint64(0xffffffffffffULL)->to_string(), "ff:ff:ff:ff:ff:ff");
  auto big = MacAddress::from_uint64(1ULL << 48);
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error().message, "0x1000000000000 does not fit in 48 bits");

  SeededRng rng(48);
  for (int i = 0; i < 1000; ++i) {
    const std::uint64_t v = rng.next_u64() >> 16;
    auto from = MacAddress::from_uint64(v);
    ASSERT_TRUE(from);
    EXPECT_EQ(from->to_uint64(), v);
    // Text round trips; order follows the integer value.
    EXPECT_EQ(*parse_mac_address(from->to_string()), *from);
    const std::uint64_t w = rng.next_u64() >> 16;
    EXPECT_EQ(*from < *MacAddress::from_uint64(w), v < w);
  }
}

TEST(MacAddress, ComparesAndHashes) {
  EXPECT_LT(mac("00:00:00:00:00:ff"), mac("00:00:00:00:01:00"));
  EXPECT_EQ(mac("AA:BB:CC:DD:EE:FF"), mac("aa-bb-cc-dd-ee-ff"));
  std::unordered_set<MacAddress> set{mac("aa:bb:cc:dd:ee:ff"), mac("aa:bb:cc:dd:ee:fe"),
                                     mac("AA:BB:CC:DD:EE:FF")};
  EXPECT_EQ(set.size(), 2u);
  std::ostringstream out;
  out << mac("02:00:00:00:00:01");
  EXPECT_EQ(out.str(), "02:00:00:00:00:01");
}

}  // namespace
}  // namespace weft
