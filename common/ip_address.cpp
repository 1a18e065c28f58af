#include "common/ip_address.hpp"

#include <algorithm>
#include <cassert>
#include <iterator>
#include <ostream>

#include "common/address.hpp"
#include "common/hex.hpp"

namespace weft {
namespace {

constexpr std::size_t kNpos = std::string_view::npos;

// "'x'" for a printable character, "byte 0x07" for anything else.
std::string describe_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u >= 0x21 && u < 0x7f) {
    return fmt::format("'{}'", c);
  }
  return fmt::format("byte 0x{:02x}", u);
}

// Parses exactly "a.b.c.d" into out[0..3]. Returns the reason on failure, "" on success.
std::string parse_dotted_quad(std::string_view text, std::uint8_t* out) {
  int dots = 0;
  for (const char c : text) {
    if (c == '.') {
      ++dots;
    } else if (c < '0' || c > '9') {
      return fmt::format("unexpected character {}", describe_char(c));
    }
  }
  if (dots != 3) {
    return fmt::format("expected 4 parts, got {}", dots + 1);
  }
  std::size_t pos = 0;
  for (int part = 1; part <= 4; ++part) {
    const std::size_t dot = text.find('.', pos);
    const std::string_view digits = text.substr(pos, dot == kNpos ? kNpos : dot - pos);
    if (digits.empty()) {
      return fmt::format("part {} is empty", part);
    }
    if (digits.size() > 1 && digits[0] == '0') {
      return fmt::format("part {} has a leading zero", part);
    }
    unsigned value = 0;
    for (const char c : digits) {
      value = value * 10 + static_cast<unsigned>(c - '0');
      if (value > 255) {
        return fmt::format("part {} is over 255", part);
      }
    }
    out[part - 1] = static_cast<std::uint8_t>(value);
    pos = dot + 1;
  }
  return {};
}

// Parses colon-separated groups (no "::") into groups[count...], advancing count. A dotted
// quad is accepted as the last field when `dotted_ok`. Returns the reason on failure.
std::string parse_groups(std::string_view part, bool dotted_ok, std::uint16_t (&groups)[8],
                         int& count) {
  if (part.empty()) {
    return {};
  }
  std::size_t pos = 0;
  for (;;) {
    const std::size_t colon = part.find(':', pos);
    const bool last = colon == kNpos;
    const std::string_view field = part.substr(pos, last ? kNpos : colon - pos);
    if (field.empty()) {
      return "empty group";
    }
    if (field.find('.') != kNpos) {
      if (!last || !dotted_ok) {
        return "an embedded IPv4 address must come last";
      }
      if (count > 6) {
        return "too many groups";
      }
      std::uint8_t quad[4];
      if (auto why = parse_dotted_quad(field, quad); !why.empty()) {
        return "embedded IPv4 address: " + why;
      }
      groups[count++] = static_cast<std::uint16_t>(quad[0] << 8 | quad[1]);
      groups[count++] = static_cast<std::uint16_t>(quad[2] << 8 | quad[3]);
    } else {
      if (field.size() > 4) {
        return "a group has more than 4 hex digits";
      }
      if (count >= 8) {
        return "too many groups";
      }
      unsigned value = 0;
      for (const char c : field) {
        value = value << 4 | static_cast<unsigned>(hex_value(c));
      }
      groups[count++] = static_cast<std::uint16_t>(value);
    }
    if (last) {
      return {};
    }
    pos = colon + 1;
  }
}

// Parses IPv6 text (known to contain ':') into out. Returns the reason on failure.
std::string parse_v6_text(std::string_view text, IpAddress::Bytes& out) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%') {
      return fmt::format("zone id {} is not supported", detail::quote_untrusted(text.substr(i)));
    }
    if (c != ':' && c != '.' && hex_value(c) < 0) {
      return fmt::format("unexpected character {}", describe_char(c));
    }
  }
  if (text.find(":::") != kNpos) {
    return "\":::\" is not allowed";
  }
  if (text.front() == ':' && text.substr(0, 2) != "::") {
    return "starts with a single ':'";
  }
  if (text.back() == ':' && text.substr(text.size() - 2) != "::") {
    return "ends with a single ':'";
  }
  std::uint16_t groups[8] = {};
  int head = 0;
  const std::size_t gap = text.find("::");
  if (gap == kNpos) {
    if (auto why = parse_groups(text, true, groups, head); !why.empty()) {
      return why;
    }
    if (head != 8) {
      return fmt::format("expected 8 groups, got {}", head);
    }
  } else {
    if (text.find("::", gap + 2) != kNpos) {
      return "more than one \"::\"";
    }
    if (auto why = parse_groups(text.substr(0, gap), false, groups, head); !why.empty()) {
      return why;
    }
    std::uint16_t tail_groups[8] = {};
    int tail = 0;
    if (auto why = parse_groups(text.substr(gap + 2), true, tail_groups, tail); !why.empty()) {
      return why;
    }
    if (head + tail > 7) {
      return fmt::format("\"::\" must stand for at least one zero group, but {} groups are given",
                         head + tail);
    }
    // The zeros between head and tail are already in groups[]; move the tail to the end.
    for (int i = 0; i < tail; ++i) {
      groups[8 - tail + i] = tail_groups[i];
    }
  }
  for (int i = 0; i < 8; ++i) {
    out[2 * i] = static_cast<std::uint8_t>(groups[i] >> 8);
    out[2 * i + 1] = static_cast<std::uint8_t>(groups[i]);
  }
  return {};
}

