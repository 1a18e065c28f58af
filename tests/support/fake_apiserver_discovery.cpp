// Discovery documents and OpenAPI of the fake API server (fake_apiserver_resources.hpp).
#include <algorithm>

#include "tests/support/fake_apiserver_resources.hpp"
#include <fmt/format.h>

namespace weft::test::fake {

using nlohmann::json;

namespace {

// The version the fake claims: the API surface it serves is the one of 1.23 (no aggregated
// discovery, no OpenAPI v3, no server-side field validation), so clients that probe for
// newer features get the answers such a server gives (404, plain discovery documents).
constexpr std::string_view kMinor = "23";
constexpr std::string_view kGitVersion = "v1.23.17+weft-fake";

}  // namespace

json api_versions(const std::string& server_address) {
  return {{"kind", "APIVersions"},
          {"versions", {"v1"}},
          {"serverAddressByClientCIDRs",
           {{{"clientCIDR", "0.0.0.0/0"}, {"serverAddress", server_address}}}}};
}

namespace {

json group_entry(std::string_view group) {
  json version = {{"groupVersion", fmt::format("{}/v1", group)}, {"version", "v1"}};
  return {{"name", group}, {"versions", {version}}, {"preferredVersion", version}};
}

std::vector<std::string> groups() {
  std::vector<std::string> out;
  for (const auto& r : resources()) {
    if (!r.group.empty() && std::find(out.begin(), out.end(), r.group) == out.end()) {
      out.push_back(r.group);
    }
  }
  return out;
}

}  // namespace

json api_group_list() {
  json list = json::array();
  for (const auto& g : groups()) {
    list.push_back(group_entry(g));
  }
  return {{"kind", "APIGroupList"}, {"apiVersion", "v1"}, {"groups", list}};
}

json api_group(std::string_view group) {
  for (const auto& g : groups()) {
    if (g == group) {
      json out = group_entry(g);
      out["kind"] = "APIGroup";
      out["apiVersion"] = "v1";
      return out;
    }
  }
  return nullptr;
}

json resource_list(std::string_view group, std::string_view version) {
  json list = json::array();
  for (const auto& r : resources()) {
    if (r.group != group || r.version != version) {
      continue;
    }
    json entry = {{"name", r.plural},
                  {"singularName", ""},
                  {"namespaced", r.namespaced},
                  {"kind", r.kind},
                  {"verbs", {"create", "delete", "get", "list", "patch", "update", "watch"}},
                  {"shortNames", r.short_names}};
    if (r.kind == "Pod") {
      entry["categories"] = {"all"};
    }
    list.push_back(entry);
    if (r.status_subresource) {
      list.push_back({{"name", r.plural + "/status"},
                      {"singularName", ""},
                      {"namespaced", r.namespaced},
                      {"kind", r.kind},
                      {"verbs", {"get", "patch", "update"}}});
    }
  }
  if (list.empty()) {
    return nullptr;
  }
  return {
      {"kind", "APIResourceList"},
      {"apiVersion", "v1"},
      {"groupVersion", group.empty() ? std::string(version) : fmt::format("{}/{}", group, version)},
      {"resources", list}};
}

json version_info() {
  return {{"major", "1"},
          {"minor", kMinor},
          {"gitVersion", kGitVersion},
          {"gitCommit", "0000000000000000000000000000000000000000"},
          {"gitTreeState", "clean"},
          {"buildDate", "2023-01-01T00:00:00Z"},
          {"goVersion", "go1.19"},
          {"compiler", "gc"},
          {"platform", "linux/amd64"}};
}

std::string openapi_v2_protobuf() {
  // openapi_v2.Document{swagger: "2.0", info: {title: "Kubernetes", version}} in the protobuf
  // wire format: field 1 (string), field 2 (message: field 1 title, field 2 version).
  auto field = [](int number, std::string_view bytes) {
    std::string out;
    out += static_cast<char>((number << 3) | 2);
    out += static_cast<char>(bytes.size());  // every piece here is under 128 bytes
    out += bytes;
    return out;
  };
  const std::string info = field(1, "Kubernetes") + field(2, kGitVersion);
  return field(1, "2.0") + field(2, info);
}

json openapi_v2_json() {
  return {{"swagger", "2.0"},
          {"info", {{"title", "Kubernetes"}, {"version", kGitVersion}}},
          {"paths", json::object()},
          {"definitions", json::object()}};
}

}  // namespace weft::test::fake
