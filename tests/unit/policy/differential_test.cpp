// The policy compiler against a naive evaluator written here from the NetworkPolicy spec
// alone: thousands of random clusters (namespaces, pods, policies with every kind of peer and
// port), every ordered pair of pods plus outside addresses, every protocol and a spread of
// ports; the compiled verdicts must equal the naive ones.
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "policy/compiler.hpp"
#include "policy/selector.hpp"
#include <fmt/ranges.h>

namespace weft::policy {
namespace {

// ---- the naive evaluator (no sets, no grouping: the spec read literally) ----

bool naive_label_match(const LabelSelector& s, const Labels& labels) {
  for (const auto& r : s.requirements) {
    auto it = labels.find(r.key);
    bool in = false;
    if (it != labels.end()) {
      for (const auto& v : r.values) {
        in = in || v == it->second;
      }
    }
    bool ok = true;
    switch (r.op) {
      case LabelRequirement::Op::kIn:
        ok = it != labels.end() && in;
        break;
      case LabelRequirement::Op::kNotIn:
        ok = it == labels.end() || !in;
        break;
      case LabelRequirement::Op::kExists:
        ok = it != labels.end();
        break;
      case LabelRequirement::Op::kDoesNotExist:
        ok = it == labels.end();
        break;
    }
    if (!ok) {
      return false;
    }
  }
  return true;
}

struct Party {
  IpAddress address;
  const Pod* pod = nullptr;  // nullptr: outside the cluster
};

bool naive_peer(const ClusterState& st, const NetworkPolicy& p, const PolicyPeer& peer,
                const Party& other) {
  if (peer.ip_block) {
    if (!peer.ip_block->cidr.contains(other.address)) {
      return false;
    }
    for (const auto& e : peer.ip_block->except) {
      if (e.contains(other.address)) {
        return false;
      }
    }
    return true;
  }
  if (other.pod == nullptr || other.pod->host_network) {
    return false;
  }
  if (peer.namespace_selector) {
    const auto& ns = st.namespaces.at(other.pod->namespace_name);
    if (!naive_label_match(*peer.namespace_selector, ns.labels)) {
      return false;
    }
  } else if (other.pod->namespace_name != p.namespace_name) {
    return false;
  }
  return !peer.pod_selector || naive_label_match(*peer.pod_selector, other.pod->labels);
}

bool naive_port(const PolicyPort& pp, const Pod* destination, std::optional<Protocol> protocol,
                std::uint16_t port) {
  if (!protocol || pp.protocol != *protocol) {
    return false;
  }
  if (!pp.name.empty()) {
    if (destination == nullptr) {
      return false;
    }
    for (const auto& cp : destination->ports) {
      if (cp.name == pp.name && cp.protocol == *protocol && cp.port == port) {
        return true;
      }
    }
    return false;
  }
  if (!pp.port) {
    return true;
  }
  return port >= *pp.port && port <= pp.end_port.value_or(*pp.port);
}

// Whether `local` (a pod) lets the connection through in `direction`; `other` is the far end.
bool naive_direction(const ClusterState& st, const Pod& local, const Party& other,
                     Direction direction, std::optional<Protocol> protocol, std::uint16_t port) {
  bool isolated = false;
  for (const auto& [key, p] : st.policies) {
    if (p.namespace_name != local.namespace_name ||
        !naive_label_match(p.pod_selector, local.labels)) {
      continue;
    }
    const bool applies =
        direction == Direction::kIngress ? p.applies_to_ingress : p.applies_to_egress;
    if (!applies) {
      continue;
    }
    isolated = true;
    for (const auto& rule : direction == Direction::kIngress ? p.ingress : p.egress) {
      bool peer_ok = rule.peers.empty();
      for (const auto& peer : rule.peers) {
        peer_ok = peer_ok || naive_peer(st, p, peer, other);
      }
      bool port_ok = rule.ports.empty();
      // Named ports are the destination pod's; hostNetwork pods are no pods to policies.
      const Pod* far = other.pod != nullptr && !other.pod->host_network ? other.pod : nullptr;
      const Pod* destination = direction == Direction::kIngress ? &local : far;
      for (const auto& pp : rule.ports) {
        port_ok = port_ok || naive_port(pp, destination, protocol, port);
      }
      if (peer_ok && port_ok) {
        return true;
      }
    }
  }
  return !isolated;
}

// ---- random clusters ----

class Generator {
 public:
  explicit Generator(std::uint32_t seed) : rng_(seed) {}

