// ICMP "fragmentation needed" / ICMPv6 "packet too big" answers: fields and checksums
// verified independently of the builder.
#include "datapath/sleeve_icmp.hpp"

#include <gtest/gtest.h>

#include "tests/support/sleeve_frames.hpp"

namespace weft::datapath {
namespace {

using test::test_mac;

// Independent ones' complement sum (no shared code with the builder).
std::uint16_t sum16(const std::uint8_t* p, std::size_t n, std::uint32_t acc = 0) {
  for (std::size_t i = 0; i < n; i += 2) {
    acc += static_cast<std::uint32_t>(p[i] << 8 | (i + 1 < n ? p[i + 1] : 0));
  }
  while (acc >> 16) {
    acc = (acc & 0xffff) + (acc >> 16);
  }
  return static_cast<std::uint16_t>(acc);
}

TEST(SleeveIcmp, Ipv4FragmentationNeeded) {
  const auto frame =
      test::ipv4_frame(test_mac(2), test_mac(1), {198, 19, 0, 1}, {198, 19, 0, 2}, 1500);
  auto a = make_too_big_answer(frame, 1413);
  ASSERT_TRUE(a);
  const auto& f = *a;
  ASSERT_GE(f.size(), 14u + 20 + 8 + 28);
  EXPECT_TRUE(std::equal(f.begin(), f.begin() + 6, frame.begin() + 6));  // to the sender
  EXPECT_TRUE(std::equal(f.begin() + 6, f.begin() + 12, frame.begin()));
  EXPECT_EQ(f[12], 0x08);
  const std::uint8_t* ip = f.data() + 14;
  EXPECT_EQ(ip[0], 0x45);
  EXPECT_EQ(ip[9], 1);
  EXPECT_EQ(sum16(ip, 20), 0xffff) << "IPv4 header checksum";
  EXPECT_EQ(std::size_t(ip[2] << 8 | ip[3]), f.size() - 14);
  EXPECT_TRUE(std::equal(ip + 12, ip + 16, frame.begin() + 14 + 16));  // from the destination
  EXPECT_TRUE(std::equal(ip + 16, ip + 20, frame.begin() + 14 + 12));  // to the source
  const std::uint8_t* icmp = ip + 20;
  EXPECT_EQ(icmp[0], 3);
  EXPECT_EQ(icmp[1], 4);
  EXPECT_EQ(icmp[6] << 8 | icmp[7], 1413);
  EXPECT_EQ(sum16(icmp, f.size() - 34), 0xffff) << "ICMP checksum";
  EXPECT_TRUE(std::equal(icmp + 8, icmp + 28, frame.begin() + 14));  // quoted header
  EXPECT_LE(f.size() - 14, 576u);
}

TEST(SleeveIcmp, Ipv4NoAnswer) {
  // No DF: the sender's kernel may fragment.
  EXPECT_FALSE(make_too_big_answer(
      test::ipv4_frame(test_mac(2), test_mac(1), {198, 19, 0, 1}, {198, 19, 0, 2}, 1500, false),
      1400));
  // An ICMP error is never answered.
  auto err = test::ipv4_frame(test_mac(2), test_mac(1), {198, 19, 0, 1}, {198, 19, 0, 2}, 1500,
                              true, 1, "");
  err[14 + 20] = 3;
  EXPECT_FALSE(make_too_big_answer(err, 1400));
  err[14 + 20] = 8;  // an echo request is
  EXPECT_TRUE(make_too_big_answer(err, 1400));
  // Multicast destination, truncated header, not IP.
  EXPECT_FALSE(make_too_big_answer(
      test::ipv4_frame(test_mac(2), test_mac(1), {198, 19, 0, 1}, {224, 0, 0, 1}, 1500), 1400));
  auto cut = test::ipv4_frame(test_mac(2), test_mac(1), {198, 19, 0, 1}, {198, 19, 0, 2}, 1500);
  cut.resize(14 + 19);
  EXPECT_FALSE(make_too_big_answer(cut, 1400));
  auto arp = test::eth_header(test::kBroadcastMac, test_mac(1), 0x0806);
  arp.resize(60);
  EXPECT_FALSE(make_too_big_answer(arp, 1400));
}

TEST(SleeveIcmp, Ipv6PacketTooBig) {
  const auto frame = test::ipv6_frame(test_mac(2), test_mac(1), 1, 2, 1460);
  auto a = make_too_big_answer(frame, 1393);
  ASSERT_TRUE(a);
  const auto& f = *a;
  EXPECT_EQ(f[12], 0x86);
  EXPECT_EQ(f[13], 0xdd);
  const std::uint8_t* ip = f.data() + 14;
  const std::size_t plen = ip[4] << 8 | ip[5];
  EXPECT_EQ(plen, f.size() - 54);
  EXPECT_LE(f.size() - 14, 1280u);
  EXPECT_EQ(ip[6], 58);
  EXPECT_EQ(ip[23], 2);  // from the original destination
  EXPECT_EQ(ip[39], 1);  // to the original source
  const std::uint8_t* icmp = ip + 40;
  EXPECT_EQ(icmp[0], 2);
  EXPECT_EQ(icmp[1], 0);
  EXPECT_EQ((icmp[4] << 24 | icmp[5] << 16 | icmp[6] << 8 | icmp[7]), 1393);
  // Checksum over the pseudo header (src, dst, length, next header) and the message.
  std::uint32_t acc = sum16(ip + 8, 32);
  acc += static_cast<std::uint32_t>(plen) + 58;
  EXPECT_EQ(sum16(icmp, plen, acc), 0xffff) << "ICMPv6 checksum";
  // The IPv6 minimum MTU is the floor.
  auto low = make_too_big_answer(frame, 1000);
  ASSERT_TRUE(low);
  EXPECT_EQ(((*low)[14 + 40 + 6] << 8 | (*low)[14 + 40 + 7]), 1280);
  // An ICMPv6 error is not answered.
  auto err = test::ipv6_frame(test_mac(2), test_mac(1), 1, 2, 1460, 58);
  err[14 + 40] = 1;
  EXPECT_FALSE(make_too_big_answer(err, 1400));
}

}  // namespace
}  // namespace weft::datapath
