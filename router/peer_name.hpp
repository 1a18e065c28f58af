// PeerName: the persistent 48-bit identity of a peer, written MAC-style (aa:bb:cc:dd:ee:ff)
// as in Weave Net. Generated once per host and stored in the data directory.
#pragma once

#include <compare>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "common/result.hpp"
#include <fmt/format.h>

namespace weft::router {

struct PeerName {
  static constexpr std::uint64_t kMask = 0xffff'ffff'ffffULL;

  std::uint64_t value = 0;

  auto operator<=>(const PeerName&) const = default;
  std::string to_string() const;
  bool empty() const { return value == 0; }
};

// Parses "aa:bb:cc:dd:ee:ff" (case-insensitive; '-' separators accepted).
Result<PeerName> parse_peer_name(std::string_view text);

}  // namespace weft::router

template <>
struct std::hash<weft::router::PeerName> {
  std::size_t operator()(const weft::router::PeerName& n) const noexcept {
    return std::hash<std::uint64_t>{}(n.value);
  }
};

template <>
struct fmt::formatter<weft::router::PeerName> : fmt::formatter<std::string_view> {
  auto format(const weft::router::PeerName& n, fmt::format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(n.to_string(), ctx);
  }
};