  ClusterState cluster() {
    ClusterState st;
    const int namespaces = pick(1, 4);
    for (int i = 0; i < namespaces; ++i) {
      Namespace ns{fmt::format("ns{}", i), labels()};
      ns.labels["kubernetes.io/metadata.name"] = ns.name;
      st.namespaces.emplace(ns.name, ns);
    }
    const int pods = pick(2, 12);
    for (int i = 0; i < pods; ++i) {
      Pod pod;
      pod.namespace_name = fmt::format("ns{}", pick(0, namespaces - 1));
      pod.name = fmt::format("p{}", i);
      pod.labels = labels();
      pod.host_network = pick(0, 19) == 0;
      // Unique addresses: v4 always, v6 for most.
      pod.addresses.push_back(IpAddress::v4(0xc6130000U + static_cast<std::uint32_t>(i) * 3 + 1));
      if (pick(0, 3) != 0) {
        pod.addresses.push_back(*IpAddress::from_value(IpFamily::kV6, v6_base() + i * 3 + 1));
      }
      const int ports = pick(0, 3);
      for (int j = 0; j < ports; ++j) {
        ContainerPort cp;
        cp.protocol = protocol();
        cp.port = port_number();
        if (pick(0, 2) != 0) {
          cp.name = port_name();
        }
        pod.ports.push_back(cp);
      }
      st.pods.emplace(pod.key(), pod);
    }
    const int policies = pick(0, 6);
    for (int i = 0; i < policies; ++i) {
      NetworkPolicy p;
      p.namespace_name = fmt::format("ns{}", pick(0, namespaces - 1));
      p.name = fmt::format("np{}", i);
      p.pod_selector = selector();
      p.applies_to_ingress = pick(0, 3) != 0;
      p.applies_to_egress = pick(0, 1) == 0;
      for (auto* rules : {&p.ingress, &p.egress}) {
        const int n = pick(0, 3);
        for (int j = 0; j < n; ++j) {
          rules->push_back(rule());
        }
      }
      st.policies.emplace(p.key(), p);
    }
    return st;
  }

