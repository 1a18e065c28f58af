#include "policy/address_set.hpp"

#include <bitset>
#include <random>

#include <gtest/gtest.h>

namespace weft::policy {
namespace {

Cidr cidr(const char* text) {
  return *parse_cidr(text);
}
IpAddress ip(const char* text) {
  return *parse_ip_address(text);
}

TEST(PolicyAddressSet, BlockMinusExceptionsBothFamilies) {
  AddressSet::Builder b;
  const Cidr except4[] = {cidr("198.19.0.8/29"), cidr("198.19.0.128/25")};
  b.add_except(cidr("198.19.0.0/24"), except4);
  const Cidr except6[] = {cidr("fd00:19::/65")};
  b.add_except(cidr("fd00:19::/64"), except6);
  const AddressSet s = std::move(b).build();
  EXPECT_TRUE(s.contains(ip("198.19.0.7")));
  EXPECT_FALSE(s.contains(ip("198.19.0.8")));
  EXPECT_FALSE(s.contains(ip("198.19.0.15")));
  EXPECT_TRUE(s.contains(ip("198.19.0.16")));
  EXPECT_TRUE(s.contains(ip("198.19.0.127")));
  EXPECT_FALSE(s.contains(ip("198.19.0.128")));
  EXPECT_FALSE(s.contains(ip("198.19.1.0")));
  EXPECT_FALSE(s.contains(ip("fd00:19::1")));
  EXPECT_TRUE(s.contains(ip("fd00:19::8000:0:0:1")));
  EXPECT_EQ(s.to_nft_elements(IpFamily::kV4),
            (std::vector<std::string>{"198.19.0.0/29", "198.19.0.16-198.19.0.127"}));
  EXPECT_EQ(s.to_nft_elements(IpFamily::kV6), (std::vector<std::string>{"fd00:19:0:0:8000::/65"}));
}

TEST(PolicyAddressSet, WholeSpacesAndEdges) {
  AddressSet::Builder b;
  b.add(cidr("0.0.0.0/0"));
  b.add(cidr("::/0"));
  const AddressSet all = std::move(b).build();
  EXPECT_TRUE(all.contains(ip("255.255.255.255")));
  EXPECT_TRUE(all.contains(ip("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")));
  EXPECT_EQ(all.to_nft_elements(IpFamily::kV4), std::vector<std::string>{"0.0.0.0/0"});
  EXPECT_EQ(all.to_nft_elements(IpFamily::kV6), std::vector<std::string>{"::/0"});
  AddressSet::Builder c;
  const Cidr top[] = {cidr("255.255.255.255/32")};
  c.add_except(cidr("255.255.255.0/24"), top);
  const Cidr bottom[] = {cidr("0.0.0.0/32")};
  c.add_except(cidr("0.0.0.0/24"), bottom);
  const AddressSet s = std::move(c).build();
  EXPECT_FALSE(s.contains(ip("255.255.255.255")));
  EXPECT_TRUE(s.contains(ip("255.255.255.254")));
  EXPECT_FALSE(s.contains(ip("0.0.0.0")));
  EXPECT_TRUE(s.contains(ip("0.0.0.1")));
}

// Differential: random blocks, exceptions, unions and intersections in 198.19.0.0/24,
// against a bitmap of its 256 addresses.
TEST(PolicyAddressSet, AgreesWithABitmap) {
  std::mt19937 rng(7);
  auto random_block = [&] {
    const int len = std::uniform_int_distribution<int>(24, 32)(rng);
    const auto offset = std::uniform_int_distribution<std::uint32_t>(0, 255)(rng);
    return *Cidr::containing(IpAddress::v4(0xc6130000U + offset), len);
  };
  auto bitmap_of = [](const Cidr& block) {
    std::bitset<256> out;
    for (std::uint32_t i = 0; i < 256; ++i) {
      out[i] = block.contains(IpAddress::v4(0xc6130000U + i));
    }
    return out;
  };
  for (int round = 0; round < 3000; ++round) {
    std::bitset<256> want_a;
    std::bitset<256> want_b;
    AddressSet::Builder ba;
    AddressSet::Builder bb;
    for (auto* pair : {&want_a, &want_b}) {
      const int pieces = std::uniform_int_distribution<int>(0, 4)(rng);
      for (int i = 0; i < pieces; ++i) {
        const Cidr block = random_block();
        std::vector<Cidr> except;
        std::bitset<256> bits = bitmap_of(block);
        const int holes = std::uniform_int_distribution<int>(0, 3)(rng);
        for (int h = 0; h < holes; ++h) {
          const Cidr hole = random_block();
          except.push_back(hole);
          bits &= ~bitmap_of(hole);
        }
        *pair |= bits;
        (pair == &want_a ? ba : bb).add_except(block, except);
      }
    }
    const AddressSet a = std::move(ba).build();
    const AddressSet b = std::move(bb).build();
    const AddressSet u = union_of(a, b);
    const AddressSet n = intersection_of(a, b);
    for (std::uint32_t i = 0; i < 256; ++i) {
      const IpAddress x = IpAddress::v4(0xc6130000U + i);
      ASSERT_EQ(a.contains(x), want_a[i]) << round << " " << x;
      ASSERT_EQ(u.contains(x), (want_a | want_b)[i]) << round << " " << x;
      ASSERT_EQ(n.contains(x), (want_a & want_b)[i]) << round << " " << x;
    }
    // Canonical: equal contents, equal sets.
    AddressSet::Builder again;
    again.add(b);
    again.add(a);
    EXPECT_EQ(std::move(again).build(), u);
    // Intervals are disjoint and not adjacent.
    const auto& iv = u.intervals(IpFamily::kV4);
    for (std::size_t i = 1; i < iv.size(); ++i) {
      ASSERT_GT(iv[i].first, iv[i - 1].last + 1);
    }
  }
}

}  // namespace
}  // namespace weft::policy
