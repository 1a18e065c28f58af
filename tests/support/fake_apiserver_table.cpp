// Server-side printing of the fake API server: the meta.k8s.io Table that `kubectl get`
// asks for, with upstream's columns (fake_apiserver_resources.hpp).
#include <chrono>
#include <cstdio>
#include <ctime>

#include "kube/selector.hpp"
#include "tests/support/fake_apiserver_resources.hpp"
#include <fmt/format.h>

namespace weft::test::fake {

using nlohmann::json;

namespace {

std::string str(const json& object, std::string_view path) {
  return kube::field_value(object, path).value_or("");
}

}  // namespace

namespace {

// k8s.io/apimachinery duration.HumanDuration.
std::string human_duration(std::int64_t seconds) {
  if (seconds < -1) {
    return "<invalid>";
  }
  if (seconds < 0) {
    return "0s";
  }
  if (seconds < 120) {
    return fmt::format("{}s", seconds);
  }
  const auto minutes = seconds / 60;
  if (minutes < 10) {
    const auto s = seconds % 60;
    return s == 0 ? fmt::format("{}m", minutes) : fmt::format("{}m{}s", minutes, s);
  }
  if (minutes < 180) {
    return fmt::format("{}m", minutes);
  }
  const auto hours = minutes / 60;
  if (hours < 8) {
    const auto m = minutes % 60;
    return m == 0 ? fmt::format("{}h", hours) : fmt::format("{}h{}m", hours, m);
  }
  if (hours < 48) {
    return fmt::format("{}h", hours);
  }
  if (hours < 24 * 8) {
    const auto h = hours % 24;
    return h == 0 ? fmt::format("{}d", hours / 24) : fmt::format("{}d{}h", hours / 24, h);
  }
  if (hours < 24 * 365 * 2) {
    return fmt::format("{}d", hours / 24);
  }
  return fmt::format("{}y", hours / 24 / 365);
}

std::string age(const json& object) {
  const auto stamp = str(object, "metadata.creationTimestamp");
  std::tm tm{};
  if (stamp.size() != 20 ||
      std::sscanf(stamp.c_str(), "%4d-%2d-%2dT%2d:%2d:%2dZ", &tm.tm_year, &tm.tm_mon,  // NOLINT
                  &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6) {
    return "<unknown>";
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  const auto created = std::chrono::system_clock::from_time_t(timegm(&tm));
  return human_duration(
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now() - created)
          .count());
}

std::string selector_text(const json& selector) {
  auto parsed = kube::label_selector_from_json(selector);
  if (!parsed || parsed->empty()) {
    return "<none>";
  }
  return parsed->to_string();
}

struct Column {
  const char* name;
  const char* type;
  int priority;
};

std::vector<Column> columns(const Resource& r) {
  if (r.kind == "Pod") {
    return {{"Name", "string", 0},
            {"Ready", "string", 0},
            {"Status", "string", 0},
            {"Restarts", "string", 0},
            {"Age", "string", 0},
            {"IP", "string", 1},
            {"Node", "string", 1},
            {"Nominated Node", "string", 1},
            {"Readiness Gates", "string", 1}};
  }
  if (r.kind == "Namespace") {
    return {{"Name", "string", 0}, {"Status", "string", 0}, {"Age", "string", 0}};
  }
  if (r.kind == "NetworkPolicy") {
    return {{"Name", "string", 0}, {"Pod-Selector", "string", 0}, {"Age", "string", 0}};
  }
  if (r.kind == "ConfigMap") {
    return {{"Name", "string", 0}, {"Data", "integer", 0}, {"Age", "string", 0}};
  }
  if (r.kind == "Node") {
    return {{"Name", "string", 0},       {"Status", "string", 0},  {"Roles", "string", 0},
            {"Age", "string", 0},        {"Version", "string", 0}, {"Internal-IP", "string", 1},
            {"External-IP", "string", 1}};
  }
  return {{"Name", "string", 0}, {"Age", "string", 0}};
}

std::string or_none(const std::string& s) {
  return s.empty() ? "<none>" : s;
}

json pod_cells(const json& pod) {
  const auto containers = pod.value("spec", json::object()).value("containers", json::array());
  int ready = 0;
  int restarts = 0;
  for (const auto& s :
       pod.value("status", json::object()).value("containerStatuses", json::array())) {
    ready += s.value("ready", false) ? 1 : 0;
    restarts += s.value("restartCount", 0);
  }
  std::string status = str(pod, "status.reason");
  if (status.empty()) {
    status = str(pod, "status.phase");
  }
  if (!str(pod, "metadata.deletionTimestamp").empty()) {
    status = "Terminating";
  }
  return {str(pod, "metadata.name"),
          fmt::format("{}/{}", ready, containers.size()),
          status,
          restarts,
          age(pod),
          or_none(str(pod, "status.podIP")),
          or_none(str(pod, "spec.nodeName")),
          "<none>",
          "<none>"};
}

json cells(const Resource& r, const json& o) {
  if (r.kind == "Pod") {
    return pod_cells(o);
  }
  if (r.kind == "Namespace") {
    return {str(o, "metadata.name"), str(o, "status.phase"), age(o)};
  }
  if (r.kind == "NetworkPolicy") {
    return {str(o, "metadata.name"),
            selector_text(o.value("spec", json::object()).value("podSelector", json())), age(o)};
  }
  if (r.kind == "ConfigMap") {
    return {str(o, "metadata.name"), o.value("data", json::object()).size(), age(o)};
  }
  if (r.kind == "Node") {
    std::string ready = "Unknown";
    for (const auto& c : o.value("status", json::object()).value("conditions", json::array())) {
      if (c.value("type", "") == "Ready") {
        ready = c.value("status", "") == "True" ? "Ready" : "NotReady";
      }
    }
    std::string internal;
    std::string external;
    for (const auto& a : o.value("status", json::object()).value("addresses", json::array())) {
      if (a.value("type", "") == "InternalIP") {
        internal = a.value("address", "");
      } else if (a.value("type", "") == "ExternalIP") {
        external = a.value("address", "");
      }
    }
    return {str(o, "metadata.name"),
            ready,
            "<none>",
            age(o),
            str(o, "status.nodeInfo.kubeletVersion"),
            or_none(internal),
            or_none(external)};
  }
  return {str(o, "metadata.name"), age(o)};
}

}  // namespace

json table(const Resource& r, const std::vector<const json*>& objects,
           const std::string& resource_version, std::string_view include_object,
           std::string_view table_api_version) {
  json defs = json::array();
  for (const auto& c : columns(r)) {
    json def = {{"name", c.name},
                {"type", c.type},
                {"format", ""},
                {"description", c.name},
                {"priority", c.priority}};
    if (std::string_view(c.name) == "Name") {
      def["format"] = "name";
    }
    defs.push_back(def);
  }
  json rows = json::array();
  for (const json* o : objects) {
    json row = {{"cells", cells(r, *o)}};
    if (include_object == "Object") {
      row["object"] = *o;
    } else if (include_object != "None") {
      row["object"] = {{"kind", "PartialObjectMetadata"},
                       {"apiVersion", fmt::format("meta.k8s.io/{}", table_api_version)},
                       {"metadata", o->value("metadata", json::object())}};
    }
    rows.push_back(row);
  }
  return {{"kind", "Table"},
          {"apiVersion", fmt::format("meta.k8s.io/{}", table_api_version)},
          {"metadata", {{"resourceVersion", resource_version}}},
          {"columnDefinitions", defs},
          {"rows", rows}};
}

}  // namespace weft::test::fake
