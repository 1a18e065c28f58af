// Cidr (an address block such as 10.32.0.0/12) and AddressRange (an inclusive span of
// addresses), with the arithmetic IPAM and routing need.
//
// Design note on sizes: ::/0 holds 2^128 addresses, one more than U128 can count. Every
// block and range therefore offers last_offset() = size - 1, which is exact for all of them,
// and size(), which is exact except that ::/0 (and the full IPv6 range) saturates to
// kU128Max. Sizes of blocks are powers of two and 2^128 - 1 is not one, so a saturated
// size() is never mistaken for a real block size. Ranges use inclusive bounds for the same
// reason: the whole space is representable without a past-the-end address.
//
// A Cidr normally has no host bits (parse_cidr / make reject them); parse_host_cidr /
// make_host keep them for interface addresses such as 10.32.0.5/12, and network() and the
// other block operations then act on the block that contains the address.
//
// Contract: plain values (copyable, thread-compatible). Parsers never throw.
#pragma once

#include <compare>
#include <cstddef>
#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/ip_address.hpp"
#include "common/result.hpp"
#include "common/uint128.hpp"
#include <fmt/format.h>

namespace weft {

class Cidr {
 public:
  // 0.0.0.0/0.
  constexpr Cidr() = default;

  // network/prefix_length. Fails (kInvalidArgument) when the prefix length is outside
  // [0, bit width] or the address has bits set past the prefix.
  static Result<Cidr> make(const IpAddress& network, int prefix_length);
  // Keeps host bits (an interface address); fails only on a bad prefix length.
  static Result<Cidr> make_host(const IpAddress& address, int prefix_length);
  // The block of the given length that contains `address`; fails only on a bad length.
  static Result<Cidr> containing(const IpAddress& address, int prefix_length);
  // address/32 or address/128.
  static Cidr single(const IpAddress& address);

  // The address as given: network() unless made with make_host / parse_host_cidr.
  const IpAddress& address() const { return address_; }
  int prefix_length() const { return prefix_; }
  IpFamily family() const { return address_.family(); }
  int bit_width() const { return address_.bit_width(); }
  bool has_host_bits() const { return address_ != network(); }

  // First and last address of the block; broadcast() is the IPv4 name for last().
  IpAddress network() const;
  IpAddress last() const;
  IpAddress broadcast() const { return last(); }
  // The prefix as a mask (255.255.240.0 for /20).
  IpAddress netmask() const;
  // network()/prefix_length(): this block without host bits.
  Cidr masked() const;

  // size() - 1, exact for every block (2^128 - 1 for ::/0).
  U128 last_offset() const { return u128_mask(bit_width() - prefix_); }
  // 2^(bit width - prefix length); ::/0 saturates to kU128Max (see the design note).
  U128 size() const;
  // network() + n; fails (kExhausted) when n > last_offset().
  Result<IpAddress> nth(U128 n) const;

  // Containment and overlap are false across families.
  bool contains(const IpAddress& address) const;
  bool contains(const Cidr& other) const;
  bool overlaps(const Cidr& other) const;

  // The two halves (prefix length + 1); fails (kInvalidArgument) on a single address.
  Result<std::pair<Cidr, Cidr>> split() const;

  // "10.32.0.0/12" (address() as given, so host bits show).
  std::string to_string() const;

  friend constexpr auto operator<=>(const Cidr&, const Cidr&) = default;

 private:
  Cidr(const IpAddress& address, int prefix) : address_(address), prefix_(prefix) {}

  IpAddress address_;
  int prefix_ = 0;
};

// Parses "10.32.0.0/12", "fd00:19::/48". Rejects host bits ("10.32.0.5/12"), a missing or
// malformed prefix length (empty, non-digits, leading zeros, over the bit width) and any
// address parse_ip_address rejects.
Result<Cidr> parse_cidr(std::string_view text);
// The same, but keeps host bits: "10.32.0.5/12" is address 10.32.0.5 in 10.32.0.0/12.
Result<Cidr> parse_host_cidr(std::string_view text);

// An inclusive span [first, last] of addresses of one family.
class AddressRange {
 public:
  // 0.0.0.0-0.0.0.0.
  constexpr AddressRange() = default;

  // Fails (kInvalidArgument) when the families differ or last < first.
  static Result<AddressRange> make(const IpAddress& first, const IpAddress& last);
  // The addresses of a block (host bits ignored).
  static AddressRange of(const Cidr& cidr);

  const IpAddress& first() const { return first_; }
  const IpAddress& last() const { return last_; }
  IpFamily family() const { return first_.family(); }

  // size() - 1, exact; size() saturates to kU128Max for the full IPv6 range.
  U128 last_offset() const { return last_.value() - first_.value(); }
  U128 size() const;

  bool contains(const IpAddress& address) const;
  bool contains(const AddressRange& other) const;
  bool overlaps(const AddressRange& other) const;

  // "10.0.0.1-10.0.0.9".
  std::string to_string() const;

  friend constexpr auto operator<=>(const AddressRange&, const AddressRange&) = default;

 private:
  AddressRange(const IpAddress& first, const IpAddress& last) : first_(first), last_(last) {}

  IpAddress first_;
  IpAddress last_;
};

// The common part of two ranges; nullopt when they are disjoint or of different families.
std::optional<AddressRange> intersect(const AddressRange& a, const AddressRange& b);

// The fewest blocks whose union is exactly `range`, in address order, none with host bits
// (at most 2 * bit width - 2 of them; one block when the range is a block).
std::vector<Cidr> range_to_cidrs(const AddressRange& range);

// Print to_string() (used by GoogleTest messages).
std::ostream& operator<<(std::ostream& out, const Cidr& cidr);
std::ostream& operator<<(std::ostream& out, const AddressRange& range);

}  // namespace weft

template <>
struct std::hash<weft::Cidr> {
  std::size_t operator()(const weft::Cidr& cidr) const noexcept {
    return std::hash<weft::IpAddress>{}(cidr.address()) * 31 +
           static_cast<std::size_t>(cidr.prefix_length());
  }
};

template <>
struct fmt::formatter<weft::Cidr> : fmt::formatter<std::string_view> {
  auto format(const weft::Cidr& cidr, fmt::format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(cidr.to_string(), ctx);
  }
};

template <>
struct fmt::formatter<weft::AddressRange> : fmt::formatter<std::string_view> {
  auto format(const weft::AddressRange& range, fmt::format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(range.to_string(), ctx);
  }
};
