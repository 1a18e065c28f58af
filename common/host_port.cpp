#include "common/host_port.hpp"

#include <algorithm>
#include <charconv>

#include "common/ip_address.hpp"

namespace weft {
namespace {

Result<std::uint16_t> parse_port(std::string_view text, std::string_view whole) {
  unsigned value = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end || value == 0 || value > 65535) {
    return make_error(Errc::kInvalidArgument, "invalid port in \"{}\": expected 1-65535", whole);
  }
  return static_cast<std::uint16_t>(value);
}

bool valid_hostname(std::string_view host) {
  for (char c : host) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '.' || c == '_';
    if (!ok) {
      return false;
    }
  }
  return !host.empty() && host.size() <= 253;
}

}  // namespace

std::string HostPort::to_string(std::uint16_t default_port) const {
  const std::uint16_t p = port.value_or(default_port);
  if (host.find(':') != std::string::npos) {
    return fmt::format("[{}]:{}", host, p);
  }
  return fmt::format("{}:{}", host, p);
}

Result<HostPort> parse_host_port(std::string_view text) {
  HostPort out;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos) {
      return make_error(Errc::kInvalidArgument, "invalid address \"{}\": missing ']'", text);
    }
    const auto inner = text.substr(1, close - 1);
    auto ip = parse_ip_address(inner);
    if (!ip || !ip->is_v6()) {
      return make_error(Errc::kInvalidArgument,
                        "invalid address \"{}\": brackets must hold an IPv6 address", text);
    }
    out.host = std::string(inner);
    const auto rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') {
        return make_error(Errc::kInvalidArgument, "invalid address \"{}\": junk after ']'", text);
      }
      WEFT_TRY(auto port, parse_port(rest.substr(1), text));
      out.port = port;
    }
    return out;
  }
  const auto colons = std::count(text.begin(), text.end(), ':');
  if (colons > 1) {
    // A bare IPv6 literal: no port possible without brackets.
    auto ip = parse_ip_address(text);
    if (!ip) {
      return make_error(Errc::kInvalidArgument, "invalid address \"{}\": {}", text,
                        ip.error().message);
    }
    out.host = std::string(text);
    return out;
  }
  std::string_view host = text;
  if (colons == 1) {
    const auto colon = text.find(':');
    host = text.substr(0, colon);
    WEFT_TRY(auto port, parse_port(text.substr(colon + 1), text));
    out.port = port;
  }
  if (!valid_hostname(host)) {
    return make_error(Errc::kInvalidArgument, "invalid address \"{}\": bad host name", text);
  }
  out.host = std::string(host);
  return out;
}

}  // namespace weft
