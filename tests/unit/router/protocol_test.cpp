// Wire-format codecs (router/protocol.hpp): round trips, and rejection of truncated or
// corrupted input.
#include "router/protocol.hpp"

#include <cstdint>
#include <vector>

#include <gtest/gtest.h>

#include "router/crypto.hpp"

namespace weft::router {
namespace {

Hello sample_hello(bool with_static) {
  Hello h;
  h.min_version = 1;
  h.max_version = 3;
  h.password = true;
  h.name = PeerName{0xaabbccddeeffULL};
  h.uid = 0x0123456789abcdefULL;
  h.listen_port = 6783;
  for (std::size_t i = 0; i < h.ephemeral_key.size(); ++i) {
    h.ephemeral_key[i] = static_cast<std::uint8_t>(i + 1);
  }
  if (with_static) {
    PublicKey k{};
    k.fill(0x42);
    h.static_key = k;
  }
  h.nickname = "host-\xc3\xa9";  // "host-é"
  return h;
}

TEST(ProtocolHello, RoundTripsWithAndWithoutStaticKey) {
  for (bool with_static : {false, true}) {
    const Hello h = sample_hello(with_static);
    const auto bytes = encode_hello(h);
    ASSERT_EQ(bytes.size(),
              kHelloHeaderSize + kHelloMinBody + h.nickname.size() + (with_static ? 32u : 0u));
    auto header = decode_hello_header(std::span(bytes).first(kHelloHeaderSize));
    ASSERT_TRUE(header) << header.error().to_string();
    EXPECT_EQ(*header, bytes.size() - kHelloHeaderSize);
    auto back = decode_hello(bytes);
    ASSERT_TRUE(back) << back.error().to_string();
    EXPECT_EQ(*back, h);
  }
}

TEST(ProtocolHello, KeepsWellFormedExtensionsAndRejectsBadOnes) {
  Hello h = sample_hello(false);
  h.extensions = {7, 2, 0xde, 0xad, 9, 0};
  auto back = decode_hello(encode_hello(h));
  ASSERT_TRUE(back) << back.error().to_string();
  EXPECT_EQ(back->extensions, h.extensions);
  h.extensions = {7, 3, 0xde, 0xad};  // entry longer than the list
  EXPECT_FALSE(decode_hello(encode_hello(h)));
}

TEST(ProtocolHello, EveryTruncationIsRejected) {
  for (bool with_static : {false, true}) {
    const auto bytes = encode_hello(sample_hello(with_static));
    for (std::size_t n = 0; n < bytes.size(); ++n) {
      auto r = decode_hello(std::span(bytes).first(n));
      EXPECT_FALSE(r) << "prefix of " << n << " bytes decoded";
      if (!r) {
        EXPECT_EQ(r.error().code, make_error_code(Errc::kMalformed));
      }
    }
    // A longer buffer (trailing garbage) is also rejected.
    auto longer = bytes;
    longer.push_back(0);
    EXPECT_FALSE(decode_hello(longer));
  }
}

TEST(ProtocolHello, EveryCorruptionOfALengthFieldIsRejected) {
  const Hello h = sample_hello(true);
  const auto bytes = encode_hello(h);
  const std::size_t nick_len_at = kHelloHeaderSize + 54 + 32;
  const std::size_t ext_len_at = nick_len_at + 1 + h.nickname.size();
  ASSERT_EQ(bytes[nick_len_at], h.nickname.size());
  ASSERT_EQ(bytes.size(), ext_len_at + 2);
  for (std::size_t pos :
       {std::size_t{4}, std::size_t{5}, nick_len_at, ext_len_at, ext_len_at + 1}) {
    for (int v = 0; v < 256; ++v) {
      if (v == bytes[pos]) {
        continue;
      }
      auto bad = bytes;
      bad[pos] = static_cast<std::uint8_t>(v);
      EXPECT_FALSE(decode_hello(bad)) << "length byte at " << pos << " set to " << v;
    }
  }
  // The flags byte decides whether the static key is present: flipping it must fail too.
  auto bad = bytes;
  bad[kHelloHeaderSize + 4] ^= kHelloFlagStaticKey;
  EXPECT_FALSE(decode_hello(bad));
}

TEST(ProtocolHello, RejectsBadFields) {
  auto check = [](auto mutate, const char* what) {
    Hello h = sample_hello(false);
    auto bytes = encode_hello(h);
    mutate(bytes);
    EXPECT_FALSE(decode_hello(bytes)) << what;
  };
  check([](auto& b) { b[0] = 'X'; }, "magic");
  check(
      [](auto& b) {
        b[6] = 0;
        b[7] = 0;
      },
      "min version 0");
  check([](auto& b) { b[7] = 9; }, "min > max");
  check([](auto& b) { b[10] |= 0x80; }, "unknown flag");
  check([](auto& b) { b[11] = 1; }, "reserved");
  check([](auto& b) { std::fill(b.begin() + 12, b.begin() + 18, 0); }, "zero name");
  check([](auto& b) { std::fill(b.begin() + 18, b.begin() + 26, 0); }, "zero uid");
  check(
      [](auto& b) {
        b[26] = 0;
        b[27] = 0;
      },
      "zero port");
  check([](auto& b) { b[61] = '\n'; }, "control char in nickname");
  check([](auto& b) { b[67] = 'x'; }, "broken UTF-8");  // second byte of "é" replaced
}

TEST(ProtocolHello, ChecksNicknameUtf8) {
  auto ok = [](std::string_view s) {
    return is_printable_utf8(std::span(reinterpret_cast<const std::uint8_t*>(s.data()), s.size()));
  };
  EXPECT_TRUE(ok(""));
  EXPECT_TRUE(ok("node-1.example"));
  EXPECT_TRUE(ok("\xe2\x82\xac \xf0\x9f\x98\x80"));  // euro sign, emoji
  EXPECT_FALSE(ok("\xc0\xaf"));                      // overlong '/'
  EXPECT_FALSE(ok("\xed\xa0\x80"));                  // surrogate
  EXPECT_FALSE(ok("\xf4\x90\x80\x80"));              // over U+10FFFF
  EXPECT_FALSE(ok("\xe2\x82"));                      // truncated
  EXPECT_FALSE(ok("a\tb"));
  EXPECT_FALSE(ok("\x7f"));
}

TEST(ProtocolVersion, NegotiatesHighestCommonOrFailsClearly) {
  EXPECT_EQ(*negotiate_version(1, 1, 1, 3), 1);
  EXPECT_EQ(*negotiate_version(1, 3, 2, 5), 3);
  EXPECT_EQ(*negotiate_version(2, 4, 1, 2), 2);
  auto none = negotiate_version(1, 1, 2, 3);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, make_error_code(Errc::kUnsupported));
  EXPECT_EQ(none.error().message, "no common protocol version: we speak 1..1, peer speaks 2..3");
}

TEST(ProtocolFrame, HeaderRoundTripsAndEnforcesLimits) {
  for (std::uint32_t n : {std::uint32_t{kMinFrameCiphertext}, std::uint32_t{1000},
                          std::uint32_t{kMaxFrameCiphertext}}) {
    auto back = decode_frame_header(encode_frame_header(n));
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, n);
  }
  auto big = decode_frame_header(encode_frame_header(kMaxFrameCiphertext + 1));
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error().code, make_error_code(Errc::kTooLarge));
  EXPECT_FALSE(decode_frame_header(encode_frame_header(0xffffffffu)));
  EXPECT_FALSE(decode_frame_header(encode_frame_header(kMinFrameCiphertext - 1)));
  const std::uint8_t three[3] = {0, 0, 20};
  EXPECT_FALSE(decode_frame_header(three));
}

