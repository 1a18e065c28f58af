#include "api/ipam.hpp"

#include <nlohmann/json.hpp>

#include "api/paths.hpp"
#include "common/http_parse.hpp"

namespace weft::api {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxIfname = 15;

bool is_control(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u < 0x20 || u == 0x7f;
}

// The optional ?ifname= (validated).
Result<std::optional<std::string>> ifname_query(const QueryParams& query) {
  auto it = query.find("ifname");
  if (it == query.end()) {
    return std::optional<std::string>();
  }
  WEFT_TRY_VOID(validate_ifname(it->second));
  return std::optional<std::string>(it->second);
}

Result<std::string> id_param(const RouteParams& params) {
  WEFT_TRY(auto id, param(params, "id"));
  WEFT_TRY_VOID(validate_container_key("container id", id));
  return id;
}

std::optional<std::string> optional_param(const RouteParams& params, std::string_view name) {
  auto it = params.find(name);
  return it == params.end() ? std::nullopt : std::optional(it->second);
}

std::string trimmed(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
    text.remove_suffix(1);
  }
  return std::string(text);
}

// "net" and "len" of a route as one CIDR text.
std::string joined(std::string_view address, std::string_view len) {
  return std::string(address) + "/" + std::string(len);
}

}  // namespace

std::optional<std::string> to_query(Family family) {
  switch (family) {
    case Family::kV4:
      return "ipv4";
    case Family::kV6:
      return "ipv6";
    case Family::kDual:
      return "dual";
    case Family::kDefault:
      break;
  }
  return std::nullopt;
}

Result<Family> parse_family(std::string_view text) {
  if (text.empty()) {
    return Family::kDefault;
  }
  for (Family f : {Family::kV4, Family::kV6, Family::kDual}) {
    if (text == *to_query(f)) {
      return f;
    }
  }
  return make_error(Errc::kInvalidArgument, "family must be ipv4, ipv6 or dual, not {}",
                    detail::quote_untrusted(text));
}

Result<void> validate_ifname(std::string_view ifname) {
  bool bad = ifname.empty() || ifname.size() > kMaxIfname;
  for (const char c : ifname) {
    bad = bad || c == '/' || c == ' ' || is_control(c);
  }
  if (bad) {
    return make_error(Errc::kInvalidArgument,
                      "bad ifname {}: 1-{} characters, no '/', spaces or control characters",
                      detail::quote_untrusted(ifname), kMaxIfname);
  }
  return {};
}

Result<IpAllocate> parse_ip_allocate(const RouteParams& params, const QueryParams& query) {
  IpAllocate r;
  WEFT_TRY(r.id, id_param(params));
  WEFT_TRY(auto ifname, ifname_query(query));
  r.ifname = ifname.value_or(std::string(kDefaultIfname));
  if (auto it = query.find("family"); it != query.end()) {
    WEFT_TRY(r.family, parse_family(it->second));
  }
  auto net = optional_param(params, "net");
  auto len = optional_param(params, "len");
  if (net || len) {
    WEFT_TRY(auto subnet, parse_cidr(joined(net.value_or(""), len.value_or(""))));
    r.subnet = subnet;
  }
  return r;
}

Result<IpClaim> parse_ip_claim(const RouteParams& params, const QueryParams& query) {
  IpClaim r;
  WEFT_TRY(r.id, id_param(params));
  WEFT_TRY(auto ifname, ifname_query(query));
  r.ifname = ifname.value_or(std::string(kDefaultIfname));
  WEFT_TRY(auto addr, param(params, "addr"));
  if (auto len = optional_param(params, "len")) {
    WEFT_TRY(r.address, parse_host_cidr(joined(addr, *len)));
  } else {
    WEFT_TRY(auto ip, parse_ip_address(addr));
    r.address = Cidr::single(ip);
  }
  return r;
}

Result<IpRelease> parse_ip_release(const RouteParams& params, const QueryParams& query) {
  IpRelease r;
  WEFT_TRY(r.id, id_param(params));
  WEFT_TRY(r.ifname, ifname_query(query));
  if (auto addr = optional_param(params, "addr")) {
    // A prefix length ({len}) may follow; only the address counts.
    WEFT_TRY(auto ip, parse_ip_address(*addr));
    r.address = ip;
  }
  return r;
}

Result<std::string> parse_ip_lookup(const RouteParams& params) {
  return id_param(params);
}