// RFC 5952: lowercase, no leading zeros, the longest run (the first on a tie) of two or more
// zero groups as "::", and ::ffff:a.b.c.d for v4-mapped addresses.
std::string format_v6(const IpAddress::Bytes& b, bool v4_mapped) {
  if (v4_mapped) {
    return fmt::format("::ffff:{}.{}.{}.{}", b[12], b[13], b[14], b[15]);
  }
  unsigned words[8];
  for (int i = 0; i < 8; ++i) {
    words[i] = static_cast<unsigned>(b[2 * i] << 8 | b[2 * i + 1]);
  }
  int best_start = -1;
  int best_len = 1;  // a lone zero group is not compressed
  for (int i = 0; i < 8;) {
    if (words[i] != 0) {
      ++i;
      continue;
    }
    int j = i;
    while (j < 8 && words[j] == 0) {
      ++j;
    }
    if (j - i > best_len) {
      best_start = i;
      best_len = j - i;
    }
    i = j;
  }
  std::string out;
  out.reserve(39);
  for (int i = 0; i < 8; ++i) {
    if (i == best_start) {
      out += "::";
      i += best_len - 1;
      continue;
    }
    if (!out.empty() && out.back() != ':') {
      out += ':';
    }
    fmt::format_to(std::back_inserter(out), "{:x}", words[i]);
  }
  return out;
}

Error overflow_error(const IpAddress& a, char op, U128 offset) {
  return make_error(Errc::kExhausted, "{} {} {} is outside the {} address space", a, op,
                    u128_to_string(offset), family_name(a.family()));
}

}  // namespace

std::string_view family_name(IpFamily family) {
  return family == IpFamily::kV4 ? "IPv4" : "IPv6";
}

IpAddress IpAddress::v4(std::uint32_t value) {
  IpAddress a;
  for (int i = 0; i < 4; ++i) {
    a.bytes_[i] = static_cast<std::uint8_t>(value >> (24 - 8 * i));
  }
  return a;
}

IpAddress IpAddress::v4(const std::array<std::uint8_t, 4>& bytes) {
  IpAddress a;
  for (int i = 0; i < 4; ++i) {
    a.bytes_[i] = bytes[i];
  }
  return a;
}

IpAddress IpAddress::v6(const Bytes& bytes) {
  IpAddress a;
  a.family_ = IpFamily::kV6;
  a.bytes_ = bytes;
  return a;
}

IpAddress IpAddress::v6(U128 value) {
  Bytes bytes;
  for (int i = 15; i >= 0; --i) {
    bytes[i] = static_cast<std::uint8_t>(value);
    value >>= 8;
  }
  return v6(bytes);
}

IpAddress IpAddress::lowest(IpFamily family) {
  return family == IpFamily::kV4 ? v4(0U) : v6(U128{0});
}

IpAddress IpAddress::highest(IpFamily family) {
  return family == IpFamily::kV4 ? v4(0xffffffffU) : v6(kU128Max);
}

Result<IpAddress> IpAddress::from_value(IpFamily family, U128 value) {
  if (family == IpFamily::kV6) {
    return v6(value);
  }
  if (value > 0xffffffffU) {
    return make_error(Errc::kInvalidArgument, "value {} does not fit an IPv4 address",
                      u128_to_string(value));
  }
  return v4(static_cast<std::uint32_t>(value));
}

Result<IpAddress> IpAddress::from_bytes(std::span<const std::uint8_t> bytes) {
  if (bytes.size() == 4) {
    return v4(std::array<std::uint8_t, 4>{bytes[0], bytes[1], bytes[2], bytes[3]});
  }
  if (bytes.size() == 16) {
    Bytes b;
    std::copy(bytes.begin(), bytes.end(), b.begin());
    return v6(b);
  }
  return make_error(Errc::kInvalidArgument, "an IP address has 4 or 16 bytes, not {}",
                    bytes.size());
}

