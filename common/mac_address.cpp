#include "common/mac_address.hpp"

#include <ostream>

#include "common/address.hpp"
#include "common/hex.hpp"

namespace weft {
namespace {

// Returns the reason the text is not a MAC address, or "" with `out` filled.
std::string parse_into(std::string_view text, MacAddress::Bytes& out) {
  constexpr std::size_t kLength = 17;  // 6 * 2 digits + 5 separators
  if (text.size() != kLength) {
    return fmt::format("expected 17 characters (6 groups of 2 hex digits), got {}", text.size());
  }
  const char separator = text[2];
  if (separator != ':' && separator != '-') {
    return "groups must be separated by ':' or '-'";
  }
  for (std::size_t group = 0; group < 6; ++group) {
    const std::size_t at = group * 3;
    if (group > 0 && text[at - 1] != separator) {
      return fmt::format("expected '{}' before group {}", separator, group + 1);
    }
    const int high = hex_value(text[at]);
    const int low = hex_value(text[at + 1]);
    if (high < 0 || low < 0) {
      return fmt::format("group {} is not two hex digits", group + 1);
    }
    out[group] = static_cast<std::uint8_t>(high << 4 | low);
  }
  return {};
}

}  // namespace

Result<MacAddress> MacAddress::from_uint64(std::uint64_t value) {
  if (value >> 48 != 0) {
    return make_error(Errc::kInvalidArgument, "0x{:x} does not fit in 48 bits", value);
  }
  Bytes bytes;
  for (int i = 5; i >= 0; --i) {
    bytes[i] = static_cast<std::uint8_t>(value);
    value >>= 8;
  }
  return MacAddress(bytes);
}

std::uint64_t MacAddress::to_uint64() const {
  std::uint64_t v = 0;
  for (const std::uint8_t b : bytes_) {
    v = v << 8 | b;
  }
  return v;
}

bool MacAddress::is_broadcast() const {
  for (const std::uint8_t b : bytes_) {
    if (b != 0xff) {
      return false;
    }
  }
  return true;
}

std::string MacAddress::to_string() const {
  return fmt::format("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", bytes_[0], bytes_[1], bytes_[2],
                     bytes_[3], bytes_[4], bytes_[5]);
}

Result<MacAddress> parse_mac_address(std::string_view text) {
  MacAddress::Bytes bytes{};
  if (auto why = parse_into(text, bytes); !why.empty()) {
    return make_error(Errc::kInvalidArgument, "invalid MAC address {}: {}",
                      detail::quote_untrusted(text), why);
  }
  return MacAddress(bytes);
}

std::ostream& operator<<(std::ostream& out, const MacAddress& mac) {
  return out << mac.to_string();
}

}  // namespace weft