std::string target(const IpAllocate& r) {
  const QueryPairs query = {{"ifname", r.ifname}, {"family", to_query(r.family)}};
  if (!r.subnet) {
    return target(RouteId::kIpAllocate, {r.id}, query);
  }
  const std::string net = r.subnet->address().to_string();
  const std::string len = std::to_string(r.subnet->prefix_length());
  return target(RouteId::kIpAllocateIn, {r.id, net, len}, query);
}

std::string target(const IpClaim& r) {
  const std::string addr = r.address.address().to_string();
  const QueryPairs query = {{"ifname", r.ifname}};
  if (r.address.prefix_length() == r.address.bit_width()) {
    return target(RouteId::kIpClaim, {r.id, addr}, query);
  }
  const std::string len = std::to_string(r.address.prefix_length());
  return target(RouteId::kIpClaimPrefix, {r.id, addr, len}, query);
}

std::string target(const IpRelease& r) {
  const QueryPairs query = {{"ifname", r.ifname}};
  if (!r.address) {
    return target(RouteId::kIpRelease, {r.id}, query);
  }
  return target(RouteId::kIpReleaseOne, {r.id, r.address->to_string()}, query);
}

std::string ip_lookup_target(std::string_view id) {
  return target(RouteId::kIpLookup, {id});
}

std::string ip_list_target() {
  return target(RouteId::kIpList);
}

std::string rmpeer_target(std::string_view peer_name) {
  return target(RouteId::kRmpeer, {peer_name});
}

std::string format_address_lines(const std::vector<Cidr>& addresses) {
  std::string body;
  for (const auto& a : addresses) {
    body += a.to_string() + "\n";
  }
  return body;
}

Result<std::vector<Cidr>> parse_address_lines(std::string_view body) {
  std::vector<Cidr> out;
  while (!body.empty()) {
    const auto nl = body.find('\n');
    std::string_view line = body.substr(0, nl);
    body = nl == std::string_view::npos ? std::string_view{} : body.substr(nl + 1);
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    if (line.empty()) {
      continue;
    }
    auto c = parse_host_cidr(line);
    if (!c) {
      return make_error(Errc::kMalformed, "not an address line: {}", c.error().message);
    }
    out.push_back(*c);
  }
  return out;
}

std::string format_count(U128 count) {
  return u128_to_string(count) + "\n";
}

Result<U128> parse_count(std::string_view body) {
  const std::string text = trimmed(body);
  if (text.empty() || text.size() > 39) {
    return make_error(Errc::kMalformed, "not a count: {}", detail::quote_untrusted(text));
  }
  U128 n = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') {
      return make_error(Errc::kMalformed, "not a count: {}", detail::quote_untrusted(text));
    }
    const U128 next = n * 10 + static_cast<U128>(c - '0');
    if (next / 10 != n) {
      return make_error(Errc::kMalformed, "count out of range: {}", text);
    }
    n = next;
  }
  return n;
}

std::string format_ip_list(const std::vector<IpAllocation>& list) {
  json out = json::array();
  for (const auto& a : list) {
    out.push_back({{"container", a.container},
                   {"ifname", a.ifname},
                   {"family", a.address.family() == IpFamily::kV4 ? "ipv4" : "ipv6"},
                   {"address", a.address.to_string()}});
  }
  return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<std::vector<IpAllocation>> parse_ip_list(std::string_view body) {
  WEFT_TRY(auto doc, parse_json_body(body));
  if (!doc.is_array()) {
    return make_error(Errc::kMalformed, "the allocation list is not a JSON array");
  }
  std::vector<IpAllocation> out;
  for (const auto& item : doc) {
    auto text = [&item](const char* key) -> std::optional<std::string> {
      if (!item.is_object() || !item.contains(key) || !item[key].is_string()) {
        return std::nullopt;
      }
      return item[key].get<std::string>();
    };
    const auto container = text("container");
    const auto ifname = text("ifname");
    const auto address = text("address");
    if (!container || !ifname || !address) {
      return make_error(Errc::kMalformed,
                        "an allocation needs string \"container\", \"ifname\" and \"address\"");
    }
    auto cidr = parse_host_cidr(*address);
    if (!cidr) {
      return make_error(Errc::kMalformed, "bad allocation address: {}", cidr.error().message);
    }
    out.push_back(IpAllocation{*container, *ifname, *cidr});
  }
  return out;
}

}  // namespace weft::api
