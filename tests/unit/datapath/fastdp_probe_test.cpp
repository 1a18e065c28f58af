// Fastdp heartbeat frames: layout, round trip, and refusal of anything else.
#include "datapath/fastdp_probe.hpp"

#include <gtest/gtest.h>

#include "tests/support/netns_fixture.hpp"

namespace weft::datapath {

using router::PeerName;
namespace {

ProbeFrame sample() {
  return {.dst = test::mac("02:00:00:00:00:02"),
          .src = test::mac("02:00:00:00:00:01"),
          .type = ProbeFrame::Type::kPong,
          .from = PeerName{0x0a0b0c0d0e0fULL},
          .to = PeerName{0x010203040506ULL},
          .nonce = 0x1122334455667788ULL};
}

TEST(FastdpProbe, LayoutAndRoundTrip) {
  const auto bytes = encode_probe(sample());
  ASSERT_EQ(bytes.size(), 60u);  // padded to the Ethernet minimum
  EXPECT_EQ(bytes[12], 0x88);
  EXPECT_EQ(bytes[13], 0xb5);
  EXPECT_EQ(std::string(bytes.begin() + 14, bytes.begin() + 18), "WFTP");
  EXPECT_EQ(bytes[19], 2);  // pong
  auto back = parse_probe(bytes);
  ASSERT_TRUE(back) << back.error().to_string();
  EXPECT_EQ(*back, sample());
}

TEST(FastdpProbe, RefusesOtherFrames) {
  const auto good = encode_probe(sample());
  for (std::size_t n = 0; n < 40; ++n) {
    EXPECT_FALSE(parse_probe(std::span(good).first(n))) << n;
  }
  for (std::size_t at : {12u, 14u, 18u, 19u}) {  // ethertype, magic, version, type
    auto bad = good;
    bad[at] ^= 0xff;
    EXPECT_FALSE(parse_probe(bad)) << at;
  }
  auto empty_name = good;
  std::fill(empty_name.begin() + 20, empty_name.begin() + 26, 0);
  EXPECT_FALSE(parse_probe(empty_name));
}

}  // namespace
}  // namespace weft::datapath
