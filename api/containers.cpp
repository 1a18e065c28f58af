#include "api/containers.hpp"

#include <algorithm>

#include "api/paths.hpp"
#include "common/http_parse.hpp"
#include "common/mac_address.hpp"

namespace weft::api {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxKey = 256;
constexpr std::size_t kMaxNetns = 4096;
constexpr std::size_t kMaxAddresses = 64;

// A string field: missing or null -> empty; anything but a string -> error.
Result<std::string> string_field(const json& body, const char* name, std::size_t max) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null()) {
    return std::string();
  }
  if (!it->is_string()) {
    return make_error(Errc::kInvalidArgument, "\"{}\" must be a string", name);
  }
  std::string value = it->get<std::string>();
  if (value.size() > max) {
    return make_error(Errc::kInvalidArgument, "\"{}\" is longer than {} bytes", name, max);
  }
  return value;
}

Result<void> validate_host_ifname(std::string_view name) {
  if (name.empty()) {
    return {};
  }
  const bool bad_char = std::any_of(name.begin(), name.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u <= 0x20 || u == 0x7f || c == '/' || c == ':';
  });
  if (name.size() > 15 || bad_char || name == "." || name == "..") {
    return make_error(Errc::kInvalidArgument,
                      "\"host_ifname\" \"{}\" is not an interface name (1-15 characters, no '/', "
                      "':' or spaces)",
                      std::string(name));
  }
  return {};
}

Result<std::vector<Cidr>> addresses_field(const json& body) {
  std::vector<Cidr> out;
  auto it = body.find("addresses");
  if (it == body.end() || it->is_null()) {
    return out;
  }
  if (!it->is_array()) {
    return make_error(Errc::kInvalidArgument, "\"addresses\" must be an array of strings");
  }
  if (it->size() > kMaxAddresses) {
    return make_error(Errc::kInvalidArgument, "more than {} addresses", kMaxAddresses);
  }
  for (const auto& a : *it) {
    if (!a.is_string()) {
      return make_error(Errc::kInvalidArgument, "\"addresses\" must be an array of strings");
    }
    auto cidr = parse_host_cidr(a.get<std::string>());
    if (!cidr) {
      return make_error(Errc::kInvalidArgument, "bad address \"{}\": {}", a.get<std::string>(),
                        cidr.error().message);
    }
    out.push_back(*cidr);
  }
  return out;
}

// The fields of a record from a JSON object (a PUT body or an entry of the list).
Result<ContainerRecord> record_fields(std::string_view id, std::string_view ifname, const json& j) {
  WEFT_TRY_VOID(validate_container_key("container id", id));
  WEFT_TRY_VOID(validate_container_key("interface name", ifname));
  if (!j.is_object()) {
    return make_error(Errc::kInvalidArgument, "body must be a JSON object");
  }
  ContainerRecord r;
  r.id = std::string(id);
  r.ifname = std::string(ifname);
  WEFT_TRY(r.netns, string_field(j, "netns", kMaxNetns));
  WEFT_TRY(r.host_ifname, string_field(j, "host_ifname", kMaxKey));
  WEFT_TRY_VOID(validate_host_ifname(r.host_ifname));
  WEFT_TRY(auto mac, string_field(j, "mac", kMaxKey));
  if (!mac.empty()) {
    auto parsed_mac = parse_mac_address(mac);
    if (!parsed_mac) {
      return make_error(Errc::kInvalidArgument, "bad \"mac\" \"{}\": {}", mac,
                        parsed_mac.error().message);
    }
    r.mac = parsed_mac->to_string();
  }
  WEFT_TRY(r.addresses, addresses_field(j));
  WEFT_TRY(auto source, string_field(j, "source", kMaxKey));
  if (!source.empty()) {
    r.source = std::move(source);
  }
  return r;
}

json address_texts(const std::vector<Cidr>& addresses) {
  json out = json::array();
  for (const auto& a : addresses) {
    out.push_back(a.to_string());
  }
  return out;
}