TEST(ProtocolFrame, PlaintextTypesRoundTripAndValidate) {
  const std::vector<std::uint8_t> msg = {1, 2, 3};
  const auto encoded = encode_frame_plaintext(FrameType::kMessage, msg);  // f views into it
  auto f = decode_frame_plaintext(encoded);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->type, FrameType::kMessage);
  EXPECT_EQ(std::vector<std::uint8_t>(f->payload.begin(), f->payload.end()), msg);

  EXPECT_TRUE(decode_frame_plaintext(encode_frame_plaintext(FrameType::kHeartbeat, {})));
  EXPECT_FALSE(decode_frame_plaintext(encode_frame_plaintext(FrameType::kHeartbeat, msg)));

  const std::string reason = "shutting down";
  const auto close = encode_frame_plaintext(
      FrameType::kClose,
      std::span(reinterpret_cast<const std::uint8_t*>(reason.data()), reason.size()));
  auto c = decode_frame_plaintext(close);
  ASSERT_TRUE(c);
  EXPECT_EQ(std::string(c->payload.begin(), c->payload.end()), reason);
  const std::vector<std::uint8_t> newline = {'a', '\n'};
  EXPECT_FALSE(decode_frame_plaintext(encode_frame_plaintext(FrameType::kClose, newline)));

  std::vector<std::uint8_t> hash(kConfirmSize, 7);
  EXPECT_TRUE(decode_frame_plaintext(encode_frame_plaintext(FrameType::kConfirm, hash)));
  hash.pop_back();
  EXPECT_FALSE(decode_frame_plaintext(encode_frame_plaintext(FrameType::kConfirm, hash)));

  const std::vector<std::uint8_t> unknown = {9, 1};
  EXPECT_FALSE(decode_frame_plaintext(unknown));
  EXPECT_FALSE(decode_frame_plaintext({}));
}

