#include "tests/support/fake_apiserver_resources.hpp"

#include <algorithm>
#include <array>
#include <ctime>
#include <stdexcept>

#include "kube/selector.hpp"
#include <fmt/format.h>

namespace weft::test::fake {

using nlohmann::json;

namespace {

bool lower_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

// RFC 1123 label: [a-z0-9]([-a-z0-9]*[a-z0-9])?, at most 63 characters.
bool dns_label(std::string_view s) {
  if (s.empty() || s.size() > 63 || !lower_alnum(s.front()) || !lower_alnum(s.back())) {
    return false;
  }
  for (const char c : s) {
    if (!lower_alnum(c) && c != '-') {
      return false;
    }
  }
  return true;
}

// RFC 1123 subdomain: labels joined by '.', at most 253 characters.
bool dns_subdomain(std::string_view s) {
  if (s.empty() || s.size() > 253) {
    return false;
  }
  std::size_t start = 0;
  while (true) {
    const auto dot = s.find('.', start);
    if (!dns_label(s.substr(start, dot == std::string_view::npos ? s.npos : dot - start))) {
      return false;
    }
    if (dot == std::string_view::npos) {
      return true;
    }
    start = dot + 1;
  }
}

// IANA service name (named ports): at most 15 of [a-z0-9-], a letter, no "--", no '-' at the
// ends.
bool port_name(std::string_view s) {
  if (s.empty() || s.size() > 15 || s.front() == '-' || s.back() == '-' ||
      s.find("--") != std::string_view::npos) {
    return false;
  }
  bool letter = false;
  for (const char c : s) {
    if (!lower_alnum(c) && c != '-') {
      return false;
    }
    letter = letter || (c >= 'a' && c <= 'z');
  }
  return letter;
}

std::string str(const json& object, std::string_view path) {
  return kube::field_value(object, path).value_or("");
}

json& ensure_object(json& parent, const char* key) {
  if (!parent.contains(key) || !parent[key].is_object()) {
    parent[key] = json::object();
  }
  return parent[key];
}

void set_default(json& object, const char* key, json value) {
  if (!object.contains(key) || object[key].is_null()) {
    object[key] = std::move(value);
  }
}

Outcome<void> check_labels(const Resource& r, const std::string& name, const json& meta) {
  for (const char* field : {"labels", "annotations"}) {
    auto it = meta.find(field);
    if (it == meta.end() || it->is_null()) {
      continue;
    }
    if (!it->is_object()) {
      return invalid(r, name, fmt::format("metadata.{}", field), "must be a map of strings");
    }
    for (const auto& [key, value] : it->items()) {
      const bool labels = std::string_view(field) == "labels";
      if (!value.is_string() || !kube::valid_label_key(key) ||
          (labels && !kube::valid_label_value(value.get_ref<const std::string&>()))) {
        return invalid(r, name, fmt::format("metadata.{}", field),
                       fmt::format("Invalid value: \"{}\": not a valid {} entry", key, field));
      }
    }
  }
  return {};
}

Outcome<void> check_ports(const Resource& r, const std::string& name, const json& container,
                          std::size_t index) {
  auto ports = container.find("ports");
  if (ports == container.end() || ports->is_null()) {
    return {};
  }
  if (!ports->is_array()) {
    return invalid(r, name, fmt::format("spec.containers[{}].ports", index), "must be a list");
  }
  for (const auto& p : *ports) {
    const auto where = fmt::format("spec.containers[{}].ports", index);
    if (!p.is_object() || !p.contains("containerPort") || !p["containerPort"].is_number_integer()) {
      return invalid(r, name, where, "Required value: containerPort");
    }
    const auto port = p["containerPort"].get<std::int64_t>();
    if (port < 1 || port > 65535) {
      return invalid(r, name, where, "Invalid value: must be between 1 and 65535");
    }
    if (p.contains("name") &&
        (!p["name"].is_string() || !port_name(p["name"].get<std::string>()))) {
      return invalid(r, name, where, "Invalid value: not a valid port name");
    }
    const auto protocol = str(p, "protocol");
    if (!protocol.empty() && protocol != "TCP" && protocol != "UDP" && protocol != "SCTP") {
      return invalid(r, name, where, "Unsupported value: protocol");
    }
  }
  return {};
}

Outcome<void> prepare_pod(const Resource& r, const std::string& name, json& pod) {
  if (!pod.contains("spec") || !pod["spec"].is_object()) {
    return invalid(r, name, "spec.containers", "Required value");
  }
  json& spec = pod["spec"];
  if (!spec.contains("containers") || !spec["containers"].is_array() ||
      spec["containers"].empty()) {
    return invalid(r, name, "spec.containers", "Required value");
  }
  std::size_t i = 0;
  for (auto& c : spec["containers"]) {
    if (!c.is_object() || !dns_label(str(c, "name"))) {
      return invalid(r, name, fmt::format("spec.containers[{}].name", i), "Required value");
    }
    if (str(c, "image").empty()) {
      return invalid(r, name, fmt::format("spec.containers[{}].image", i), "Required value");
    }
    auto checked = check_ports(r, name, c, i);
    if (!checked) {
      return checked.error();
    }
    const auto image = str(c, "image");
    const auto slash = image.rfind('/');
    const auto tail = image.substr(slash == std::string::npos ? 0 : slash + 1);
    const bool latest = tail.find(':') == std::string::npos || tail.ends_with(":latest");
    set_default(c, "imagePullPolicy", latest ? "Always" : "IfNotPresent");
    set_default(c, "terminationMessagePath", "/dev/termination-log");
    set_default(c, "terminationMessagePolicy", "File");
    set_default(c, "resources", json::object());
    if (c.contains("ports") && c["ports"].is_array()) {
      for (auto& p : c["ports"]) {
        set_default(p, "protocol", "TCP");
      }
    }
    ++i;
  }
  set_default(spec, "restartPolicy", "Always");
  set_default(spec, "terminationGracePeriodSeconds", 30);
  set_default(spec, "dnsPolicy", "ClusterFirst");
  set_default(spec, "securityContext", json::object());
  set_default(spec, "schedulerName", "default-scheduler");
  set_default(spec, "enableServiceLinks", true);
  return {};
}

void default_policy_ports(json& rules) {
  if (!rules.is_array()) {
    return;
  }
  for (auto& rule : rules) {
    if (rule.is_object() && rule.contains("ports") && rule["ports"].is_array()) {
      for (auto& p : rule["ports"]) {
        if (p.is_object()) {
          set_default(p, "protocol", "TCP");
        }
      }
    }
  }
}

Outcome<void> check_selector(const Resource& r, const std::string& name, const json& selector,
                             std::string_view field) {
  auto parsed = kube::label_selector_from_json(selector);
  if (!parsed) {
    return invalid(r, name, field, parsed.error().message);
  }
  return {};
}

// The peers' selectors of spec.ingress[].from or spec.egress[].to.
Outcome<void> check_rules(const Resource& r, const std::string& name, const json& rules,
                          const char* dir) {
  if (!rules.is_array()) {
    return invalid(r, name, fmt::format("spec.{}", dir), "must be a list");
  }
  const char* peers = std::string_view(dir) == "ingress" ? "from" : "to";
  for (const auto& rule : rules) {
    if (!rule.is_object() || !rule.contains(peers) || !rule[peers].is_array()) {
      continue;
    }
    for (const auto& peer : rule[peers]) {
      for (const char* sel : {"podSelector", "namespaceSelector"}) {
        if (!peer.is_object() || !peer.contains(sel)) {
          continue;
        }
        auto checked = check_selector(r, name, peer[sel], fmt::format("spec.{}.{}", dir, sel));
        if (!checked) {
          return checked;
        }
      }
    }
  }
  return {};
}

Outcome<void> prepare_network_policy(const Resource& r, const std::string& name, json& np) {
  json& spec = ensure_object(np, "spec");
  set_default(spec, "podSelector", json::object());
  auto checked = check_selector(r, name, spec["podSelector"], "spec.podSelector");
  if (!checked) {
    return checked;
  }
  for (const char* dir : {"ingress", "egress"}) {
    if (!spec.contains(dir) || spec[dir].is_null()) {
      continue;
    }
    checked = check_rules(r, name, spec[dir], dir);
    if (!checked) {
      return checked;
    }
    default_policy_ports(spec[dir]);
  }
  if (!spec.contains("policyTypes") || !spec["policyTypes"].is_array() ||
      spec["policyTypes"].empty()) {
    spec["policyTypes"] = json::array({"Ingress"});
    if (spec.contains("egress") && spec["egress"].is_array() && !spec["egress"].empty()) {
      spec["policyTypes"].push_back("Egress");
    }
  }
  for (const auto& t : spec["policyTypes"]) {
    if (t != "Ingress" && t != "Egress") {
      return invalid(r, name, "spec.policyTypes", "Unsupported value");
    }
  }
  return {};
}

Outcome<void> prepare_kind(const Resource& r, const std::string& name, json& object) {
  if (r.kind == "Pod") {
    return prepare_pod(r, name, object);
  }
  if (r.kind == "NetworkPolicy") {
    return prepare_network_policy(r, name, object);
  }
  if (r.kind == "Namespace") {
    json& spec = ensure_object(object, "spec");
    set_default(spec, "finalizers", json::array({"kubernetes"}));
    ensure_object(object, "status")["phase"] = "Active";
    ensure_object(object["metadata"], "labels")["kubernetes.io/metadata.name"] = name;
  }
  if (r.kind == "ConfigMap" && object.contains("data") && !object["data"].is_null()) {
    if (!object["data"].is_object()) {
      return invalid(r, name, "data", "must be a map of strings");
    }
    for (const auto& [key, value] : object["data"].items()) {
      if (!value.is_string() || key.empty()) {
        return invalid(r, name, "data", fmt::format("Invalid value: \"{}\"", key));
      }
    }
  }
  return {};
}

// kind/apiVersion, metadata shape, name and labels.
Outcome<void> check_common(const Resource& r, json& object, bool creating) {
  if (!object.is_object()) {
    return bad_request("the body is not a JSON object");
  }
  const auto kind = str(object, "kind");
  if (!kind.empty() && kind != r.kind) {
    return bad_request(fmt::format(
        "the kind of the object ({}) does not match the kind of the request ({})", kind, r.kind));
  }
  const auto api_version = str(object, "apiVersion");
  if (!api_version.empty() && api_version != r.group_version()) {
    return bad_request(
        fmt::format("the API version in the data ({}) does not match the expected API version ({})",
                    api_version, r.group_version()));
  }
  object["kind"] = r.kind;
  object["apiVersion"] = r.group_version();
  json& meta = ensure_object(object, "metadata");
  const auto name = str(meta, "name");
  if (creating && !str(meta, "resourceVersion").empty()) {
    return bad_request("resourceVersion should not be set on objects to be created");
  }
  if (!name.empty() && !(r.kind == "Namespace" ? dns_label(name) : dns_subdomain(name))) {
    return invalid(r, name, "metadata.name",
                   fmt::format("Invalid value: \"{}\": a lowercase RFC 1123 {} must consist of "
                               "lower case alphanumeric characters, '-' or '.'",
                               name, r.kind == "Namespace" ? "label" : "subdomain"));
  }
  return check_labels(r, name, meta);
}

}  // namespace

const std::vector<Resource>& resources() {
  static const std::vector<Resource> table = [] {
    std::vector<Resource> t(5);
    t[0] = {"",   "v1",  "namespaces", "Namespace", false,           {"ns"},
            true, false, true,         false,       {"status.phase"}};
    t[1] = {"",
            "v1",
            "pods",
            "Pod",
            true,
            {"po"},
            true,
            true,
            true,
            false,
            {"spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
             "status.phase", "status.podIP", "status.nominatedNodeName"}};
    t[2] = {"",
            "v1",
            "nodes",
            "Node",
            false,
            {"no"},
            true,
            false,
            false,
            false,
            {"spec.unschedulable"}};
    t[3] = {"", "v1", "configmaps", "ConfigMap", true, {"cm"}, false, false, false, false, {}};
    t[4] = {"networking.k8s.io",
            "v1",
            "networkpolicies",
            "NetworkPolicy",
            true,
            {"netpol"},
            false,
            false,
            false,
            true,
            {}};
    return t;
  }();
  return table;
}

const Resource* find_resource(std::string_view group, std::string_view version,
                              std::string_view plural) {
  for (const auto& r : resources()) {
    if (r.group == group && r.version == version && r.plural == plural) {
      return &r;
    }
  }
  return nullptr;
}

const Resource* find_resource(std::string_view plural) {
  for (const auto& r : resources()) {
    if (r.plural == plural || r.qualified() == plural) {
      return &r;
    }
  }
  return nullptr;
}

void throw_exception_from_error(const Failure& f, const boost::source_location& /*loc*/) {
  throw std::runtime_error(fmt::format("{} {}: {}", f.code, f.reason, f.message));
}

Failure failure(int code, std::string reason, std::string message) {
  Failure f;
  f.code = code;
  f.reason = std::move(reason);
  f.message = std::move(message);
  return f;
}

Failure not_found(const Resource& r, std::string_view name) {
  Failure f = failure(404, "NotFound", fmt::format("{} \"{}\" not found", r.qualified(), name));
  f.name = std::string(name);
  f.kind = r.plural;
  f.group = r.group;
  return f;
}

Failure already_exists(const Resource& r, std::string_view name) {
  Failure f =
      failure(409, "AlreadyExists", fmt::format("{} \"{}\" already exists", r.qualified(), name));
  f.name = std::string(name);
  f.kind = r.plural;
  f.group = r.group;
  return f;
}

Failure conflict(const Resource& r, std::string_view name) {
  Failure f = failure(409, "Conflict",
                      fmt::format("Operation cannot be fulfilled on {} \"{}\": the object has "
                                  "been modified; please apply your changes to the latest "
                                  "version and try again",
                                  r.qualified(), name));
  f.name = std::string(name);
  f.kind = r.plural;
  f.group = r.group;
  return f;
}

Failure invalid(const Resource& r, std::string_view name, std::string_view field,
                std::string_view why) {
  Failure f = failure(422, "Invalid",
                      fmt::format("{} \"{}\" is invalid: {}: {}", r.kind, name, field, why));
  f.name = std::string(name);
  f.kind = r.kind;
  f.group = r.group;
  return f;
}

Failure bad_request(std::string message) {
  return failure(400, "BadRequest", std::move(message));
}

json status_json(const Failure& f) {
  json out = {{"kind", "Status"},    {"apiVersion", "v1"},   {"metadata", json::object()},
              {"status", "Failure"}, {"message", f.message}, {"reason", f.reason},
              {"code", f.code}};
  if (!f.name.empty() || !f.kind.empty()) {
    json details = json::object();
    if (!f.name.empty()) {
      details["name"] = f.name;
    }
    if (!f.group.empty()) {
      details["group"] = f.group;
    }
    if (!f.kind.empty()) {
      details["kind"] = f.kind;
    }
    out["details"] = details;
  }
  return out;
}

json success_status(const Resource& r, const json& object) {
  json details = {{"name", str(object, "metadata.name")},
                  {"kind", r.plural},
                  {"uid", str(object, "metadata.uid")}};
  if (!r.group.empty()) {
    details["group"] = r.group;
  }
  return {{"kind", "Status"},
          {"apiVersion", "v1"},
          {"metadata", json::object()},
          {"status", "Success"},
          {"details", details}};
}

Outcome<void> prepare_create(const Resource& r, json& object) {
  auto checked = check_common(r, object, true);
  if (!checked) {
    return checked;
  }
  json& meta = object["metadata"];
  for (const char* server_set : {"uid", "creationTimestamp", "deletionTimestamp", "generation",
                                 "selfLink", "managedFields", "deletionGracePeriodSeconds"}) {
    meta.erase(server_set);
  }
  if (r.reset_status_on_create) {
    object["status"] = {{"phase", "Pending"}, {"qosClass", "BestEffort"}};
  }
  const auto name = str(meta, "name");
  auto prepared = prepare_kind(r, name, object);
  if (!prepared) {
    return prepared;
  }
  if (r.generation) {
    meta["generation"] = 1;
  }
  return {};
}

Outcome<void> prepare_update(const Resource& r, const json& old, json& object, bool status_only) {
  auto checked = check_common(r, object, false);
  if (!checked) {
    return checked;
  }
  const std::string name = str(old, "metadata.name");
  if (status_only) {
    json updated = old;
    if (object.contains("status")) {
      updated["status"] = object["status"];
    } else {
      updated.erase("status");
    }
    updated["metadata"]["resourceVersion"] = object["metadata"].value("resourceVersion", "");
    object = std::move(updated);
    return {};
  }
  json& meta = object["metadata"];
  for (const char* kept : {"uid", "creationTimestamp", "namespace", "name", "deletionTimestamp"}) {
    if (old["metadata"].contains(kept)) {
      meta[kept] = old["metadata"][kept];
    } else {
      meta.erase(kept);
    }
  }
  if (r.status_subresource) {
    if (old.contains("status")) {
      object["status"] = old["status"];
    } else {
      object.erase("status");
    }
  }
  if (r.kind == "Namespace" && old.contains("spec")) {
    object["spec"] = old["spec"];  // finalizers change through /finalize only
  }
  auto prepared = prepare_kind(r, name, object);
  if (!prepared) {
    return prepared;
  }
  if (r.kind == "Pod") {
    // Upstream allows only image changes (and a few fields weft does not use) on a pod.
    json allowed = old.value("spec", json::object());
    const auto& containers = object["spec"]["containers"];
    if (allowed.contains("containers") && allowed["containers"].size() == containers.size()) {
      for (std::size_t i = 0; i < containers.size(); ++i) {
        allowed["containers"][i]["image"] = containers[i]["image"];
      }
    }
    if (allowed != object["spec"]) {
      return invalid(r, name, "spec",
                     "Forbidden: pod updates may not change fields other than "
                     "`spec.containers[*].image`");
    }
  }
  if (r.generation) {
    const auto generation = old["metadata"].value("generation", std::int64_t{1});
    meta["generation"] =
        object.value("spec", json()) != old.value("spec", json()) ? generation + 1 : generation;
  }
  return {};
}

std::string format_time(std::chrono::system_clock::time_point t) {
  const std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  std::array<char, 32> buf{};
  std::strftime(buf.data(), buf.size(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf.data();
}

}  // namespace weft::test::fake
