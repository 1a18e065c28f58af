// Tests of U128 and IpAddress: text forms (RFC 4291 input, RFC 5952 output), rejects with
// their messages, arithmetic at the edges of each family, conversions, ordering and hashing.
#include "common/address.hpp"

#include <sstream>
#include <string>
#include <unordered_set>
#include <vector>

#include <boost/asio/ip/address.hpp>
#include <gtest/gtest.h>

#include "common/log.hpp"

namespace weft {
namespace {

IpAddress ip(std::string_view text) {
  auto a = parse_ip_address(text);
  EXPECT_TRUE(a) << text << ": " << a.error().message;
  return a ? *a : IpAddress();
}

TEST(U128, BuildsSplitsAndFormats) {
  const U128 v = make_u128(0x0123456789abcdefULL, 0xfedcba9876543210ULL);
  EXPECT_EQ(u128_high(v), 0x0123456789abcdefULL);
  EXPECT_EQ(u128_low(v), 0xfedcba9876543210ULL);
  EXPECT_EQ(u128_to_hex(v), "0x123456789abcdeffedcba9876543210");
  EXPECT_EQ(u128_to_hex(0), "0x0");
  EXPECT_EQ(u128_to_string(0), "0");
  EXPECT_EQ(u128_to_string(1234567890), "1234567890");
  EXPECT_EQ(u128_to_string(kU128Max), "340282366920938463463374607431768211455");
  EXPECT_EQ(u128_to_string(U128{1} << 64), "18446744073709551616");
  EXPECT_EQ(u128_to_hex(kU128Max), "0xffffffffffffffffffffffffffffffff");
  EXPECT_EQ(fmt::format("{}", U128{1} << 100), u128_to_string(U128{1} << 100));
  EXPECT_TRUE(u128_mask(0) == 0);
  EXPECT_TRUE(u128_mask(32) == 0xffffffffU);
  EXPECT_TRUE(u128_mask(127) == kU128Max >> 1);
  EXPECT_TRUE(u128_mask(128) == kU128Max);
}

struct TextCase {
  const char* input;
  const char* canonical;
};

TEST(IpAddress, ParsesAndFormatsCanonically) {
  const std::vector<TextCase> cases = {
      {"0.0.0.0", "0.0.0.0"},
      {"10.32.0.1", "10.32.0.1"},
      {"255.255.255.255", "255.255.255.255"},
      {"192.0.2.0", "192.0.2.0"},
      // RFC 5952 section 4 examples.
      {"2001:db8:0:0:0:0:2:1", "2001:db8::2:1"},
      {"2001:0db8::0001", "2001:db8::1"},
      {"2001:db8::0:1", "2001:db8::1"},
      {"2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"},     // first of two equal runs
      {"2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"},  // a lone zero stays
      {"2001:0:0:1:0:0:0:1", "2001:0:0:1::1"},           // the longest run wins
      {"2001:DB8::AbCd", "2001:db8::abcd"},
      {"0:0:0:0:0:0:0:0", "::"},
      {"::", "::"},
      {"::1", "::1"},
      {"1::", "1::"},
      {"1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"},
      {"::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8"},
      {"1:0:0:4:5:0:0:0", "1:0:0:4:5::"},
      {"fe80::1:2", "fe80::1:2"},
      {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
      // Dotted quads: accepted at the end; printed only for v4-mapped addresses.
      {"::ffff:192.0.2.1", "::ffff:192.0.2.1"},
      {"::FFFF:c000:0201", "::ffff:192.0.2.1"},
      {"::ffff:0.0.0.0", "::ffff:0.0.0.0"},
      {"::192.0.2.1", "::c000:201"},
      {"1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:102:304"},
      {"64:ff9b::192.0.2.33", "64:ff9b::c000:221"},
      {"::ffff:0:1.2.3.4", "::ffff:0:102:304"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.input);
    auto a = parse_ip_address(c.input);
    ASSERT_TRUE(a) << a.error().message;
    EXPECT_EQ(a->to_string(), c.canonical);
    EXPECT_EQ(a->is_v4(), std::string_view(c.input).find(':') == std::string_view::npos);
    auto again = parse_ip_address(a->to_string());
    ASSERT_TRUE(again);
    EXPECT_EQ(*again, *a);
  }
}

struct RejectCase {
  std::string input;
  const char* reason;  // a substring of the message
};

TEST(IpAddress, RejectsBadTextWithClearReasons) {
  const std::vector<RejectCase> cases = {
      {"", "empty"},
      {"1.2.3.4.5", "expected 4 parts, got 5"},
      {".1.2.3", "part 1 is empty"},
      {"1.2.3.", "part 4 is empty"},
      {"1..2.3", "part 2 is empty"},
      {"01.2.3.4", "part 1 has a leading zero"},
      {"1.2.3.00", "part 4 has a leading zero"},
      {"256.1.1.1", "part 1 is over 255"},
      {"1.2.3.99999999999999999999", "part 4 is over 255"},
      {"1.2.3.a", "unexpected character 'a'"},
      {"1.2.3.4 ", "unexpected character byte 0x20"},
      {" 1.2.3.4", "unexpected character byte 0x20"},
      {"-1.2.3.4", "unexpected character '-'"},
      {"1.2.3.4/8", "unexpected character '/'"},
      {"1:2:3:4:5:6:7:8:9", "too many groups"},
      {"1:2:3:4:5:6:7", "expected 8 groups, got 7"},
      {"1::2::3", "more than one \"::\""},
      {":::", "\":::\" is not allowed"},
      {"1:::2", "\":::\" is not allowed"},
      {":1:2:3:4:5:6:7:8", "starts with a single ':'"},
      {":", "starts with a single ':'"},
      {"1:2:3:4:5:6:7:8:", "ends with a single ':'"},
      {"12345::", "more than 4 hex digits"},
      {"g::1", "unexpected character 'g'"},
      {"1:2:3:4:5:6:7::8", "\"::\" must stand for at least one zero group, but 8 groups"},
      {"::1:2:3:4:5:6:7:8", "\"::\" must stand for at least one zero group"},
      {"1:2:3:4:5:6::1.2.3.4", "\"::\" must stand for at least one zero group"},
      {"fe80::1%eth0", "zone id \"%eth0\" is not supported"},
      {"1.2.3.4::", "an embedded IPv4 address must come last"},
      {"::1.2.3.4:5", "an embedded IPv4 address must come last"},
      {"::1.2.3", "embedded IPv4 address: expected 4 parts, got 3"},
      {"::01.2.3.4", "embedded IPv4 address: part 1 has a leading zero"},
      {"::ffff:1.2.3.256", "embedded IPv4 address: part 4 is over 255"},
      {"1:2:3:4:5:6:7:1.2.3.4", "too many groups"},
      {std::string("::1\0", 4), "unexpected character byte 0x00"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.input);
    auto a = parse_ip_address(c.input);
    ASSERT_FALSE(a) << a->to_string();
    EXPECT_EQ(a.error().code, make_error_code(Errc::kInvalidArgument));
    EXPECT_NE(a.error().message.find(c.reason), std::string::npos) << a.error().message;
  }
  // The whole message names the family and quotes the text.
  EXPECT_EQ(parse_ip_address("1.2.3").error().message,
            "invalid IPv4 address \"1.2.3\": expected 4 parts, got 3");
  EXPECT_EQ(parse_ip_address("1::x").error().message,
            "invalid IPv6 address \"1::x\": unexpected character 'x'");
  // Untrusted bytes are escaped and long text is cut.
  EXPECT_EQ(parse_ip_address("a\"\n:").error().message,
            "invalid IPv6 address \"a\\\"\\x0a:\": unexpected character '\"'");
  const std::string long_text(200, '1');
  EXPECT_EQ(parse_ip_address(long_text).error().message,
            "invalid IPv4 address \"" + std::string(64, '1') + "...\": expected 4 parts, got 1");
}

TEST(IpAddress, ValuesBytesAndFamilies) {
  const IpAddress a = ip("10.32.0.1");
  EXPECT_TRUE(a.is_v4());
  EXPECT_EQ(a.bit_width(), 32);
  EXPECT_EQ(a.v4_value(), 0x0a200001U);
  EXPECT_TRUE(a.value() == 0x0a200001U);
  EXPECT_EQ(IpAddress::v4(0x0a200001U), a);
  EXPECT_EQ(IpAddress::v4({10, 32, 0, 1}), a);
  EXPECT_EQ(std::vector<std::uint8_t>(a.bytes().begin(), a.bytes().end()),
            (std::vector<std::uint8_t>{10, 32, 0, 1}));

  const IpAddress b = ip("fd00:19::1:2");
  EXPECT_TRUE(b.is_v6());
  EXPECT_EQ(b.bit_width(), 128);
  EXPECT_EQ(b.bytes().size(), 16u);
  EXPECT_EQ(b.bytes()[0], 0xfd);
  EXPECT_EQ(b.bytes()[3], 0x19);
  EXPECT_EQ(b.bytes()[13], 0x01);
  EXPECT_EQ(b.bytes()[15], 0x02);
  EXPECT_TRUE(b.value() == make_u128(0xfd00001900000000ULL, 0x0000000000010002ULL));
  EXPECT_EQ(IpAddress::v6(b.value()), b);

  EXPECT_EQ(*IpAddress::from_value(IpFamily::kV4, 0xffffffffU), ip("255.255.255.255"));
  EXPECT_FALSE(IpAddress::from_value(IpFamily::kV4, U128{1} << 32));
  EXPECT_EQ(*IpAddress::from_value(IpFamily::kV6, kU128Max), IpAddress::highest(IpFamily::kV6));
  EXPECT_EQ(*IpAddress::from_bytes(a.bytes()), a);
  EXPECT_EQ(*IpAddress::from_bytes(b.bytes()), b);
  const std::uint8_t five[5] = {1, 2, 3, 4, 5};
  auto bad = IpAddress::from_bytes(five);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "an IP address has 4 or 16 bytes, not 5");

  EXPECT_EQ(IpAddress(), ip("0.0.0.0"));
  EXPECT_EQ(IpAddress::lowest(IpFamily::kV6), ip("::"));
  EXPECT_EQ(IpAddress::highest(IpFamily::kV4), ip("255.255.255.255"));
  EXPECT_EQ(family_name(IpFamily::kV6), "IPv6");
}

TEST(IpAddress, V4MappedConvertsBothWays) {
  const IpAddress v4 = ip("192.0.2.1");
  const IpAddress mapped = ip("::ffff:192.0.2.1");
  EXPECT_NE(v4, mapped);  // stored in its own form
  EXPECT_TRUE(mapped.is_v4_mapped());
  EXPECT_FALSE(v4.is_v4_mapped());
  EXPECT_FALSE(ip("::192.0.2.1").is_v4_mapped());
  EXPECT_FALSE(ip("1::ffff:192.0.2.1").is_v4_mapped());
  EXPECT_EQ(mapped.unmap(), v4);
  EXPECT_EQ(v4.unmap(), v4);
  EXPECT_EQ(ip("fd00::1").unmap(), ip("fd00::1"));
  EXPECT_EQ(v4.to_v4_mapped(), mapped);
  EXPECT_EQ(mapped.to_v4_mapped(), mapped);
}

TEST(IpAddress, ArithmeticReportsOverflowAtBothEnds) {
  EXPECT_EQ(*ip("10.0.0.255").next(), ip("10.0.1.0"));
  EXPECT_EQ(*ip("10.0.1.0").prev(), ip("10.0.0.255"));
  EXPECT_EQ(*ip("::ffff").next(), ip("::1:0"));
  EXPECT_EQ(*ip("1::").prev(), ip("0:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));

  auto over = ip("255.255.255.255").next();
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error().code, make_error_code(Errc::kExhausted));
  EXPECT_EQ(over.error().message, "255.255.255.255 + 1 is outside the IPv4 address space");
  EXPECT_FALSE(ip("0.0.0.0").prev());
  EXPECT_FALSE(IpAddress::highest(IpFamily::kV6).next());
  EXPECT_FALSE(ip("::").prev());
  // An IPv4 address never spills into 128-bit space.
  EXPECT_FALSE(ip("0.0.0.0").add(U128{1} << 32));
  EXPECT_EQ(*ip("0.0.0.0").add(0xffffffffU), ip("255.255.255.255"));
  EXPECT_EQ(*ip("::").add(kU128Max), IpAddress::highest(IpFamily::kV6));
  EXPECT_FALSE(ip("::1").add(kU128Max));
  EXPECT_EQ(*ip("10.0.0.5").subtract(5), ip("10.0.0.0"));
  EXPECT_FALSE(ip("10.0.0.5").subtract(0x0a000006U));
  EXPECT_EQ(*ip("10.0.0.5").add(0), ip("10.0.0.5"));

  EXPECT_TRUE(*ip("10.0.0.1").distance_to(ip("10.0.1.0")) == 255);
  EXPECT_TRUE(*ip("::").distance_to(IpAddress::highest(IpFamily::kV6)) == kU128Max);
  EXPECT_TRUE(*ip("::1").distance_to(ip("::1")) == 0);
  EXPECT_FALSE(ip("10.0.0.2").distance_to(ip("10.0.0.1")));
  auto mixed = ip("10.0.0.1").distance_to(ip("::1"));
  ASSERT_FALSE(mixed);
  EXPECT_EQ(mixed.error().message, "no distance between 10.0.0.1 and ::1: families differ");
}

TEST(IpAddress, ConvertsToAndFromAsio) {
  for (const char* text : {"10.32.0.1", "0.0.0.0", "fd00::1", "::ffff:1.2.3.4", "::"}) {
    SCOPED_TRACE(text);
    const IpAddress a = ip(text);
    const boost::asio::ip::address asio = a.to_asio();
    EXPECT_EQ(asio.is_v4(), a.is_v4());
    EXPECT_EQ(asio.to_string(), a.to_string());
    EXPECT_EQ(IpAddress::from_asio(asio), a);
  }
  // The scope id belongs to the endpoint and is dropped.
  boost::asio::ip::address_v6 scoped = ip("fe80::1").to_asio().to_v6();
  scoped.scope_id(3);
  EXPECT_EQ(IpAddress::from_asio(scoped), ip("fe80::1"));
}

TEST(IpAddress, OrdersComparesAndHashes) {
  // Every IPv4 address sorts before every IPv6 address, then numerically.
  EXPECT_LT(ip("255.255.255.255"), ip("::"));
  EXPECT_LT(ip("9.255.255.255"), ip("10.0.0.0"));
  EXPECT_LT(ip("fd00::1"), ip("fd00::1:0"));
  EXPECT_GT(ip("ff00::"), ip("fe80::1"));
  EXPECT_EQ(ip("2001:DB8::1"), ip("2001:0db8:0:0:0:0:0:1"));
  EXPECT_NE(ip("0.0.0.1"), ip("::1"));

  std::unordered_set<IpAddress> set;
  for (const char* t : {"10.0.0.1", "10.0.0.2", "::1", "0.0.0.1", "::0.0.0.1", "10.0.0.1"}) {
    set.insert(ip(t));
  }
  EXPECT_EQ(set.size(), 4u);  // ::0.0.0.1 is ::1
  EXPECT_EQ(set.count(ip("10.0.0.2")), 1u);
  EXPECT_NE(std::hash<IpAddress>{}(ip("0.0.0.1")), std::hash<IpAddress>{}(ip("::1")));
}

TEST(IpAddress, FormatsWithFmtStreamsAndLogFields) {
  EXPECT_EQ(fmt::format("{}", ip("fd00:0:0::1")), "fd00::1");
  EXPECT_EQ(fmt::format("[{:>10}]", ip("1.2.3.4")), "[   1.2.3.4]");
  std::ostringstream out;
  out << ip("10.0.0.1");
  EXPECT_EQ(out.str(), "10.0.0.1");
  const std::string line = log::format_line(log::Level::kInfo, "x", {{"addr", ip("::1")}});
  EXPECT_NE(line.find("addr=::1"), std::string::npos) << line;
}

}  // namespace
}  // namespace weft
