// Tests of Cidr and AddressRange: parsing (strict and host forms), block arithmetic, the
// size representation at /0, containment, splitting and range_to_cidrs.
#include <string>
#include <unordered_set>
#include <vector>

#include <gtest/gtest.h>

#include "common/address.hpp"

namespace weft {
namespace {

IpAddress ip(std::string_view text) {
  auto a = parse_ip_address(text);
  EXPECT_TRUE(a) << text << ": " << a.error().message;
  return a ? *a : IpAddress();
}

Cidr cidr(std::string_view text) {
  auto c = parse_cidr(text);
  EXPECT_TRUE(c) << text << ": " << c.error().message;
  return c ? *c : Cidr();
}

AddressRange range(std::string_view first, std::string_view last) {
  auto r = AddressRange::make(ip(first), ip(last));
  EXPECT_TRUE(r) << r.error().message;
  return r ? *r : AddressRange();
}

std::vector<std::string> texts(const std::vector<Cidr>& cidrs) {
  std::vector<std::string> out;
  for (const auto& c : cidrs) {
    out.push_back(c.to_string());
  }
  return out;
}

TEST(Cidr, ParsesAndFormats) {
  for (const char* text : {"10.32.0.0/12", "fd00:19::/48", "0.0.0.0/0", "::/0", "10.0.0.1/32",
                           "::1/128", "::ffff:10.0.0.0/104"}) {
    SCOPED_TRACE(text);
    const Cidr c = cidr(text);
    EXPECT_EQ(c.to_string(), text);
    EXPECT_FALSE(c.has_host_bits());
    EXPECT_EQ(fmt::format("{}", c), text);
  }
  const Cidr c = cidr("FD00:0019:0::/48");
  EXPECT_EQ(c.to_string(), "fd00:19::/48");
  EXPECT_EQ(c.prefix_length(), 48);
  EXPECT_EQ(c.family(), IpFamily::kV6);
  EXPECT_EQ(c.address(), ip("fd00:19::"));
}

TEST(Cidr, StrictFormRejectsHostBitsAndHostFormKeepsThem) {
  auto strict = parse_cidr("10.32.0.5/12");
  ASSERT_FALSE(strict);
  EXPECT_EQ(strict.error().message,
            "invalid CIDR \"10.32.0.5/12\": host bits are set (the block is 10.32.0.0/12)");
  auto host = parse_host_cidr("10.32.0.5/12");
  ASSERT_TRUE(host);
  EXPECT_TRUE(host->has_host_bits());
  EXPECT_EQ(host->address(), ip("10.32.0.5"));
  EXPECT_EQ(host->network(), ip("10.32.0.0"));
  EXPECT_EQ(host->to_string(), "10.32.0.5/12");
  EXPECT_EQ(host->masked(), cidr("10.32.0.0/12"));
  EXPECT_TRUE(host->contains(ip("10.47.1.1")));
  EXPECT_EQ(*parse_host_cidr("10.32.0.0/12"), cidr("10.32.0.0/12"));

  EXPECT_FALSE(Cidr::make(ip("fd00::1"), 64));
  EXPECT_EQ(*Cidr::make(ip("fd00::"), 64), cidr("fd00::/64"));
  EXPECT_EQ(*Cidr::containing(ip("fd00::1"), 64), cidr("fd00::/64"));
  EXPECT_FALSE(Cidr::make(ip("10.0.0.0"), 33));
  EXPECT_FALSE(Cidr::make_host(ip("::"), 129));
  EXPECT_FALSE(Cidr::containing(ip("::"), -1));
  EXPECT_EQ(Cidr::single(ip("10.1.2.3")), cidr("10.1.2.3/32"));
}

TEST(Cidr, RejectsMalformedText) {
  const std::vector<std::pair<std::string, const char*>> cases = {
      {"10.0.0.0", "expected an address, '/' and a prefix length"},
      {"", "expected an address"},
      {"10.0.0.0/", "the prefix length is empty"},
      {"10.0.0.0/33", "the prefix length is over 32 for IPv4"},
      {"::/129", "the prefix length is over 128 for IPv6"},
      {"10.0.0.0/-1", "not a decimal number"},
      {"10.0.0.0/ 8", "not a decimal number"},
      {"10.0.0.0/8/8", "not a decimal number"},
      {"10.0.0.0/08", "leading zero"},
      {"10.0.0.0/99999999999999999999", "over 32"},
      {"10.0.0/8", "invalid IPv4 address \"10.0.0\": expected 4 parts, got 3"},
      {"/8", "invalid IP address \"\": empty"},
      {"fe80::%eth0/64", "zone id"},
  };
  for (const auto& [text, reason] : cases) {
    SCOPED_TRACE(text);
    for (auto r : {parse_cidr(text), parse_host_cidr(text)}) {
      ASSERT_FALSE(r);
      EXPECT_EQ(r.error().code, make_error_code(Errc::kInvalidArgument));
      EXPECT_NE(r.error().message.find(reason), std::string::npos) << r.error().message;
    }
  }
}

TEST(Cidr, NetworkLastNetmaskAndSize) {
  const Cidr c = cidr("10.32.0.0/12");
  EXPECT_EQ(c.network(), ip("10.32.0.0"));
  EXPECT_EQ(c.last(), ip("10.47.255.255"));
  EXPECT_EQ(c.broadcast(), ip("10.47.255.255"));
  EXPECT_EQ(c.netmask(), ip("255.240.0.0"));
  EXPECT_TRUE(c.size() == (U128{1} << 20));
  EXPECT_TRUE(c.last_offset() == (U128{1} << 20) - 1);

  EXPECT_EQ(cidr("fd00::/64").netmask(), ip("ffff:ffff:ffff:ffff::"));
  EXPECT_EQ(cidr("fd00::/64").last(), ip("fd00::ffff:ffff:ffff:ffff"));
  EXPECT_TRUE(cidr("10.0.0.1/32").size() == 1);
  EXPECT_TRUE(cidr("::1/128").size() == 1);
  EXPECT_TRUE(cidr("::1/128").last_offset() == 0);
  EXPECT_TRUE(cidr("0.0.0.0/0").size() == U128{1} << 32);
  EXPECT_EQ(cidr("0.0.0.0/0").netmask(), ip("0.0.0.0"));
  EXPECT_TRUE(cidr("::/1").size() == U128{1} << 127);
  // ::/0 has 2^128 addresses: size() saturates, last_offset() is exact.
  EXPECT_TRUE(cidr("::/0").size() == kU128Max);
  EXPECT_TRUE(cidr("::/0").last_offset() == kU128Max);
  EXPECT_EQ(cidr("::/0").last(), IpAddress::highest(IpFamily::kV6));
}

TEST(Cidr, ContainsAndOverlaps) {
  const Cidr c = cidr("10.32.0.0/12");
  EXPECT_TRUE(c.contains(ip("10.32.0.0")));
  EXPECT_TRUE(c.contains(ip("10.47.255.255")));
  EXPECT_FALSE(c.contains(ip("10.48.0.0")));
  EXPECT_FALSE(c.contains(ip("10.31.255.255")));
  EXPECT_FALSE(c.contains(ip("::ffff:10.32.0.1")));  // families never mix
  EXPECT_TRUE(c.contains(cidr("10.40.0.0/16")));
  EXPECT_TRUE(c.contains(c));
  EXPECT_FALSE(c.contains(cidr("10.0.0.0/8")));
  EXPECT_TRUE(c.overlaps(cidr("10.0.0.0/8")));
  EXPECT_TRUE(cidr("10.0.0.0/8").overlaps(c));
  EXPECT_FALSE(c.overlaps(cidr("10.48.0.0/12")));
  EXPECT_TRUE(cidr("0.0.0.0/0").contains(ip("255.255.255.255")));
  EXPECT_FALSE(cidr("0.0.0.0/0").contains(ip("::")));
  EXPECT_FALSE(cidr("0.0.0.0/0").overlaps(cidr("::/0")));
  EXPECT_TRUE(cidr("::/0").contains(cidr("fd00::/8")));
}

TEST(Cidr, SplitsAndIndexes) {
  auto halves = cidr("10.32.0.0/12").split();
  ASSERT_TRUE(halves);
  EXPECT_EQ(halves->first, cidr("10.32.0.0/13"));
  EXPECT_EQ(halves->second, cidr("10.40.0.0/13"));
  auto top = cidr("::/0").split();
  ASSERT_TRUE(top);
  EXPECT_EQ(top->second, cidr("8000::/1"));
  EXPECT_FALSE(cidr("10.0.0.1/32").split());
  EXPECT_EQ(*parse_host_cidr("10.0.0.7/30")->split(),
            std::pair(cidr("10.0.0.4/31"), cidr("10.0.0.6/31")));

  EXPECT_EQ(*cidr("10.32.0.0/12").nth(0), ip("10.32.0.0"));
  EXPECT_EQ(*cidr("10.32.0.0/12").nth(257), ip("10.32.1.1"));
  EXPECT_EQ(*cidr("10.32.0.0/12").nth((1 << 20) - 1), ip("10.47.255.255"));
  auto past = cidr("10.32.0.0/12").nth(1 << 20);
  ASSERT_FALSE(past);
  EXPECT_EQ(past.error().code, make_error_code(Errc::kExhausted));
  EXPECT_EQ(*cidr("::/0").nth(kU128Max), IpAddress::highest(IpFamily::kV6));
}

TEST(Cidr, OrdersAndHashes) {
  EXPECT_LT(cidr("10.0.0.0/8"), cidr("10.0.0.0/9"));
  EXPECT_LT(cidr("10.0.0.0/9"), cidr("11.0.0.0/8"));
  EXPECT_LT(cidr("255.0.0.0/8"), cidr("::/0"));
  std::unordered_set<Cidr> set{cidr("10.0.0.0/8"), cidr("10.0.0.0/9"), cidr("10.0.0.0/8")};
  EXPECT_EQ(set.size(), 2u);
}

TEST(AddressRange, MakesContainsAndIntersects) {
  EXPECT_FALSE(AddressRange::make(ip("10.0.0.2"), ip("10.0.0.1")));
  EXPECT_FALSE(AddressRange::make(ip("10.0.0.1"), ip("::1")));
  const AddressRange r = range("10.0.0.10", "10.0.0.20");
  EXPECT_EQ(r.to_string(), "10.0.0.10-10.0.0.20");
  EXPECT_EQ(fmt::format("{}", r), "10.0.0.10-10.0.0.20");
  EXPECT_TRUE(r.size() == 11);
  EXPECT_TRUE(r.contains(ip("10.0.0.10")));
  EXPECT_TRUE(r.contains(ip("10.0.0.20")));
  EXPECT_FALSE(r.contains(ip("10.0.0.21")));
  EXPECT_FALSE(r.contains(ip("::ffff:10.0.0.15")));
  EXPECT_TRUE(r.contains(range("10.0.0.12", "10.0.0.20")));
  EXPECT_FALSE(r.contains(range("10.0.0.12", "10.0.0.21")));

  EXPECT_EQ(intersect(r, range("10.0.0.15", "10.0.1.0")), range("10.0.0.15", "10.0.0.20"));
  EXPECT_EQ(intersect(r, range("10.0.0.20", "10.0.0.20")), range("10.0.0.20", "10.0.0.20"));
  EXPECT_EQ(intersect(r, range("10.0.0.0", "10.0.0.255")), r);
  EXPECT_FALSE(intersect(r, range("10.0.0.21", "10.0.0.30")));
  EXPECT_FALSE(intersect(r, range("::", "::1")));

  const AddressRange all = AddressRange::of(cidr("::/0"));
  EXPECT_TRUE(all.size() == kU128Max);
  EXPECT_TRUE(all.last_offset() == kU128Max);
  EXPECT_EQ(AddressRange::of(*parse_host_cidr("10.32.0.5/12")),
            range("10.32.0.0", "10.47.255.255"));
}

TEST(AddressRange, RangeToCidrsIsMinimalAndExact) {
  EXPECT_EQ(texts(range_to_cidrs(range("10.0.0.1", "10.0.0.6"))),
            (std::vector<std::string>{"10.0.0.1/32", "10.0.0.2/31", "10.0.0.4/31", "10.0.0.6/32"}));
  EXPECT_EQ(texts(range_to_cidrs(range("10.32.0.0", "10.47.255.255"))),
            (std::vector<std::string>{"10.32.0.0/12"}));
  EXPECT_EQ(texts(range_to_cidrs(range("10.0.0.7", "10.0.0.7"))),
            (std::vector<std::string>{"10.0.0.7/32"}));
  EXPECT_EQ(texts(range_to_cidrs(range("0.0.0.0", "255.255.255.255"))),
            (std::vector<std::string>{"0.0.0.0/0"}));
  EXPECT_EQ(texts(range_to_cidrs(AddressRange::of(cidr("::/0")))),
            (std::vector<std::string>{"::/0"}));
  EXPECT_EQ(range_to_cidrs(range("0.0.0.0", "255.255.255.254")).size(), 32u);
  // The worst case for IPv6: 2 * 128 - 2 blocks.
  const auto worst = range_to_cidrs(range("::1", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe"));
  ASSERT_EQ(worst.size(), 254u);
  EXPECT_EQ(worst.front(), cidr("::1/128"));
  EXPECT_EQ(worst[127], cidr("8000::/2"));
  EXPECT_EQ(worst.back(), cidr("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/128"));
  const auto from_one = range_to_cidrs(range("::1", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));
  ASSERT_EQ(from_one.size(), 128u);
  EXPECT_EQ(from_one.back(), cidr("8000::/1"));
}

}  // namespace
}  // namespace weft
