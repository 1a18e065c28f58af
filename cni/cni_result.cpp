#include "cni/cni_result.hpp"

namespace weft::cni {

namespace {

using nlohmann::json;

CniError decode_error(std::string what) {
  return cni_error(kCodeDecodeFailure, "cannot decode the CNI result", std::move(what));
}

CniResult<std::string> string_member(const json& obj, const char* key, bool required) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) {
    if (required)
      return decode_error(fmt::format("\"{}\" is missing", key));
    return std::string();
  }
  if (!it->is_string())
    return decode_error(fmt::format("\"{}\" must be a string", key));
  return it->get<std::string>();
}

CniResult<std::optional<IpAddress>> opt_address(const json& obj, const char* key) {
  WEFT_TRY(auto text, string_member(obj, key, false));
  if (text.empty())
    return std::optional<IpAddress>{};
  auto ip = parse_ip_address(text);
  if (!ip)
    return decode_error(fmt::format("\"{}\": {}", key, ip.error().message));
  return std::optional<IpAddress>(*ip);
}

CniResult<CniInterface> parse_interface(const json& obj) {
  if (!obj.is_object())
    return decode_error("an interface is not an object");
  CniInterface out;
  WEFT_TRY(out.name, string_member(obj, "name", true));
  WEFT_TRY(out.mac, string_member(obj, "mac", false));
  WEFT_TRY(out.sandbox, string_member(obj, "sandbox", false));
  if (auto it = obj.find("mtu"); it != obj.end() && !it->is_null()) {
    if (!it->is_number_integer() || it->get<std::int64_t>() < 0 ||
        it->get<std::int64_t>() > 65535) {
      return decode_error("interface \"mtu\" must be a number");
    }
    out.mtu = it->get<std::uint32_t>();
  }
  return out;
}

CniResult<CniIp> parse_ip(const json& obj, std::size_t interfaces) {
  if (!obj.is_object())
    return decode_error("an ip is not an object");
  CniIp out;
  WEFT_TRY(auto text, string_member(obj, "address", true));
  auto cidr = parse_host_cidr(text);
  if (!cidr)
    return decode_error("ip \"address\": " + cidr.error().message);
  out.address = *cidr;
  WEFT_TRY(out.gateway, opt_address(obj, "gateway"));
  if (auto it = obj.find("interface"); it != obj.end() && !it->is_null()) {
    if (!it->is_number_integer() || it->get<std::int64_t>() < 0 ||
        static_cast<std::uint64_t>(it->get<std::int64_t>()) >= interfaces) {
      return decode_error("ip \"interface\" is not an index into \"interfaces\"");
    }
    out.interface = it->get<int>();
  }
  return out;
}

CniResult<CniRoute> parse_route(const json& obj) {
  if (!obj.is_object())
    return decode_error("a route is not an object");
  CniRoute out;
  WEFT_TRY(auto text, string_member(obj, "dst", true));
  auto cidr = parse_cidr(text);
  if (!cidr)
    return decode_error("route \"dst\": " + cidr.error().message);
  out.dst = *cidr;
  WEFT_TRY(out.gw, opt_address(obj, "gw"));
  return out;
}

CniResult<const json*> array_member(const json& doc, const char* key) {
  auto it = doc.find(key);
  if (it == doc.end() || it->is_null())
    return static_cast<const json*>(nullptr);
  if (!it->is_array())
    return decode_error(fmt::format("\"{}\" must be a list", key));
  return &*it;
}

}  // namespace

json render_success(const CniSuccess& r, SpecVersion version, std::string_view cni_version) {
  json out{{"cniVersion", cni_version.empty() ? to_string(version) : cni_version}};
  if (!r.interfaces.empty()) {
    json list = json::array();
    for (const auto& i : r.interfaces) {
      json e{{"name", i.name}};
      if (!i.mac.empty())
        e["mac"] = i.mac;
      if (i.mtu && version >= SpecVersion::k110)
        e["mtu"] = *i.mtu;
      // The spec's "sandbox" is empty for host interfaces; we leave it out then.
      if (!i.sandbox.empty())
        e["sandbox"] = i.sandbox;
      list.push_back(std::move(e));
    }
    out["interfaces"] = std::move(list);
  }
  json ips = json::array();
  for (const auto& ip : r.ips) {
    json e{{"address", ip.address.to_string()}};
    if (ips_carry_version(version))
      e["version"] = ip.address.family() == IpFamily::kV4 ? "4" : "6";
    if (ip.gateway)
      e["gateway"] = ip.gateway->to_string();
    if (ip.interface)
      e["interface"] = *ip.interface;
    ips.push_back(std::move(e));
  }
  out["ips"] = std::move(ips);
  if (!r.routes.empty()) {
    json routes = json::array();
    for (const auto& rt : r.routes) {
      json e{{"dst", rt.dst.to_string()}};
      if (rt.gw)
        e["gw"] = rt.gw->to_string();
      routes.push_back(std::move(e));
    }
    out["routes"] = std::move(routes);
  }
  out["dns"] = r.dns.is_object() ? r.dns : json::object();
  return out;
}

CniResult<CniSuccess> parse_success(const json& doc) {
  if (!doc.is_object())
    return decode_error("the result is not a JSON object");
  CniSuccess out;
  WEFT_TRY(const json* interfaces, array_member(doc, "interfaces"));
  if (interfaces) {
    for (const auto& i : *interfaces) {
      WEFT_TRY(auto parsed, parse_interface(i));
      out.interfaces.push_back(std::move(parsed));
    }
  }
  WEFT_TRY(const json* ips, array_member(doc, "ips"));
  if (ips) {
    for (const auto& i : *ips) {
      WEFT_TRY(auto parsed, parse_ip(i, out.interfaces.size()));
      out.ips.push_back(std::move(parsed));
    }
  }
  WEFT_TRY(const json* routes, array_member(doc, "routes"));
  if (routes) {
    for (const auto& r : *routes) {
      WEFT_TRY(auto parsed, parse_route(r));
      out.routes.push_back(std::move(parsed));
    }
  }
  if (auto it = doc.find("dns"); it != doc.end() && it->is_object() && !it->empty()) {
    out.dns = *it;
  }
  return out;
}

}  // namespace weft::cni
