// MacAddress: a 48-bit Ethernet address. Weft peer names are 48-bit values written the same
// way ("aa:bb:cc:dd:ee:ff"), so this type also carries them (to_uint64 / from_uint64).
//
// Contract: a plain value (copyable, thread-compatible). The parser never throws.
#pragma once

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>
#include <string_view>

#include "common/result.hpp"
#include <fmt/format.h>

namespace weft {

class MacAddress {
 public:
  using Bytes = std::array<std::uint8_t, 6>;

  // 00:00:00:00:00:00.
  constexpr MacAddress() = default;
  constexpr explicit MacAddress(const Bytes& bytes) : bytes_(bytes) {}

  // The first byte is the most significant: 0xaabbccddeeff is aa:bb:cc:dd:ee:ff.
  // Fails (kInvalidArgument) when bits above the low 48 are set.
  static Result<MacAddress> from_uint64(std::uint64_t value);
  std::uint64_t to_uint64() const;

  const Bytes& bytes() const { return bytes_; }

  // The group bit (I/G, lowest bit of the first byte); broadcast is multicast too.
  bool is_multicast() const { return (bytes_[0] & 0x01) != 0; }
  // ff:ff:ff:ff:ff:ff.
  bool is_broadcast() const;
  // The locally administered bit (U/L, second-lowest bit of the first byte).
  bool is_local_admin() const { return (bytes_[0] & 0x02) != 0; }
  bool is_zero() const { return *this == MacAddress(); }

  // Lowercase with colons: "aa:bb:cc:dd:ee:ff".
  std::string to_string() const;

  friend constexpr auto operator<=>(const MacAddress&, const MacAddress&) = default;

 private:
  Bytes bytes_{};
};

// Parses six groups of exactly two hex digits (either case) separated by ':' or by '-'
// (one kind throughout): "aa:bb:cc:dd:ee:ff", "AA-BB-CC-DD-EE-FF". Anything else fails
// (kInvalidArgument) with the reason.
Result<MacAddress> parse_mac_address(std::string_view text);

// Prints to_string() (used by GoogleTest messages).
std::ostream& operator<<(std::ostream& out, const MacAddress& mac);

}  // namespace weft

template <>
struct std::hash<weft::MacAddress> {
  std::size_t operator()(const weft::MacAddress& mac) const noexcept {
    // The value times an odd constant spreads the 48 bits over the whole word.
    return static_cast<std::size_t>(mac.to_uint64() * 0x9e3779b97f4a7c15ULL);
  }
};

template <>
struct fmt::formatter<weft::MacAddress> : fmt::formatter<std::string_view> {
  auto format(const weft::MacAddress& mac, fmt::format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(mac.to_string(), ctx);
  }
};