IpAddress IpAddress::from_asio(const boost::asio::ip::address& address) {
  if (address.is_v4()) {
    return v4(address.to_v4().to_bytes());
  }
  return v6(address.to_v6().to_bytes());
}

U128 IpAddress::value() const {
  U128 v = 0;
  for (const std::uint8_t b : bytes()) {
    v = v << 8 | b;
  }
  return v;
}

std::uint32_t IpAddress::v4_value() const {
  assert(is_v4());
  return static_cast<std::uint32_t>(value());
}

bool IpAddress::is_v4_mapped() const {
  if (!is_v6()) {
    return false;
  }
  for (int i = 0; i < 10; ++i) {
    if (bytes_[i] != 0) {
      return false;
    }
  }
  return bytes_[10] == 0xff && bytes_[11] == 0xff;
}

bool IpAddress::is_link_local() const {
  if (is_v4()) {
    return bytes_[0] == 169 && bytes_[1] == 254;
  }
  return bytes_[0] == 0xfe && (bytes_[1] & 0xc0) == 0x80;
}

IpAddress IpAddress::unmap() const {
  if (!is_v4_mapped()) {
    return *this;
  }
  return v4(std::array<std::uint8_t, 4>{bytes_[12], bytes_[13], bytes_[14], bytes_[15]});
}

IpAddress IpAddress::to_v4_mapped() const {
  if (!is_v4()) {
    return *this;
  }
  return v6((U128{0xffff} << 32) | value());
}

boost::asio::ip::address IpAddress::to_asio() const {
  if (is_v4()) {
    return boost::asio::ip::address_v4(
        boost::asio::ip::address_v4::bytes_type{bytes_[0], bytes_[1], bytes_[2], bytes_[3]});
  }
  return boost::asio::ip::address_v6(bytes_);
}

std::string IpAddress::to_string() const {
  if (is_v4()) {
    return fmt::format("{}.{}.{}.{}", bytes_[0], bytes_[1], bytes_[2], bytes_[3]);
  }
  return format_v6(bytes_, is_v4_mapped());
}

Result<IpAddress> IpAddress::next() const {
  return add(1);
}

Result<IpAddress> IpAddress::prev() const {
  return subtract(1);
}

Result<IpAddress> IpAddress::add(U128 offset) const {
  const U128 v = value();
  if (offset > u128_mask(bit_width()) - v) {
    return overflow_error(*this, '+', offset);
  }
  return from_value(family_, v + offset);
}

Result<IpAddress> IpAddress::subtract(U128 offset) const {
  const U128 v = value();
  if (offset > v) {
    return overflow_error(*this, '-', offset);
  }
  return from_value(family_, v - offset);
}

Result<U128> IpAddress::distance_to(const IpAddress& to) const {
  if (to.family_ != family_) {
    return make_error(Errc::kInvalidArgument, "no distance between {} and {}: families differ",
                      *this, to);
  }
  if (to < *this) {
    return make_error(Errc::kInvalidArgument, "no distance from {} to the lower address {}", *this,
                      to);
  }
  return to.value() - value();
}

Result<IpAddress> parse_ip_address(std::string_view text) {
  if (text.empty()) {
    return make_error(Errc::kInvalidArgument, "invalid IP address \"\": empty");
  }
  if (text.find(':') == kNpos) {
    std::array<std::uint8_t, 4> b{};
    if (auto why = parse_dotted_quad(text, b.data()); !why.empty()) {
      return make_error(Errc::kInvalidArgument, "invalid IPv4 address {}: {}",
                        detail::quote_untrusted(text), why);
    }
    return IpAddress::v4(b);
  }
  IpAddress::Bytes b{};
  if (auto why = parse_v6_text(text, b); !why.empty()) {
    return make_error(Errc::kInvalidArgument, "invalid IPv6 address {}: {}",
                      detail::quote_untrusted(text), why);
  }
  return IpAddress::v6(b);
}

std::ostream& operator<<(std::ostream& out, const IpAddress& address) {
  return out << address.to_string();
}

}  // namespace weft

std::size_t std::hash<weft::IpAddress>::operator()(const weft::IpAddress& address) const noexcept {
  const weft::U128 v = address.value();
  // splitmix64 finaliser over both halves and the family.
  std::uint64_t h = weft::u128_high(v) * 0x9e3779b97f4a7c15ULL ^ weft::u128_low(v) ^
                    (static_cast<std::uint64_t>(address.family()) << 56);
  h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ULL;
  h = (h ^ (h >> 27)) * 0x94d049bb133111ebULL;
  return static_cast<std::size_t>(h ^ (h >> 31));
}
