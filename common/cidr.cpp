#include "common/cidr.hpp"

#include <algorithm>
#include <cassert>
#include <ostream>

#include "common/address.hpp"

namespace weft {
namespace {

// Number of trailing zero bits of v; 128 for 0.
int trailing_zeros(U128 v) {
  if (u128_low(v) != 0) {
    return __builtin_ctzll(u128_low(v));
  }
  if (u128_high(v) != 0) {
    return 64 + __builtin_ctzll(u128_high(v));
  }
  return 128;
}

// floor(log2(v)) for v > 0.
int floor_log2(U128 v) {
  assert(v != 0);
  if (u128_high(v) != 0) {
    return 127 - __builtin_clzll(u128_high(v));
  }
  return 63 - __builtin_clzll(u128_low(v));
}

Result<int> check_prefix(const IpAddress& address, int prefix_length) {
  if (prefix_length < 0 || prefix_length > address.bit_width()) {
    return make_error(Errc::kInvalidArgument, "prefix length {} is outside [0, {}] for {}",
                      prefix_length, address.bit_width(), family_name(address.family()));
  }
  return prefix_length;
}

// Parses "address/prefix"; `keep_host_bits` selects parse_host_cidr over parse_cidr.
Result<Cidr> parse(std::string_view text, bool keep_host_bits) {
  const auto fail = [&](const std::string& why) -> Error {
    return make_error(Errc::kInvalidArgument, "invalid CIDR {}: {}", detail::quote_untrusted(text),
                      why);
  };
  const std::size_t slash = text.find('/');
  if (slash == std::string_view::npos) {
    return fail("expected an address, '/' and a prefix length");
  }
  auto address = parse_ip_address(text.substr(0, slash));
  if (!address) {
    return fail(address.error().message);
  }
  const std::string_view digits = text.substr(slash + 1);
  if (digits.empty()) {
    return fail("the prefix length is empty");
  }
  int prefix = 0;
  for (const char c : digits) {
    if (c < '0' || c > '9') {
      return fail("the prefix length is not a decimal number");
    }
    prefix = prefix * 10 + (c - '0');
    if (prefix > address->bit_width()) {
      return fail(fmt::format("the prefix length is over {} for {}", address->bit_width(),
                              family_name(address->family())));
    }
  }
  if (digits.size() > 1 && digits[0] == '0') {
    return fail("the prefix length has a leading zero");
  }
  auto cidr = Cidr::make_host(*address, prefix);
  assert(cidr);
  if (!keep_host_bits && cidr->has_host_bits()) {
    return fail(fmt::format("host bits are set (the block is {})", cidr->masked()));
  }
  return cidr;
}

}  // namespace

Result<Cidr> Cidr::make(const IpAddress& network, int prefix_length) {
  auto cidr = make_host(network, prefix_length);
  if (cidr && cidr->has_host_bits()) {
    return make_error(Errc::kInvalidArgument, "{}/{} has host bits set (the block is {})", network,
                      prefix_length, cidr->masked());
  }
  return cidr;
}

Result<Cidr> Cidr::make_host(const IpAddress& address, int prefix_length) {
  auto prefix = check_prefix(address, prefix_length);
  if (!prefix) {
    return prefix.error();
  }
  return Cidr(address, *prefix);
}

Result<Cidr> Cidr::containing(const IpAddress& address, int prefix_length) {
  auto cidr = make_host(address, prefix_length);
  if (!cidr) {
    return cidr.error();
  }
  return cidr->masked();
}

Cidr Cidr::single(const IpAddress& address) {
  return {address, address.bit_width()};
}

IpAddress Cidr::network() const {
  return *IpAddress::from_value(family(), address_.value() & ~last_offset());
}

IpAddress Cidr::last() const {
  return *IpAddress::from_value(family(), address_.value() | last_offset());
}

IpAddress Cidr::netmask() const {
  return *IpAddress::from_value(family(), u128_mask(bit_width()) & ~last_offset());
}

Cidr Cidr::masked() const {
  return {network(), prefix_};
}

U128 Cidr::size() const {
  const U128 last = last_offset();
  return last == kU128Max ? last : last + 1;
}

Result<IpAddress> Cidr::nth(U128 n) const {
  if (n > last_offset()) {
    return make_error(Errc::kExhausted, "{} has no address number {}", masked(), u128_to_string(n));
  }
  return network().add(n);
}

bool Cidr::contains(const IpAddress& address) const {
  return address.family() == family() &&
         (address.value() & ~last_offset()) == (address_.value() & ~last_offset());
}

bool Cidr::contains(const Cidr& other) const {
  return other.prefix_ >= prefix_ && contains(other.address_);
}

bool Cidr::overlaps(const Cidr& other) const {
  // Two blocks are nested or disjoint: they overlap when the larger holds the smaller.
  return contains(other) || other.contains(*this);
}

Result<std::pair<Cidr, Cidr>> Cidr::split() const {
  if (prefix_ == bit_width()) {
    return make_error(Errc::kInvalidArgument, "{} is a single address and cannot be split", *this);
  }
  const Cidr low(network(), prefix_ + 1);
  const Cidr high(*network().add(low.size()), prefix_ + 1);
  return std::pair{low, high};
}

std::string Cidr::to_string() const {
  return fmt::format("{}/{}", address_, prefix_);
}

Result<Cidr> parse_cidr(std::string_view text) {
  return parse(text, false);
}

Result<Cidr> parse_host_cidr(std::string_view text) {
  return parse(text, true);
}

Result<AddressRange> AddressRange::make(const IpAddress& first, const IpAddress& last) {
  if (first.family() != last.family()) {
    return make_error(Errc::kInvalidArgument, "range {}-{} mixes address families", first, last);
  }
  if (last < first) {
    return make_error(Errc::kInvalidArgument, "range {}-{} ends before it starts", first, last);
  }
  return AddressRange(first, last);
}

AddressRange AddressRange::of(const Cidr& cidr) {
  return {cidr.network(), cidr.last()};
}

U128 AddressRange::size() const {
  const U128 last = last_offset();
  return last == kU128Max ? last : last + 1;
}

bool AddressRange::contains(const IpAddress& address) const {
  return address.family() == family() && first_ <= address && address <= last_;
}

bool AddressRange::contains(const AddressRange& other) const {
  return contains(other.first_) && contains(other.last_);
}

bool AddressRange::overlaps(const AddressRange& other) const {
  return other.family() == family() && first_ <= other.last_ && other.first_ <= last_;
}

std::string AddressRange::to_string() const {
  return fmt::format("{}-{}", first_, last_);
}

std::optional<AddressRange> intersect(const AddressRange& a, const AddressRange& b) {
  if (!a.overlaps(b)) {
    return std::nullopt;
  }
  return *AddressRange::make(std::max(a.first(), b.first()), std::min(a.last(), b.last()));
}

std::vector<Cidr> range_to_cidrs(const AddressRange& range) {
  const IpFamily family = range.family();
  const int bits = family_bits(family);
  std::vector<Cidr> out;
  U128 cur = range.first().value();
  const U128 end = range.last().value();
  for (;;) {
    // The largest block that starts at `cur` (alignment) and does not pass `end`.
    const U128 remaining = end - cur;  // addresses left after cur
    const int fit = remaining == kU128Max ? 128 : floor_log2(remaining + 1);
    const int host_bits = std::min({trailing_zeros(cur), fit, bits});
    out.push_back(*Cidr::make(*IpAddress::from_value(family, cur), bits - host_bits));
    const U128 block_last = u128_mask(host_bits);
    if (block_last == remaining) {
      return out;
    }
    cur += block_last + 1;
  }
}

std::ostream& operator<<(std::ostream& out, const Cidr& cidr) {
  return out << cidr.to_string();
}

std::ostream& operator<<(std::ostream& out, const AddressRange& range) {
  return out << range.to_string();
}

}  // namespace weft
