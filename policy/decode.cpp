#include "policy/decode.hpp"

#include <algorithm>
#include <string>

#include <nlohmann/json.hpp>

namespace weft::policy {
namespace {

using nlohmann::json;

Error invalid(std::string_view path, std::string_view what) {
  return make_error(Errc::kInvalidArgument, "{}: {}", path, what);
}

std::string join(std::string_view path, std::string_view field) {
  return path.empty() ? std::string(field) : fmt::format("{}.{}", path, field);
}

std::string index(std::string_view path, std::size_t i) {
  return fmt::format("{}[{}]", path, i);
}

// The member `field` of `object` when present and not null; `object` must be an object.
const json* member(const json& object, std::string_view field) {
  if (!object.is_object()) {
    return nullptr;
  }
  auto it = object.find(field);
  if (it == object.end() || it->is_null()) {
    return nullptr;
  }
  return &*it;
}

Result<const json*> object_member(const json& object, std::string_view field,
                                  std::string_view path) {
  const json* value = member(object, field);
  if (value != nullptr && !value->is_object()) {
    return invalid(join(path, field), "must be an object");
  }
  return value;
}

Result<const json*> array_member(const json& object, std::string_view field,
                                 std::string_view path) {
  const json* value = member(object, field);
  if (value != nullptr && !value->is_array()) {
    return invalid(join(path, field), "must be a list");
  }
  return value;
}

Result<std::string> string_member(const json& object, std::string_view field, std::string_view path,
                                  bool required) {
  const json* value = member(object, field);
  if (value == nullptr) {
    if (required) {
      return invalid(join(path, field), "is required");
    }
    return std::string();
  }
  if (!value->is_string()) {
    return invalid(join(path, field), "must be a string");
  }
  return value->get<std::string>();
}

Result<bool> bool_member(const json& object, std::string_view field, std::string_view path) {
  const json* value = member(object, field);
  if (value == nullptr) {
    return false;
  }
  if (!value->is_boolean()) {
    return invalid(join(path, field), "must be true or false");
  }
  return value->get<bool>();
}

Result<Labels> decode_labels(const json& labels, std::string_view path) {
  if (!labels.is_object()) {
    return invalid(path, "must be a map of strings");
  }
  Labels out;
  for (const auto& [key, value] : labels.items()) {
    if (!value.is_string()) {
      return invalid(join(path, key), "must be a string");
    }
    out.emplace(key, value.get<std::string>());
  }
  return out;
}

struct Metadata {
  std::string name;
  std::string namespace_name;
  std::string uid;
  Labels labels;
};

Result<Metadata> decode_metadata(const json& object, bool namespaced) {
  if (!object.is_object()) {
    return invalid("object", "must be a JSON object");
  }
  WEFT_TRY(const json* meta, object_member(object, "metadata", ""));
  if (meta == nullptr) {
    return invalid("metadata", "is required");
  }
  Metadata out;
  WEFT_TRY(out.name, string_member(*meta, "name", "metadata", true));
  if (out.name.empty()) {
    return invalid("metadata.name", "must not be empty");
  }
  if (namespaced) {
    WEFT_TRY(out.namespace_name, string_member(*meta, "namespace", "metadata", false));
    if (out.namespace_name.empty()) {
      out.namespace_name = "default";
    }
  }
  WEFT_TRY(out.uid, string_member(*meta, "uid", "metadata", false));
  if (const json* labels = member(*meta, "labels")) {
    WEFT_TRY(out.labels, decode_labels(*labels, "metadata.labels"));
  }
  return out;
}

Result<std::uint16_t> decode_port_number(const json& value, std::string_view path) {
  if (!value.is_number_integer()) {
    return invalid(path, "must be a port number");
  }
  const auto number = value.get<std::int64_t>();
  if (number < 1 || number > 65535) {
    return invalid(path, fmt::format("{} is not a port number (1-65535)", number));
  }
  return static_cast<std::uint16_t>(number);
}

Result<Protocol> decode_protocol(const json& object, std::string_view path) {
  WEFT_TRY(auto text, string_member(object, "protocol", path, false));
  if (text.empty()) {
    return Protocol::kTcp;
  }
  auto protocol = parse_protocol(text);
  if (!protocol) {
    return invalid(join(path, "protocol"),
                   fmt::format("unsupported value \"{}\" (TCP, UDP or SCTP)", text));
  }
  return *protocol;
}

Result<Cidr> decode_cidr(const json& value, std::string_view path) {
  if (!value.is_string()) {
    return invalid(path, "must be a CIDR string");
  }
  auto cidr = parse_host_cidr(value.get<std::string>());
  if (!cidr) {
    return invalid(path, cidr.error().message);
  }
  return cidr->masked();
}

Result<IpBlock> decode_ip_block(const json& block, std::string_view path) {
  IpBlock out;
  const json* cidr = member(block, "cidr");
  if (cidr == nullptr) {
    return invalid(join(path, "cidr"), "is required");
  }
  WEFT_TRY(out.cidr, decode_cidr(*cidr, join(path, "cidr")));
  WEFT_TRY(const json* except, array_member(block, "except", path));
  if (except != nullptr) {
    for (std::size_t i = 0; i < except->size(); ++i) {
      const std::string where = index(join(path, "except"), i);
      WEFT_TRY(auto sub, decode_cidr((*except)[i], where));
      if (sub.family() != out.cidr.family() || !out.cidr.contains(sub) ||
          sub.prefix_length() <= out.cidr.prefix_length()) {
        return invalid(where, fmt::format("{} must be a strict subset of {}", sub, out.cidr));
      }
      out.except.push_back(sub);
    }
  }
  return out;
}

Result<PolicyPeer> decode_peer(const json& peer, std::string_view path) {
  if (!peer.is_object()) {
    return invalid(path, "must be an object");
  }
  PolicyPeer out;
  if (const json* selector = member(peer, "podSelector")) {
    WEFT_TRY(out.pod_selector, decode_label_selector(*selector, join(path, "podSelector")));
  }
  if (const json* selector = member(peer, "namespaceSelector")) {
    WEFT_TRY(out.namespace_selector,
             decode_label_selector(*selector, join(path, "namespaceSelector")));
  }
  if (const json* block = member(peer, "ipBlock")) {
    if (!block->is_object()) {
      return invalid(join(path, "ipBlock"), "must be an object");
    }
    if (out.pod_selector || out.namespace_selector) {
      return invalid(path, "ipBlock may not be combined with podSelector or namespaceSelector");
    }
    WEFT_TRY(out.ip_block, decode_ip_block(*block, join(path, "ipBlock")));
  }
  if (!out.pod_selector && !out.namespace_selector && !out.ip_block) {
    return invalid(path, "must name podSelector, namespaceSelector or ipBlock");
  }
  return out;
}

Result<PolicyPort> decode_policy_port(const json& port, std::string_view path) {
  if (!port.is_object()) {
    return invalid(path, "must be an object");
  }
  PolicyPort out;
  WEFT_TRY(out.protocol, decode_protocol(port, path));
  if (const json* value = member(port, "port")) {
    if (value->is_string()) {
      out.name = value->get<std::string>();
      if (!is_port_name(out.name)) {
        return invalid(join(path, "port"),
                       fmt::format("\"{}\" is neither a port number nor a port name", out.name));
      }
    } else {
      WEFT_TRY(out.port, decode_port_number(*value, join(path, "port")));
    }
  }
  if (const json* value = member(port, "endPort")) {
    WEFT_TRY(auto end, decode_port_number(*value, join(path, "endPort")));
    if (!out.port) {
      return invalid(join(path, "endPort"), "needs a numeric port");
    }
    if (end < *out.port) {
      return invalid(join(path, "endPort"), fmt::format("{} is below port {}", end, *out.port));
    }
    out.end_port = end;
  }
  return out;
}

Result<PolicyRule> decode_rule(const json& rule, std::string_view path, std::string_view peers) {
  if (!rule.is_object()) {
    return invalid(path, "must be an object");
  }
  PolicyRule out;
  WEFT_TRY(const json* ports, array_member(rule, "ports", path));
  if (ports != nullptr) {
    for (std::size_t i = 0; i < ports->size(); ++i) {
      WEFT_TRY(auto port, decode_policy_port((*ports)[i], index(join(path, "ports"), i)));
      out.ports.push_back(std::move(port));
    }
  }
  WEFT_TRY(const json* list, array_member(rule, peers, path));
  if (list != nullptr) {
    for (std::size_t i = 0; i < list->size(); ++i) {
      WEFT_TRY(auto peer, decode_peer((*list)[i], index(join(path, peers), i)));
      out.peers.push_back(std::move(peer));
    }
  }
  return out;
}

Result<std::vector<PolicyRule>> decode_rules(const json& spec, std::string_view field,
                                             std::string_view peers) {
  std::vector<PolicyRule> out;
  WEFT_TRY(const json* rules, array_member(spec, field, "spec"));
  if (rules != nullptr) {
    for (std::size_t i = 0; i < rules->size(); ++i) {
      WEFT_TRY(auto rule, decode_rule((*rules)[i], index(join("spec", field), i), peers));
      out.push_back(std::move(rule));
    }
  }
  return out;
}

bool is_dns_label_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

}  // namespace

std::string_view to_string(Protocol protocol) {
  switch (protocol) {
    case Protocol::kTcp:
      return "TCP";
    case Protocol::kUdp:
      return "UDP";
    case Protocol::kSctp:
      return "SCTP";
  }
  return "TCP";
}

std::optional<Protocol> parse_protocol(std::string_view text) {
  for (Protocol p : kProtocols) {
    if (text == to_string(p)) {
      return p;
    }
  }
  return std::nullopt;
}

std::uint8_t ip_protocol_number(Protocol protocol) {
  switch (protocol) {
    case Protocol::kTcp:
      return 6;
    case Protocol::kUdp:
      return 17;
    case Protocol::kSctp:
      return 132;
  }
  return 6;
}

bool is_port_name(std::string_view name) {
  if (name.empty() || name.size() > 15 || name.front() == '-' || name.back() == '-' ||
      name.find("--") != std::string_view::npos) {
    return false;
  }
  return std::all_of(name.begin(), name.end(), is_dns_label_char) &&
         std::any_of(name.begin(), name.end(), [](char c) { return c >= 'a' && c <= 'z'; });
}

namespace {

Result<LabelRequirement::Op> decode_operator(const std::string& op, const std::string& where) {
  if (op == "In") {
    return LabelRequirement::Op::kIn;
  }
  if (op == "NotIn") {
    return LabelRequirement::Op::kNotIn;
  }
  if (op == "Exists") {
    return LabelRequirement::Op::kExists;
  }
  if (op == "DoesNotExist") {
    return LabelRequirement::Op::kDoesNotExist;
  }
  return invalid(join(where, "operator"),
                 fmt::format("\"{}\" is not In, NotIn, Exists or DoesNotExist", op));
}

// One entry of matchExpressions.
Result<LabelRequirement> decode_requirement(const json& e, const std::string& where) {
  if (!e.is_object()) {
    return invalid(where, "must be an object");
  }
  LabelRequirement req;
  WEFT_TRY(req.key, string_member(e, "key", where, true));
  if (req.key.empty()) {
    return invalid(join(where, "key"), "must not be empty");
  }
  WEFT_TRY(auto op, string_member(e, "operator", where, true));
  WEFT_TRY(req.op, decode_operator(op, where));
  WEFT_TRY(const json* values, array_member(e, "values", where));
  if (values != nullptr) {
    for (std::size_t j = 0; j < values->size(); ++j) {
      if (!(*values)[j].is_string()) {
        return invalid(index(join(where, "values"), j), "must be a string");
      }
      req.values.push_back((*values)[j].get<std::string>());
    }
  }
  const bool set_op = req.op == LabelRequirement::Op::kIn || req.op == LabelRequirement::Op::kNotIn;
  if (set_op && req.values.empty()) {
    return invalid(join(where, "values"), fmt::format("must be non-empty with {}", op));
  }
  if (!set_op && !req.values.empty()) {
    return invalid(join(where, "values"), fmt::format("must be empty with {}", op));
  }
  std::sort(req.values.begin(), req.values.end());
  req.values.erase(std::unique(req.values.begin(), req.values.end()), req.values.end());
  return req;
}

}  // namespace

Result<LabelSelector> decode_label_selector(const json& selector, std::string_view path) {
  if (!selector.is_object()) {
    return invalid(path, "must be an object");
  }
  LabelSelector out;
  if (const json* labels = member(selector, "matchLabels")) {
    WEFT_TRY(auto map, decode_labels(*labels, join(path, "matchLabels")));
    for (auto& [key, value] : map) {
      if (key.empty()) {
        return invalid(join(path, "matchLabels"), "a key must not be empty");
      }
      out.requirements.push_back({key, LabelRequirement::Op::kIn, {value}});
    }
  }
  WEFT_TRY(const json* expressions, array_member(selector, "matchExpressions", path));
  if (expressions != nullptr) {
    for (std::size_t i = 0; i < expressions->size(); ++i) {
      WEFT_TRY(auto req,
               decode_requirement((*expressions)[i], index(join(path, "matchExpressions"), i)));
      out.requirements.push_back(std::move(req));
    }
  }
  std::sort(out.requirements.begin(), out.requirements.end());
  out.requirements.erase(std::unique(out.requirements.begin(), out.requirements.end()),
                         out.requirements.end());
  return out;
}

Result<Namespace> decode_namespace(const json& object) {
  WEFT_TRY(auto meta, decode_metadata(object, false));
  return Namespace{std::move(meta.name), std::move(meta.labels)};
}

namespace {

// spec.containers[i].ports, appended to `out`.
Result<void> decode_container_ports(const json& c, const std::string& where,
                                    std::vector<ContainerPort>& out) {
  if (!c.is_object()) {
    return invalid(where, "must be an object");
  }
  WEFT_TRY(const json* ports, array_member(c, "ports", where));
  if (ports == nullptr) {
    return {};
  }
  for (std::size_t j = 0; j < ports->size(); ++j) {
    const std::string port_path = index(join(where, "ports"), j);
    const json& p = (*ports)[j];
    if (!p.is_object()) {
      return invalid(port_path, "must be an object");
    }
    ContainerPort port;
    WEFT_TRY(port.name, string_member(p, "name", port_path, false));
    if (!port.name.empty() && !is_port_name(port.name)) {
      return invalid(join(port_path, "name"),
                     fmt::format("\"{}\" is not a valid port name", port.name));
    }
    const json* number = member(p, "containerPort");
    if (number == nullptr) {
      return invalid(join(port_path, "containerPort"), "is required");
    }
    WEFT_TRY(port.port, decode_port_number(*number, join(port_path, "containerPort")));
    WEFT_TRY(port.protocol, decode_protocol(p, port_path));
    out.push_back(std::move(port));
  }
  return {};
}

Result<void> decode_pod_spec(const json& spec, Pod& pod) {
  WEFT_TRY(pod.node_name, string_member(spec, "nodeName", "spec", false));
  WEFT_TRY(pod.host_network, bool_member(spec, "hostNetwork", "spec"));
  WEFT_TRY(const json* containers, array_member(spec, "containers", "spec"));
  if (containers != nullptr) {
    for (std::size_t i = 0; i < containers->size(); ++i) {
      WEFT_TRY_VOID(
          decode_container_ports((*containers)[i], index("spec.containers", i), pod.ports));
    }
  }
  return {};
}

// status.phase and the addresses (status.podIPs, else status.podIP; one per family).
Result<void> decode_pod_status(const json& status, Pod& pod) {
  WEFT_TRY(auto phase, string_member(status, "phase", "status", false));
  pod.terminated = phase == "Succeeded" || phase == "Failed";
  std::vector<std::string> texts;
  WEFT_TRY(const json* ips, array_member(status, "podIPs", "status"));
  if (ips != nullptr) {
    for (std::size_t i = 0; i < ips->size(); ++i) {
      const std::string where = index("status.podIPs", i);
      if (!(*ips)[i].is_object()) {
        return invalid(where, "must be an object");
      }
      WEFT_TRY(auto ip, string_member((*ips)[i], "ip", where, true));
      texts.push_back(std::move(ip));
    }
  }
  if (texts.empty()) {
    WEFT_TRY(auto ip, string_member(status, "podIP", "status", false));
    if (!ip.empty()) {
      texts.push_back(std::move(ip));
    }
  }
  for (const auto& text : texts) {
    auto address = parse_ip_address(text);
    if (!address) {
      return invalid("status.podIPs", address.error().message);
    }
    const bool seen =
        std::any_of(pod.addresses.begin(), pod.addresses.end(),
                    [&](const IpAddress& a) { return a.family() == address->family(); });
    if (seen) {
      return invalid("status.podIPs",
                     fmt::format("two {} addresses", family_name(address->family())));
    }
    pod.addresses.push_back(*address);
  }
  return {};
}

}  // namespace

Result<Pod> decode_pod(const json& object) {
  WEFT_TRY(auto meta, decode_metadata(object, true));
  Pod pod;
  pod.namespace_name = std::move(meta.namespace_name);
  pod.name = std::move(meta.name);
  pod.uid = std::move(meta.uid);
  pod.labels = std::move(meta.labels);
  WEFT_TRY(const json* spec, object_member(object, "spec", ""));
  if (spec != nullptr) {
    WEFT_TRY_VOID(decode_pod_spec(*spec, pod));
  }
  WEFT_TRY(const json* status, object_member(object, "status", ""));
  if (status != nullptr) {
    WEFT_TRY_VOID(decode_pod_status(*status, pod));
  }
  return pod;
}

Result<NetworkPolicy> decode_network_policy(const json& object) {
  WEFT_TRY(auto meta, decode_metadata(object, true));
  NetworkPolicy policy;
  policy.namespace_name = std::move(meta.namespace_name);
  policy.name = std::move(meta.name);
  policy.uid = std::move(meta.uid);
  WEFT_TRY(const json* spec, object_member(object, "spec", ""));
  if (spec == nullptr) {
    return invalid("spec", "is required");
  }
  if (const json* selector = member(*spec, "podSelector")) {
    WEFT_TRY(policy.pod_selector, decode_label_selector(*selector, "spec.podSelector"));
  }
  WEFT_TRY(policy.ingress, decode_rules(*spec, "ingress", "from"));
  WEFT_TRY(policy.egress, decode_rules(*spec, "egress", "to"));
  WEFT_TRY(const json* types, array_member(*spec, "policyTypes", "spec"));
  if (types != nullptr && !types->empty()) {
    policy.applies_to_ingress = false;
    policy.applies_to_egress = false;
    for (std::size_t i = 0; i < types->size(); ++i) {
      const json& t = (*types)[i];
      if (t == "Ingress") {
        policy.applies_to_ingress = true;
      } else if (t == "Egress") {
        policy.applies_to_egress = true;
      } else {
        return invalid(index("spec.policyTypes", i), "must be Ingress or Egress");
      }
    }
  } else {
    policy.applies_to_ingress = true;
    policy.applies_to_egress = !policy.egress.empty();  // upstream: len(spec.egress) != 0
  }
  return policy;
}

namespace {

// Drops the members of an object not named in `keep`; anything else is left alone.
void keep_only(json& value, std::initializer_list<std::string_view> keep) {
  if (!value.is_object()) {
    return;
  }
  for (auto it = value.begin(); it != value.end();) {
    if (std::find(keep.begin(), keep.end(), it.key()) == keep.end()) {
      it = value.erase(it);
    } else {
      ++it;
    }
  }
}

void slim_member(json& object, const char* name, std::initializer_list<std::string_view> keep) {
  if (object.is_object() && object.contains(name)) {
    keep_only(object[name], keep);
  }
}

}  // namespace

void slim_pod(json& object) {
  if (!object.is_object()) {
    return;
  }
  keep_only(object, {"apiVersion", "kind", "metadata", "spec", "status"});
  slim_member(object, "metadata", {"name", "namespace", "uid", "labels", "resourceVersion"});
  slim_member(object, "spec", {"nodeName", "hostNetwork", "containers"});
  slim_member(object, "status", {"phase", "podIP", "podIPs"});
  if (object.contains("spec") && object["spec"].is_object() &&
      object["spec"].contains("containers") && object["spec"]["containers"].is_array()) {
    for (auto& container : object["spec"]["containers"]) {
      keep_only(container, {"ports"});
    }
  }
}

void slim_namespace(json& object) {
  if (!object.is_object()) {
    return;
  }
  keep_only(object, {"apiVersion", "kind", "metadata"});
  slim_member(object, "metadata", {"name", "uid", "labels", "resourceVersion"});
}

void slim_network_policy(json& object) {
  if (object.is_object() && object.contains("metadata") && object["metadata"].is_object()) {
    object["metadata"].erase("managedFields");
    object["metadata"].erase("annotations");
  }
}

}  // namespace weft::policy
