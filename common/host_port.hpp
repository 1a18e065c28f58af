// HostPort: "host", "host:port", "[v6]", "[v6]:port" as operators write peer and listen
// addresses. Pure parsing; name resolution happens at dial time.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace weft {

struct HostPort {
  std::string host;  // IP literal (without brackets) or a DNS name
  std::optional<std::uint16_t> port;

  // "host:port" with IPv6 literals in brackets; `default_port` when no port was given.
  std::string to_string(std::uint16_t default_port) const;
};

// Rejects empty hosts, bad ports (0 or > 65535), unbalanced brackets, bare IPv6 literals
// with a port ambiguity ("fd00::1:80" is read as an IPv6 address without port).
Result<HostPort> parse_host_port(std::string_view text);

}  // namespace weft
