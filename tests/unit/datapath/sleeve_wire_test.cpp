#include "datapath/sleeve_wire.hpp"

#include <vector>

#include <gtest/gtest.h>

#include "datapath/sleeve_crypto.hpp"

namespace weft::datapath {
namespace {

std::vector<std::uint8_t> frame_of(std::size_t n, std::uint8_t fill) {
  return std::vector<std::uint8_t>(n, fill);
}

TEST(SleeveWire, HeaderRoundTrip) {
  std::array<std::uint8_t, kSleeveHeaderSize> buf{};
  encode_header({.type = PacketType::kProbeAck,
                 .receiver_index = 0xdeadbeef,
                 .counter = 0x0102030405060708ULL},
                buf);
  EXPECT_EQ(buf[0], 0x13);
  auto h = parse_header(buf);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->type, PacketType::kProbeAck);
  EXPECT_EQ(h->receiver_index, 0xdeadbeefu);
  EXPECT_EQ(h->counter, 0x0102030405060708ULL);
  buf[0] = 0x23;  // version 2
  EXPECT_FALSE(parse_header(buf));
  buf[0] = 0x14;  // type 4
  EXPECT_FALSE(parse_header(buf));
  EXPECT_FALSE(parse_header(std::span<const std::uint8_t>(buf.data(), 12)));
}

TEST(SleeveWire, FrameRecords) {
  std::vector<std::uint8_t> p;
  const auto f1 = frame_of(60, 0xaa);
  const auto f2 = frame_of(1500, 0xbb);
  append_frame_record(p, 0x0000aabbccddeeffULL, 0, 3, f1);
  append_frame_record(p, 7, 9, 0, f2);
  auto r = parse_frame_records(p);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].src_peer, 0xaabbccddeeffULL);
  EXPECT_EQ((*r)[0].dst_peer, 0u);
  EXPECT_EQ((*r)[0].hops, 3);
  EXPECT_TRUE(std::equal(f1.begin(), f1.end(), (*r)[0].frame.begin(), (*r)[0].frame.end()));
  EXPECT_EQ((*r)[1].frame.size(), 1500u);
  // Truncations fail anywhere.
  for (std::size_t cut = 0; cut < p.size(); cut += 7) {
    if (cut == kFrameRecordHeaderSize + f1.size()) {
      continue;  // a whole first record is valid on its own
    }
    EXPECT_FALSE(parse_frame_records(std::span<const std::uint8_t>(p.data(), cut))) << cut;
  }
  auto flags = p;
  flags[13] = 1;
  EXPECT_FALSE(parse_frame_records(flags));
  std::vector<std::uint8_t> tiny;
  append_frame_record(tiny, 1, 2, 0, frame_of(10, 0));
  EXPECT_FALSE(parse_frame_records(tiny));
}

TEST(SleeveWire, ProbeRecord) {
  std::vector<std::uint8_t> p;
  append_probe_record(p, {.sender = 5, .id = 77, .size = 1400}, 300);
  EXPECT_EQ(p.size(), 300u);
  auto r = parse_probe_record(p);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->sender, 5u);
  EXPECT_EQ(r->id, 77u);
  EXPECT_EQ(r->size, 1400);
  EXPECT_FALSE(parse_probe_record(std::span<const std::uint8_t>(p.data(), 11)));
}

class SleeveCryptoTest : public ::testing::TestWithParam<SleeveSuite> {};

TEST_P(SleeveCryptoTest, SealOpenTamper) {
  const SleeveSuite suite = GetParam();
  if (!sleeve_suite_available(suite)) {
    GTEST_SKIP() << sleeve_suite_name(suite) << " not available on this CPU";
  }
  SleeveKey key{};
  key.fill(0x42);
  auto c = SleeveCipher::create(suite, key);
  ASSERT_TRUE(c);
  std::vector<std::uint8_t> packet(kSleeveHeaderSize, 0x11);
  const std::string text = "MARKER-secret-payload";
  packet.insert(packet.end(), text.begin(), text.end());
  c->seal(packet, 9);
  EXPECT_EQ(packet.size(), kSleeveHeaderSize + text.size() + c->overhead());
  const std::string wire(packet.begin(), packet.end());
  EXPECT_EQ(wire.find("MARKER") == std::string::npos, suite != SleeveSuite::kNone);
  std::vector<std::uint8_t> out;
  ASSERT_TRUE(c->open(packet, 9, out));
  EXPECT_EQ(std::string(out.begin(), out.end()), text);
  if (suite == SleeveSuite::kNone) {
    return;
  }
  EXPECT_FALSE(c->open(packet, 10, out));  // wrong nonce
  for (std::size_t i = 0; i < packet.size(); ++i) {
    auto bad = packet;
    bad[i] ^= 0x01;  // header (AD), ciphertext and tag are all covered
    EXPECT_FALSE(c->open(bad, 9, out)) << "byte " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Suites, SleeveCryptoTest,
                         ::testing::Values(SleeveSuite::kNone, SleeveSuite::kChaCha20Poly1305,
                                           SleeveSuite::kAes256Gcm),
                         [](const auto& p) { return std::to_string(static_cast<int>(p.param)); });

TEST(SleeveCrypto, BestSuite) {
  EXPECT_NE(best_sleeve_suite(), SleeveSuite::kNone);
  EXPECT_EQ(best_sleeve_suite() == SleeveSuite::kAes256Gcm,
            sleeve_suite_available(SleeveSuite::kAes256Gcm));
}

}  // namespace
}  // namespace weft::datapath