  int pick(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  static U128 v6_base() { return parse_ip_address("fd00:19::")->value(); }
  Protocol protocol() { return kProtocols[pick(0, 2)]; }
  std::uint16_t port_number() {
    static constexpr std::uint16_t kPorts[] = {53, 80, 81, 82, 443, 8080};
    return kPorts[pick(0, 5)];
  }
  std::string port_name() {
    static constexpr const char* kNames[] = {"http", "dns", "serve-81", "metrics"};
    return kNames[pick(0, 3)];
  }

 private:
  Labels labels() {
    Labels out;
    static constexpr const char* kKeys[] = {"app", "tier", "env"};
    static constexpr const char* kValues[] = {"a", "b", "c"};
    for (const char* k : kKeys) {
      if (pick(0, 2) != 0) {
        out[k] = kValues[pick(0, 2)];
      }
    }
    return out;
  }

  LabelSelector selector() {
    LabelSelector s;
    static constexpr const char* kKeys[] = {"app", "tier", "env", "kubernetes.io/metadata.name"};
    static constexpr const char* kValues[] = {"a", "b", "c", "ns0", "ns1"};
    const int n = pick(0, 2);
    for (int i = 0; i < n; ++i) {
      LabelRequirement r;
      r.key = kKeys[pick(0, 3)];
      r.op = static_cast<LabelRequirement::Op>(pick(0, 3));
      if (r.op == LabelRequirement::Op::kIn || r.op == LabelRequirement::Op::kNotIn) {
        const int values = pick(1, 2);
        for (int j = 0; j < values; ++j) {
          r.values.emplace_back(kValues[pick(0, 4)]);
        }
        std::sort(r.values.begin(), r.values.end());
        r.values.erase(std::unique(r.values.begin(), r.values.end()), r.values.end());
      }
      s.requirements.push_back(r);
    }
    std::sort(s.requirements.begin(), s.requirements.end());
    return s;
  }

  PolicyPeer peer() {
    PolicyPeer p;
    switch (pick(0, 3)) {
      case 0:
        p.pod_selector = selector();
        break;
      case 1:
        p.namespace_selector = selector();
        break;
      case 2:
        p.pod_selector = selector();
        p.namespace_selector = selector();
        break;
      default: {
        IpBlock block;
        if (pick(0, 2) == 0) {
          const int len = pick(112, 128);
          block.cidr = *Cidr::containing(
              *IpAddress::from_value(IpFamily::kV6, v6_base() + pick(0, 40)), len);
        } else {
          const int len = pick(24, 32);
          block.cidr = *Cidr::containing(
              IpAddress::v4(0xc6130000U + static_cast<std::uint32_t>(pick(0, 40))), len);
        }
        const int excepts = pick(0, 2);
        for (int i = 0; i < excepts; ++i) {
          const int len = std::min(block.cidr.prefix_length() + pick(1, 4), block.cidr.bit_width());
          if (len <= block.cidr.prefix_length()) {
            break;
          }
          const U128 offset = static_cast<U128>(pick(0, 1 << 20)) & block.cidr.last_offset();
          block.except.push_back(*Cidr::containing(*block.cidr.nth(offset), len));
        }
        p.ip_block = block;
      }
    }
    return p;
  }

  PolicyPort port() {
    PolicyPort p;
    p.protocol = protocol();
    switch (pick(0, 3)) {
      case 0:
        break;  // every port of the protocol
      case 1:
        p.port = port_number();
        break;
      case 2:
        p.port = port_number();
        p.end_port = static_cast<std::uint16_t>(*p.port + pick(0, 400));
        break;
      default:
        p.name = port_name();
    }
    return p;
  }

  PolicyRule rule() {
    PolicyRule r;
    const int peers = pick(0, 2);
    for (int i = 0; i < peers; ++i) {
      r.peers.push_back(peer());
    }
    const int ports = pick(0, 2);
    for (int i = 0; i < ports; ++i) {
      r.ports.push_back(port());
    }
    return r;
  }

  std::mt19937 rng_;
};

std::string describe(const PolicyPeer& peer) {
  std::string out = " peer{";
  if (peer.pod_selector) {
    out += fmt::format("pod[{}] ", to_string(*peer.pod_selector));
  }
  if (peer.namespace_selector) {
    out += fmt::format("ns[{}] ", to_string(*peer.namespace_selector));
  }
  if (peer.ip_block) {
    out += fmt::format("block {} except {}", peer.ip_block->cidr,
                       fmt::join(peer.ip_block->except, ","));
  }
  return out + "}";
}

std::string describe(const PolicyRule& rule) {
  std::string out;
  for (const auto& peer : rule.peers) {
    out += describe(peer);
  }
  for (const auto& port : rule.ports) {
    out += fmt::format(" port{{{} {} {} {}}}", to_string(port.protocol),
                       port.port ? std::to_string(*port.port) : "-", port.name,
                       port.end_port ? std::to_string(*port.end_port) : "-");
  }
  return out;
}

std::string describe(const ClusterState& st) {
  std::string out;
  for (const auto& [k, ns] : st.namespaces) {
    out += fmt::format("ns {} {}\n", k, fmt::join(ns.labels, ","));
  }
  for (const auto& [k, p] : st.pods) {
    out += fmt::format("pod {} labels {} addrs {} host {} ports", k, fmt::join(p.labels, ","),
                       fmt::join(p.addresses, ","), p.host_network);
    for (const auto& cp : p.ports) {
      out += fmt::format(" {}/{}/{}", cp.name, to_string(cp.protocol), cp.port);
    }
    out += "\n";
  }
  for (const auto& [k, p] : st.policies) {
    out += fmt::format("policy {} select [{}] in {} eg {}\n", k, to_string(p.pod_selector),
                       p.applies_to_ingress, p.applies_to_egress);
    for (const auto& r : p.ingress) {
      out += "  ingress rule:" + describe(r) + "\n";
    }
    for (const auto& r : p.egress) {
      out += "  egress rule:" + describe(r) + "\n";
    }
  }
  return out;
}

TEST(PolicyDifferential, CompilerAgreesWithNaiveEvaluator) {
  std::size_t checked = 0;
  for (std::uint32_t seed = 1; seed <= 1500; ++seed) {
    Generator gen(seed);
    const ClusterState st = gen.cluster();
    // Every third cluster with few identity numbers (the rest of the pods are peers by
    // address), every third with the numbers of another cluster handed over as the last
    // compile's.
    CompileOptions options;
    IdentityTable previous;
    if (seed % 3 == 1) {
      options.max_identity = 1 + seed % 4;
    } else if (seed % 3 == 2) {
      Generator other(seed + 100000);
      previous = compile(other.cluster()).identities;
      options.previous_identities = &previous;
    }
    const CompiledNode node = compile(st, options);
    std::vector<Party> parties;
    for (const auto& [key, pod] : st.pods) {
      for (const auto& a : pod.addresses) {
        parties.push_back({a, &pod});
      }
    }
    // Outside the cluster: addresses between the pods' (which are 3k+1), inside the blocks.
    for (int i = 0; i < 3; ++i) {
      const int k = 3 * gen.pick(0, 20) + 2 + gen.pick(0, 1);
      parties.push_back({IpAddress::v4(0xc6130000U + static_cast<std::uint32_t>(k)), nullptr});
      parties.push_back({*IpAddress::from_value(IpFamily::kV6, Generator::v6_base() + k), nullptr});
    }
    for (const Party& local : parties) {
      if (local.pod == nullptr || local.pod->host_network) {
        continue;
      }
      for (const Party& other : parties) {
        if (other.address.family() != local.address.family()) {
          continue;
        }
        for (int p = -1; p < 3; ++p) {
          const std::optional<Protocol> protocol =
              p < 0 ? std::nullopt : std::optional<Protocol>(kProtocols[p]);
          for (std::uint16_t port : {53, 80, 81, 200, 443, 480, 8080, 9000}) {
            const bool want_in =
                naive_direction(st, *local.pod, other, Direction::kIngress, protocol, port);
            const bool want_out =
                naive_direction(st, *local.pod, other, Direction::kEgress, protocol, port);
            const auto got_in = node.ingress(local.address, other.address, protocol, port);
            const auto got_out = node.egress(local.address, other.address, protocol, port);
            ASSERT_NE(got_in, CompiledNode::Verdict::kNotLocal);
            ASSERT_EQ(got_in == CompiledNode::Verdict::kAllow, want_in)
                << "seed " << seed << " ingress to " << local.pod->key() << " from "
                << other.address << " " << (protocol ? to_string(*protocol) : "ICMP") << " " << port
                << "\n"
                << describe(st);
            ASSERT_EQ(got_out == CompiledNode::Verdict::kAllow, want_out)
                << "seed " << seed << " egress from " << local.pod->key() << " to " << other.address
                << " " << (protocol ? to_string(*protocol) : "ICMP") << " " << port << "\n"
                << describe(st);
            ++checked;
          }
        }
      }
    }
  }
  EXPECT_GT(checked, 100000U);
}

}  // namespace
}  // namespace weft::policy
