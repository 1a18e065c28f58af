#include "policy/analyze.hpp"

#include <algorithm>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "policy/decode.hpp"
#include "policy/manifest.hpp"

namespace weft::policy {
namespace {

using nlohmann::json;

constexpr std::string_view kNameLabel = "kubernetes.io/metadata.name";

std::string kind_of(const json& object) {
  return object.value("kind", std::string());
}

std::string name_of(const json& object) {
  const json* meta = object.contains("metadata") ? &object["metadata"] : nullptr;
  if (meta != nullptr && meta->is_object() && meta->contains("name") &&
      (*meta)["name"].is_string()) {
    return (*meta)["name"].get<std::string>();
  }
  return "?";
}

// Ports (per protocol) that a pair's rows list.
using PortSets = std::map<Protocol, std::set<std::uint16_t>>;

PortSets policy_ports(const ClusterState& state) {
  PortSets out;
  for (const auto& [key, policy] : state.policies) {
    for (const auto* rules : {&policy.ingress, &policy.egress}) {
      for (const auto& rule : *rules) {
        for (const auto& port : rule.ports) {
          if (port.port) {
            out[port.protocol].insert(*port.port);
            if (port.end_port) {
              out[port.protocol].insert(*port.end_port);
            }
          }
        }
      }
    }
  }
  return out;
}

// The lowest port (from 1) that no pod declares and no policy's range or port covers.
std::optional<std::uint16_t> other_port(const ClusterState& state, Protocol protocol) {
  std::vector<PortRange> listed;
  for (const auto& [key, pod] : state.pods) {
    for (const auto& cp : pod.ports) {
      if (cp.protocol == protocol) {
        listed.push_back({cp.port, cp.port});
      }
    }
  }
  for (const auto& [key, policy] : state.policies) {
    for (const auto* rules : {&policy.ingress, &policy.egress}) {
      for (const auto& rule : *rules) {
        for (const auto& port : rule.ports) {
          if (port.protocol == protocol && port.port) {
            listed.push_back({*port.port, port.end_port.value_or(*port.port)});
          }
        }
      }
    }
  }
  std::sort(listed.begin(), listed.end());
  std::uint32_t candidate = 1;
  for (const auto& range : listed) {
    if (range.first > candidate) {
      break;
    }
    candidate = std::max<std::uint32_t>(candidate, std::uint32_t{range.last} + 1);
  }
  if (candidate > 65535) {
    return std::nullopt;
  }
  return static_cast<std::uint16_t>(candidate);
}

struct Endpoint {
  std::string name;
  std::vector<IpAddress> addresses;
  const Pod* pod = nullptr;  // nullptr: external
};

std::optional<IpAddress> address_in(const Endpoint& e, IpFamily family) {
  for (const auto& a : e.addresses) {
    if (a.family() == family) {
      return a;
    }
  }
  return std::nullopt;
}

}  // namespace

Result<AnalyzeInput> build_cluster(const std::vector<json>& objects,
                                   const AnalyzeOptions& options) {
  AnalyzeInput out;
  std::set<std::string> referenced;
  for (const json& object : objects) {
    const std::string kind = kind_of(object);
    if (kind == "Namespace") {
      WEFT_TRY(auto ns, decode_namespace(object));
      ns.labels[std::string(kNameLabel)] = ns.name;
      if (out.state.namespaces.contains(ns.name)) {
        return make_error(Errc::kInvalidArgument, "namespace {} is declared twice", ns.name);
      }
      const std::string name = ns.name;
      out.state.namespaces.emplace(name, std::move(ns));
      continue;
    }
    if (kind == "NetworkPolicy") {
      auto policy = decode_network_policy(object);
      if (!policy) {
        return make_error(Errc::kInvalidArgument, "NetworkPolicy {}: {}", name_of(object),
                          policy.error().message);
      }
      referenced.insert(policy->namespace_name);
      const std::string key = policy->key();
      if (!out.state.policies.emplace(key, std::move(*policy)).second) {
        return make_error(Errc::kInvalidArgument, "NetworkPolicy {} is declared twice", key);
      }
      continue;
    }
    auto pod_object = pod_of(object);
    if (!pod_object) {
      return make_error(Errc::kInvalidArgument, "{} {}: {}", kind, name_of(object),
                        pod_object.error().message);
    }
    if (!*pod_object) {
      out.warnings.push_back(fmt::format("ignored {} {}", kind, name_of(object)));
      continue;
    }
    auto pod = decode_pod(**pod_object);
    if (!pod) {
      return make_error(Errc::kInvalidArgument, "{} {}: {}", kind, name_of(object),
                        pod.error().message);
    }
    if (pod->host_network) {
      out.warnings.push_back(fmt::format("left out hostNetwork pod {}", pod->key()));
      continue;
    }
    referenced.insert(pod->namespace_name);
    const std::string key = pod->key();
    if (out.state.pods.contains(key)) {
      return make_error(Errc::kInvalidArgument, "pod {} is declared twice", key);
    }
    out.pods.push_back(key);
    out.state.pods.emplace(key, std::move(*pod));
  }
  for (const auto& name : referenced) {
    if (!out.state.namespaces.contains(name)) {
      out.state.namespaces.emplace(name, Namespace{name, Labels{{std::string(kNameLabel), name}}});
    }
  }
  // Addresses for pods that have none, in input order.
  std::map<IpFamily, U128> next;
  for (const auto& key : out.pods) {
    Pod& pod = out.state.pods.at(key);
    if (!pod.addresses.empty()) {
      continue;
    }
    if (options.pod_cidrs.empty()) {
      return make_error(Errc::kInvalidArgument,
                        "pod {} has no status.podIP: give --pod-cidr to assign addresses", key);
    }
    for (const Cidr& cidr : options.pod_cidrs) {
      U128& n = next.try_emplace(cidr.family(), 1).first->second;
      auto address = cidr.nth(n++);
      if (!address || *address == cidr.last()) {
        return make_error(Errc::kInvalidArgument, "--pod-cidr {} has no address left for pod {}",
                          cidr, key);
      }
      pod.addresses.push_back(*address);
    }
  }
  return out;
}

std::vector<Connection> analyze(const AnalyzeInput& input, const AnalyzeOptions& options) {
  const ClusterState& state = input.state;
  const CompiledNode node = compile(state);
  const PortSets named = policy_ports(state);
  std::map<Protocol, std::optional<std::uint16_t>> other;
  for (Protocol p : kProtocols) {
    other[p] = other_port(state, p);
  }

  std::vector<Endpoint> pods;
  for (const auto& key : input.pods) {
    const Pod& pod = state.pods.at(key);
    pods.push_back({key, pod.addresses, &pod});
  }
  std::vector<Endpoint> externals;
  for (const Cidr& cidr : options.externals) {
    externals.push_back({cidr.to_string(), {cidr.network()}, nullptr});
  }

  std::vector<Connection> out;
  auto judge = [&](const Endpoint& src, const Endpoint& dst) {
    std::vector<IpFamily> families;
    for (IpFamily f : {IpFamily::kV4, IpFamily::kV6}) {
      if (address_in(src, f) && address_in(dst, f)) {
        families.push_back(f);
      }
    }
    if (families.empty()) {
      return;
    }
    for (Protocol protocol : kProtocols) {
      std::vector<std::optional<std::uint16_t>> ports;
      std::set<std::uint16_t> listed;
      if (auto it = named.find(protocol); it != named.end()) {
        listed = it->second;
      }
      if (dst.pod != nullptr) {
        for (const auto& cp : dst.pod->ports) {
          if (cp.protocol == protocol) {
            listed.insert(cp.port);
          }
        }
      }
      ports.assign(listed.begin(), listed.end());
      if (other[protocol]) {
        ports.push_back(std::nullopt);
      }
      for (const auto& port : ports) {
        const std::uint16_t number = port ? *port : *other[protocol];
        std::vector<bool> verdicts;
        for (IpFamily f : families) {
          const IpAddress s = *address_in(src, f);
          const IpAddress d = *address_in(dst, f);
          const bool self = src.pod != nullptr && src.pod == dst.pod;
          const bool allowed =
              self || (node.egress(s, d, protocol, number) != CompiledNode::Verdict::kDeny &&
                       node.ingress(d, s, protocol, number) != CompiledNode::Verdict::kDeny);
          verdicts.push_back(allowed);
        }
        const bool agree = std::all_of(verdicts.begin(), verdicts.end(),
                                       [&](bool v) { return v == verdicts.front(); });
        if (agree) {
          out.push_back({src.name, dst.name, protocol, port, std::nullopt, verdicts.front()});
        } else {
          for (std::size_t i = 0; i < families.size(); ++i) {
            out.push_back({src.name, dst.name, protocol, port, families[i], verdicts[i]});
          }
        }
      }
    }
  };
  for (const auto& src : pods) {
    for (const auto& dst : pods) {
      judge(src, dst);
    }
  }
  for (const auto& ext : externals) {
    for (const auto& pod : pods) {
      judge(ext, pod);
      judge(pod, ext);
    }
  }
  return out;
}

std::string to_json_line(const Connection& c) {
  json line = {{"src", c.src}, {"dst", c.dst}, {"protocol", std::string(to_string(c.protocol))}};
  if (c.port) {
    line["port"] = *c.port;
  } else {
    line["port"] = "other";
  }
  if (c.family) {
    line["family"] = std::string(family_name(*c.family));
  }
  line["allowed"] = c.allowed;
  return line.dump(-1, ' ', false, json::error_handler_t::replace);  // names are untrusted bytes
}

std::string format_table(const std::vector<Connection>& connections) {
  // (protocol, port, family) -> src -> dst -> verdict; names in first-seen order.
  using Key = std::tuple<Protocol, std::uint32_t, int>;
  std::map<Key, std::map<std::string, std::map<std::string, bool>>> matrices;
  std::vector<std::string> names;
  std::set<std::string> seen;
  for (const auto& c : connections) {
    for (const auto* n : {&c.src, &c.dst}) {
      if (seen.insert(*n).second) {
        names.push_back(*n);
      }
    }
    const Key key{c.protocol, c.port ? *c.port : 65536U,
                  c.family ? static_cast<int>(*c.family) : 0};
    matrices[key][c.src][c.dst] = c.allowed;
  }
  std::size_t width = 0;
  for (const auto& n : names) {
    width = std::max(width, n.size());
  }
  std::string out;
  for (const auto& [key, rows] : matrices) {
    const auto& [protocol, port, family] = key;
    out += fmt::format("{} {}{}\n", to_string(protocol),
                       port == 65536U ? std::string("other") : std::to_string(port),
                       family == 0 ? "" : fmt::format(" ({})", family == 4 ? "IPv4" : "IPv6"));
    // Column headers: destinations numbered, with a legend.
    std::vector<std::string> columns;
    for (const auto& n : names) {
      for (const auto& [src, cols] : rows) {
        if (cols.contains(n)) {
          columns.push_back(n);
          break;
        }
      }
    }
    out += fmt::format("{:<{}}", "", width + 1);
    for (std::size_t i = 0; i < columns.size(); ++i) {
      out += fmt::format(" {:>2}", i + 1);
    }
    out += "\n";
    for (const auto& src : names) {
      auto row = rows.find(src);
      if (row == rows.end()) {
        continue;
      }
      out += fmt::format("{:<{}}", src, width + 1);
      for (const auto& dst : columns) {
        auto cell = row->second.find(dst);
        out += fmt::format(" {:>2}", cell == row->second.end() ? " " : cell->second ? "." : "X");
      }
      out += "\n";
    }
    for (std::size_t i = 0; i < columns.size(); ++i) {
      out += fmt::format("  {:>2} {}\n", i + 1, columns[i]);
    }
    out += "\n";
  }
  return out;
}

}  // namespace weft::policy
