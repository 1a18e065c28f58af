// U128: the unsigned 128-bit integer used for address arithmetic (an IPv6 address is one
// U128; an IPv4 address uses the low 32 bits).
//
// Design note: GCC and clang both provide `unsigned __int128`; `__extension__` keeps
// -Wpedantic quiet. fmt 9 formats it natively (`fmt::format("{}", v)`); the helpers below
// exist for code and tests that want a string without going through fmt (and for hex).
#pragma once

#include <cstdint>
#include <string>

namespace weft {

__extension__ using U128 = unsigned __int128;

inline constexpr U128 kU128Max = ~U128{0};

constexpr U128 make_u128(std::uint64_t high, std::uint64_t low) {
  return (static_cast<U128>(high) << 64) | low;
}
constexpr std::uint64_t u128_high(U128 v) {
  return static_cast<std::uint64_t>(v >> 64);
}
constexpr std::uint64_t u128_low(U128 v) {
  return static_cast<std::uint64_t>(v);
}

// 2^bits - 1 for bits in [0, 128]: the largest value that fits in `bits` bits.
constexpr U128 u128_mask(int bits) {
  return bits >= 128 ? kU128Max : bits <= 0 ? U128{0} : (U128{1} << bits) - 1;
}

// Decimal text, e.g. "340282366920938463463374607431768211455".
inline std::string u128_to_string(U128 v) {
  char buf[40];
  int pos = sizeof(buf);
  do {
    buf[--pos] = static_cast<char>('0' + static_cast<int>(v % 10));
    v /= 10;
  } while (v != 0);
  return {buf + pos, buf + sizeof(buf)};
}

// Lowercase hex with a "0x" prefix and no leading zeros, e.g. "0xff", "0x0".
inline std::string u128_to_hex(U128 v) {
  char buf[34];
  int pos = sizeof(buf);
  do {
    buf[--pos] = "0123456789abcdef"[static_cast<int>(v & 0xf)];
    v >>= 4;
  } while (v != 0);
  buf[--pos] = 'x';
  buf[--pos] = '0';
  return {buf + pos, buf + sizeof(buf)};
}

}  // namespace weft
