// Fuzz target for the wire-format decoders of router/protocol.hpp. The first byte picks the
// decoder; every accepted input must re-encode to exactly the same bytes (the encodings are
// canonical), and accepted values must respect the documented limits.
// fuzz-deps: weft_router
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>

#include "router/protocol.hpp"

namespace {

using namespace weft::router;

void check_hello(std::span<const std::uint8_t> in) {
  (void)decode_hello_header(in.first(std::min(in.size(), kHelloHeaderSize)));
  auto h = decode_hello(in);
  if (!h) {
    return;
  }
  if (h->nickname.size() > kMaxNickname || h->extensions.size() > kMaxHelloExtensions ||
      h->min_version == 0 || h->min_version > h->max_version || h->name.empty()) {
    __builtin_trap();
  }
  const auto again = encode_hello(*h);
  if (!std::equal(again.begin(), again.end(), in.begin(), in.end())) {
    __builtin_trap();
  }
}

void check_frame_header(std::span<const std::uint8_t> in) {
  auto n = decode_frame_header(in);
  if (!n) {
    return;
  }
  if (*n < kMinFrameCiphertext || *n > kMaxFrameCiphertext) {
    __builtin_trap();
  }
  const auto again = encode_frame_header(*n);
  if (!std::equal(again.begin(), again.end(), in.begin(), in.end())) {
    __builtin_trap();
  }
}

void check_plaintext(std::span<const std::uint8_t> in) {
  auto f = decode_frame_plaintext(in);
  if (!f) {
    return;
  }
  const auto again = encode_frame_plaintext(f->type, f->payload);
  if (!std::equal(again.begin(), again.end(), in.begin(), in.end())) {
    __builtin_trap();
  }
}

void check_versions(std::span<const std::uint8_t> in) {
  if (in.size() < 8) {
    return;
  }
  auto u16 = [&](std::size_t i) {
    return static_cast<std::uint16_t>((in[i] << 8) | in[i + 1]);
  };
  auto v = negotiate_version(u16(0), u16(2), u16(4), u16(6));
  if (v && (*v < u16(0) || *v > u16(2) || *v < u16(4) || *v > u16(6))) {
    __builtin_trap();
  }
  (void)is_printable_utf8(in.subspan(8));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) {
    return 0;
  }
  const std::span<const std::uint8_t> in(data + 1, size - 1);
  switch (data[0] % 4) {
    case 0:
      check_hello(in);
      break;
    case 1:
      check_frame_header(in);
      break;
    case 2:
      check_plaintext(in);
      break;
    default:
      check_versions(in);
      break;
  }
  return 0;
}
