// IpAddress: one value type for IPv4 and IPv6 addresses.
//
// Design note: a family tag plus 16 bytes in network order. An IPv4 address uses the first
// 4 bytes (the rest stay zero) and is never stored as v4-mapped IPv6, so 10.0.0.1 and
// ::ffff:10.0.0.1 are different values (unmap() converts). The defaulted ordering is
// therefore "every IPv4 before every IPv6, then numeric", and equality is exact. Arithmetic
// goes through U128 and reports overflow past either end of the family's space as an error
// (Errc::kExhausted) instead of wrapping. Text is parsed strictly (RFC 4291 forms; IPv4
// without leading zeros, the same as glibc inet_pton) and formatted canonically (RFC 5952:
// lowercase, longest zero run as "::", dotted quad only for v4-mapped addresses).
//
// Contract: a plain value (copyable, no heap, thread-compatible). Parsers never throw.
#pragma once

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <span>
#include <string>
#include <string_view>

#include <boost/asio/ip/address.hpp>

#include "common/result.hpp"
#include "common/uint128.hpp"
#include <fmt/format.h>

namespace weft {

// The numeric values order IPv4 before IPv6.
enum class IpFamily : std::uint8_t { kV4 = 4, kV6 = 6 };

// "IPv4" or "IPv6".
std::string_view family_name(IpFamily family);
// 32 or 128.
constexpr int family_bits(IpFamily family) {
  return family == IpFamily::kV4 ? 32 : 128;
}

class IpAddress {
 public:
  using Bytes = std::array<std::uint8_t, 16>;

  // 0.0.0.0.
  constexpr IpAddress() = default;

  // From a host-order integer: v4(0x0a000001) is 10.0.0.1.
  static IpAddress v4(std::uint32_t value);
  static IpAddress v4(const std::array<std::uint8_t, 4>& bytes);
  static IpAddress v6(const Bytes& bytes);
  static IpAddress v6(U128 value);
  // The lowest (0.0.0.0, ::) and highest (255.255.255.255, ffff:...:ffff) addresses.
  static IpAddress lowest(IpFamily family);
  static IpAddress highest(IpFamily family);
  // Fails (kInvalidArgument) when `value` does not fit the family (over 2^32-1 for IPv4).
  static Result<IpAddress> from_value(IpFamily family, U128 value);
  // 4 bytes make IPv4, 16 make IPv6 (network order); any other size fails.
  static Result<IpAddress> from_bytes(std::span<const std::uint8_t> bytes);
  // The IPv6 scope id, if any, is dropped: it belongs to the endpoint, not the address.
  static IpAddress from_asio(const boost::asio::ip::address& address);

  IpFamily family() const { return family_; }
  bool is_v4() const { return family_ == IpFamily::kV4; }
  bool is_v6() const { return family_ == IpFamily::kV6; }
  // 32 or 128.
  int bit_width() const { return family_bits(family_); }

  // The address as an integer (IPv4 in the low 32 bits).
  U128 value() const;
  // Host-order IPv4 value; must only be called on an IPv4 address.
  std::uint32_t v4_value() const;
  // 4 or 16 bytes in network order, viewing this object.
  std::span<const std::uint8_t> bytes() const {
    return {bytes_.data(), is_v4() ? std::size_t{4} : std::size_t{16}};
  }

  // True for IPv6 ::ffff:a.b.c.d.
  bool is_v4_mapped() const;
  // 169.254.0.0/16 and fe80::/10.
  bool is_link_local() const;
  // The IPv4 address of a v4-mapped IPv6 address; any other address is returned unchanged.
  IpAddress unmap() const;
  // ::ffff:a.b.c.d for an IPv4 address; an IPv6 address is returned unchanged.
  IpAddress to_v4_mapped() const;

  boost::asio::ip::address to_asio() const;
  // Dotted quad for IPv4, RFC 5952 canonical text for IPv6.
  std::string to_string() const;

  // Neighbouring addresses; fail (kExhausted) past the end of the family's space.
  Result<IpAddress> next() const;
  Result<IpAddress> prev() const;
  // this + offset / this - offset; fail (kExhausted) when the result leaves the space.
  Result<IpAddress> add(U128 offset) const;
  Result<IpAddress> subtract(U128 offset) const;
  // to - this. Fails (kInvalidArgument) when the families differ or `to` is below this.
  Result<U128> distance_to(const IpAddress& to) const;

  friend constexpr auto operator<=>(const IpAddress&, const IpAddress&) = default;

 private:
  IpFamily family_ = IpFamily::kV4;
  Bytes bytes_{};
};

// Parses "10.32.0.1", "fd00::1", "::ffff:1.2.3.4", ... Text with ':' is IPv6, other text
// IPv4. Rejects (kInvalidArgument, with the reason): empty text, IPv4 with other than 4
// parts or leading zeros ("01") or parts over 255, IPv6 with more than one "::", groups of
// over 4 hex digits, the wrong number of groups, a "::" standing for no group, a dotted
// quad anywhere but at the end, zone ids ("fe80::1%eth0"), and any other character.
Result<IpAddress> parse_ip_address(std::string_view text);

// Prints to_string() (used by GoogleTest messages).
std::ostream& operator<<(std::ostream& out, const IpAddress& address);

}  // namespace weft

template <>
struct std::hash<weft::IpAddress> {
  std::size_t operator()(const weft::IpAddress& address) const noexcept;
};

template <>
struct fmt::formatter<weft::IpAddress> : fmt::formatter<std::string_view> {
  auto format(const weft::IpAddress& address, fmt::format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(address.to_string(), ctx);
  }
};
