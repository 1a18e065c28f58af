// DatapathInfo encoding: round trips, canonical MAC order, and every malformed shape refused.
#include "datapath/datapath_info.hpp"

#include <gtest/gtest.h>

#include "tests/support/netns_fixture.hpp"

namespace weft::datapath {
namespace {

using test::mac;

DatapathInfo sample() {
  DatapathInfo i;
  i.fastdp = true;
  i.sleeve = true;
  i.sleeve_aes = true;
  i.vxlan = {{IpFamily::kV4, mac("02:00:00:00:00:04")}, {IpFamily::kV6, mac("02:00:00:00:00:06")}};
  i.macs = {mac("02:19:00:00:00:03"), mac("02:19:00:00:00:02"), mac("02:19:00:00:00:03")};
  return i;
}

TEST(DatapathInfo, RoundTripsWithSortedUniqueMacs) {
  const auto bytes = encode_datapath_info(sample());
  auto parsed = parse_datapath_info(bytes);
  ASSERT_TRUE(parsed) << parsed.error().to_string();
  EXPECT_TRUE(parsed->fastdp);
  EXPECT_TRUE(parsed->sleeve);
  EXPECT_TRUE(parsed->sleeve_aes);
  EXPECT_EQ(parsed->fastdp_port, 6784);
  EXPECT_EQ(parsed->vxlan_mac(IpFamily::kV6), mac("02:00:00:00:00:06"));
  ASSERT_EQ(parsed->macs.size(), 2u);
  EXPECT_EQ(parsed->macs[0], mac("02:19:00:00:00:02"));
  EXPECT_EQ(encode_datapath_info(*parsed), bytes);
}

TEST(DatapathInfo, RefusesMalformedInput) {
  const auto good = encode_datapath_info(sample());
  // Every truncation fails.
  for (std::size_t n = 0; n < good.size(); ++n) {
    EXPECT_FALSE(parse_datapath_info(std::span(good).first(n))) << n;
  }
  auto bad = good;
  bad[0] = 2;
  EXPECT_FALSE(parse_datapath_info(bad));
  bad = good;
  bad[1] = 0x80;  // unknown flag
  EXPECT_FALSE(parse_datapath_info(bad));
  bad = good;
  bad[7] = 5;  // family
  EXPECT_FALSE(parse_datapath_info(bad));
  bad = good;
  bad.push_back(0);  // trailing
  EXPECT_FALSE(parse_datapath_info(bad));
  // Unsorted MACs are not canonical.
  DatapathInfo i;
  auto bytes = encode_datapath_info(i);
  bytes.pop_back();
  bytes.pop_back();
  bytes.insert(bytes.end(), {0, 2, 2, 0, 0, 0, 0, 9, 2, 0, 0, 0, 0, 1});
  EXPECT_FALSE(parse_datapath_info(bytes));
}

}  // namespace
}  // namespace weft::datapath