TEST(Crypto, SealOpenWithCountersAndTamperDetection) {
  const KeyPair a = generate_keypair();
  const KeyPair b = generate_keypair();
  auto ab = x25519(a.secret_key, b.public_key);
  auto ba = x25519(b.secret_key, a.public_key);
  ASSERT_TRUE(ab && ba);
  EXPECT_TRUE(equal_ct(ab->bytes, ba->bytes));
  const SecretKey k = derive_key(ab->bytes, "test");
  CipherState tx(k);
  CipherState rx(k);
  const std::vector<std::uint8_t> ad = {0, 0, 0, 1};
  std::vector<std::uint8_t> c0, c1, out;
  tx.seal(ad, std::vector<std::uint8_t>{'h', 'i'}, c0);
  tx.seal(ad, std::vector<std::uint8_t>{'h', 'o'}, c1);
  EXPECT_FALSE(rx.open(ad, c1, out)) << "out of order must fail";
  ASSERT_TRUE(rx.open(ad, c0, out));
  EXPECT_EQ(out, (std::vector<std::uint8_t>{'h', 'i'}));
  EXPECT_FALSE(rx.open(ad, c0, out)) << "replay must fail";
  auto bad = c1;
  bad[0] ^= 1;
  EXPECT_FALSE(rx.open(ad, bad, out)) << "tampered must fail";
  const std::vector<std::uint8_t> other_ad = {0, 0, 0, 2};
  EXPECT_FALSE(rx.open(other_ad, c1, out)) << "wrong associated data must fail";
  ASSERT_TRUE(rx.open(ad, c1, out));
  EXPECT_EQ(rx.counter(), 2u);
}

TEST(Crypto, RejectsLowOrderPointsAndParsesBase64Keys) {
  const KeyPair a = generate_keypair();
  const PublicKey zero{};
  EXPECT_FALSE(x25519(a.secret_key, zero));
  const std::string text = key_to_base64(a.public_key);
  EXPECT_EQ(text.size(), 44u);
  auto back = parse_public_key(text);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, a.public_key);
  EXPECT_FALSE(parse_public_key(text.substr(0, 40)));
  EXPECT_FALSE(parse_public_key(text + "AA=="));
  EXPECT_FALSE(parse_public_key("not base64!"));
}

TEST(Crypto, PasswordKeyIsDeterministicAndDistinct) {
  auto a1 = derive_password_key("s3cret");
  auto a2 = derive_password_key("s3cret");
  auto b = derive_password_key("s3cret!");
  ASSERT_TRUE(a1 && a2 && b);
  EXPECT_EQ(a1->bytes, a2->bytes);
  EXPECT_NE(a1->bytes, b->bytes);
}

}  // namespace
}  // namespace weft::router