Result<ContainerEntry> list_entry(const json& c) {
  if (!c.is_object() || !c.contains("id") || !c["id"].is_string() || !c.contains("ifname") ||
      !c["ifname"].is_string()) {
    return make_error(Errc::kMalformed, "a listed container needs string \"id\" and \"ifname\"");
  }
  auto record = record_fields(c["id"].get<std::string>(), c["ifname"].get<std::string>(), c);
  if (!record) {
    return make_error(Errc::kMalformed, "a listed container does not parse: {}",
                      record.error().message);
  }
  ContainerEntry e{std::move(*record), std::nullopt};
  if (auto it = c.find("created"); it != c.end() && it->is_number_integer()) {
    e.record.created = it->get<std::int64_t>();
  }
  if (auto it = c.find("attached"); it != c.end() && it->is_boolean()) {
    e.attached = it->get<bool>();
  }
  return e;
}

}  // namespace

Result<void> validate_container_key(std::string_view what, std::string_view value) {
  if (value.empty()) {
    return make_error(Errc::kInvalidArgument, "empty {}", what);
  }
  if (value.size() > kMaxKey) {
    return make_error(Errc::kInvalidArgument, "{} is longer than {} bytes", what, kMaxKey);
  }
  for (const char c : value) {
    if (c == '/' || (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)) {
      return make_error(Errc::kInvalidArgument, "{} must not contain '/' or control characters",
                        what);
    }
  }
  if (value == "." || value == "..") {
    return make_error(Errc::kInvalidArgument, "{} must not be \".\" or \"..\"", what);
  }
  return {};
}

Result<ContainerRecord> parse_container_body(std::string_view id, std::string_view ifname,
                                             std::string_view body) {
  WEFT_TRY_VOID(validate_container_key("container id", id));
  WEFT_TRY_VOID(validate_container_key("interface name", ifname));
  auto parsed = parse_json_body(body);
  if (!parsed) {
    return make_error(Errc::kInvalidArgument, "body is not JSON: {}", parsed.error().message);
  }
  return record_fields(id, ifname, *parsed);
}

std::string container_body(const ContainerRecord& r) {
  const json body{{"netns", r.netns},
                  {"host_ifname", r.host_ifname},
                  {"mac", r.mac},
                  {"addresses", address_texts(r.addresses)},
                  {"source", r.source}};
  return body.dump(-1, ' ', false, json::error_handler_t::replace);
}

json to_json(const ContainerRecord& r, std::optional<bool> attached) {
  json j = {{"id", r.id},         {"ifname", r.ifname},
            {"netns", r.netns},   {"host_ifname", r.host_ifname},
            {"mac", r.mac},       {"addresses", address_texts(r.addresses)},
            {"source", r.source}, {"created", r.created}};
  if (attached) {
    j["attached"] = *attached;
  }
  return j;
}

json to_json(const ContainerList& list) {
  json out = {{"containers", json::array()}};
  for (const auto& e : list.containers) {
    out["containers"].push_back(to_json(e.record, e.attached));
  }
  if (list.bridge) {
    out["bridge"] = {{"name", list.bridge->name}, {"mac", list.bridge->mac}};
  }
  return out;
}

Result<ContainerList> parse_container_list(std::string_view body) {
  WEFT_TRY(auto doc, parse_json_body(body));
  if (!doc.is_object() || !doc.contains("containers") || !doc["containers"].is_array()) {
    return make_error(Errc::kMalformed, "the container list is not {{\"containers\": [...]}}");
  }
  ContainerList out;
  for (const auto& c : doc["containers"]) {
    WEFT_TRY(auto entry, list_entry(c));
    out.containers.push_back(std::move(entry));
  }
  if (auto it = doc.find("bridge"); it != doc.end() && it->is_object()) {
    BridgeInfo b;
    b.name = it->value("name", json()).is_string() ? (*it)["name"].get<std::string>() : "";
    b.mac = it->value("mac", json()).is_string() ? (*it)["mac"].get<std::string>() : "";
    out.bridge = std::move(b);
  }
  return out;
}

std::string container_target(std::string_view id, std::string_view ifname) {
  return target(RouteId::kContainerPut, {id, ifname});
}

std::string container_target(std::string_view id) {
  return target(RouteId::kContainerDeleteAll, {id});
}

std::string containers_target() {
  return target(RouteId::kContainerList);
}

}  // namespace weft::api
