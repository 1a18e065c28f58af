#include "policy/compiler.hpp"

#include <algorithm>
#include <set>
#include <tuple>
#include <utility>

#include "policy/selector.hpp"

namespace weft::policy {
namespace {

using PodList = std::vector<const Pod*>;

// One rule's peers, computed once per compile and shared by every pod the rule applies to.
struct RulePeers {
  AddressSet addresses;
  // The selectable pods among the peers (for named ports on egress); every selectable pod
  // when the rule names no peers.
  PodList pods;
};

class Compiler {
 public:
  Compiler(const ClusterState& state, const CompileOptions& options)
      : state_(state), options_(options) {}

  CompiledNode run();

 private:
  void index_pods();
  const PodList& pods_in(std::string_view ns) const;
  bool pod_matches_peer(const Pod& pod, const NetworkPolicy& policy, const PolicyPeer& peer) const;
  const RulePeers& peers_of(const NetworkPolicy& policy, Direction direction, std::size_t rule);
  void add_rule(const NetworkPolicy& policy, Direction direction, std::size_t rule_index,
                const Pod& local,
                std::map<std::tuple<Protocol, PortRange>, AddressSet::Builder>& by_range,
                AddressSet::Builder& any);
  std::uint32_t rules_for(const Pod& pod, Direction direction);
  std::string name_for(const std::string& identity);

  const ClusterState& state_;
  const CompileOptions& options_;
  CompiledNode out_;
  // Selectable pods whose addresses nobody else claims, by namespace.
  std::map<std::string, PodList, std::less<>> by_namespace_;
  PodList all_pods_;
  std::map<std::string, std::vector<const NetworkPolicy*>, std::less<>> policies_by_namespace_;
  std::map<std::tuple<std::string, Direction, std::size_t>, RulePeers> peer_cache_;
  std::map<std::string, std::uint32_t> group_by_identity_;
  std::set<std::string> names_;
  std::map<IpAddress, int> claims_;
};

bool claims_ok(const std::map<IpAddress, int>& claims, const Pod& pod) {
  return std::all_of(pod.addresses.begin(), pod.addresses.end(),
                     [&](const IpAddress& a) { return claims.at(a) == 1; });
}

void Compiler::index_pods() {
  for (const auto& [key, policy] : state_.policies) {
    policies_by_namespace_[policy.namespace_name].push_back(&policy);
  }
  for (const auto& [key, pod] : state_.pods) {
    if (is_selectable(pod)) {
      for (const auto& a : pod.addresses) {
        ++claims_[a];
      }
    }
  }
  for (const auto& [key, pod] : state_.pods) {
    if (is_selectable(pod) && claims_ok(claims_, pod)) {
      by_namespace_[pod.namespace_name].push_back(&pod);
      all_pods_.push_back(&pod);
    }
  }
}

const PodList& Compiler::pods_in(std::string_view ns) const {
  static const PodList kNone;
  auto it = by_namespace_.find(ns);
  return it == by_namespace_.end() ? kNone : it->second;
}

const RulePeers& Compiler::peers_of(const NetworkPolicy& policy, Direction direction,
                                    std::size_t rule_index) {
  auto key = std::make_tuple(policy.key(), direction, rule_index);
  auto it = peer_cache_.find(key);
  if (it != peer_cache_.end()) {
    return it->second;
  }
  const PolicyRule& rule =
      (direction == Direction::kIngress ? policy.ingress : policy.egress)[rule_index];
  RulePeers peers;
  AddressSet::Builder addresses;
  if (rule.peers.empty()) {
    addresses.add(*Cidr::make(IpAddress::lowest(IpFamily::kV4), 0));
    addresses.add(*Cidr::make(IpAddress::lowest(IpFamily::kV6), 0));
    peers.pods = all_pods_;
  } else {
    std::vector<const Pod*> pods;
    for (const auto& peer : rule.peers) {
      if (peer.ip_block) {
        addresses.add_except(peer.ip_block->cidr, peer.ip_block->except);
        continue;
      }
      // Selectors: the namespaces first, then their pods.
      std::vector<const PodList*> lists;
      if (peer.namespace_selector) {
        for (const auto& [name, ns] : state_.namespaces) {
          if (matches(*peer.namespace_selector, ns.labels)) {
            lists.push_back(&pods_in(name));
          }
        }
      } else {
        lists.push_back(&pods_in(policy.namespace_name));
      }
      for (const PodList* list : lists) {
        for (const Pod* pod : *list) {
          if (!peer.pod_selector || matches(*peer.pod_selector, pod->labels)) {
            pods.push_back(pod);
            for (const auto& a : pod->addresses) {
              addresses.add(a);
            }
          }
        }
      }
    }
    peers.addresses = std::move(addresses).build();
    // Pods inside ipBlocks are peers too, for named ports (which only egress resolves on
    // peers).
    const bool named = std::any_of(rule.ports.begin(), rule.ports.end(),
                                   [](const PolicyPort& p) { return !p.name.empty(); });
    const bool blocks = std::any_of(rule.peers.begin(), rule.peers.end(),
                                    [](const PolicyPeer& p) { return p.ip_block.has_value(); });
    if (direction == Direction::kEgress && named && blocks) {
      for (const Pod* pod : all_pods_) {
        if (std::any_of(pod->addresses.begin(), pod->addresses.end(),
                        [&](const IpAddress& a) { return peers.addresses.contains(a); })) {
          pods.push_back(pod);
        }
      }
    }
    std::sort(pods.begin(), pods.end());
    pods.erase(std::unique(pods.begin(), pods.end()), pods.end());
    peers.pods = std::move(pods);
    return peer_cache_.emplace(std::move(key), std::move(peers)).first->second;
  }
  peers.addresses = std::move(addresses).build();
  return peer_cache_.emplace(std::move(key), std::move(peers)).first->second;
}

void Compiler::add_rule(const NetworkPolicy& policy, Direction direction, std::size_t rule_index,
                        const Pod& local,
                        std::map<std::tuple<Protocol, PortRange>, AddressSet::Builder>& by_range,
                        AddressSet::Builder& any) {
  const PolicyRule& rule =
      (direction == Direction::kIngress ? policy.ingress : policy.egress)[rule_index];
  const RulePeers& peers = peers_of(policy, direction, rule_index);
  if (peers.addresses.empty()) {
    return;
  }
  if (rule.ports.empty()) {
    any.add(peers.addresses);
    return;
  }
  for (const PolicyPort& port : rule.ports) {
    if (port.name.empty()) {
      PortRange range = kAllPorts;
      if (port.port) {
        range = {*port.port, port.end_port.value_or(*port.port)};
      }
      by_range[{port.protocol, range}].add(peers.addresses);
      continue;
    }
    // A named port: resolved on the destination pod.
    if (direction == Direction::kIngress) {
      for (const ContainerPort& cp : local.ports) {
        if (cp.name == port.name && cp.protocol == port.protocol) {
          by_range[{port.protocol, PortRange{cp.port, cp.port}}].add(peers.addresses);
        }
      }
      continue;
    }
    for (const Pod* peer : peers.pods) {
      for (const ContainerPort& cp : peer->ports) {
        if (cp.name != port.name || cp.protocol != port.protocol) {
          continue;
        }
        auto& builder = by_range[{port.protocol, PortRange{cp.port, cp.port}}];
        for (const auto& a : peer->addresses) {
          if (peers.addresses.contains(a)) {
            builder.add(a);
          }
        }
      }
    }
  }
}

// Canonical form of the collected (protocol, range) -> peers pieces: per protocol, cut the
// port axis at every range boundary, give each piece the union of the peers of the ranges
// covering it, merge neighbours with equal peers.
std::vector<DirectionRules::PortAllow> canonical_ports(
    std::map<std::tuple<Protocol, PortRange>, AddressSet::Builder>& by_range) {
  std::vector<DirectionRules::PortAllow> out;
  for (Protocol protocol : kProtocols) {
    std::vector<std::pair<PortRange, AddressSet>> ranges;
    std::vector<std::uint32_t> cuts;
    for (auto& [key, builder] : by_range) {
      if (std::get<0>(key) != protocol) {
        continue;
      }
      const PortRange range = std::get<1>(key);
      AddressSet peers = std::move(builder).build();
      if (peers.empty()) {
        continue;
      }
      cuts.push_back(range.first);
      cuts.push_back(std::uint32_t{range.last} + 1);
      ranges.emplace_back(range, std::move(peers));
    }
    std::sort(cuts.begin(), cuts.end());
    cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
    for (std::size_t i = 0; i + 1 < cuts.size(); ++i) {
      const PortRange piece{static_cast<std::uint16_t>(cuts[i]),
                            static_cast<std::uint16_t>(cuts[i + 1] - 1)};
      AddressSet::Builder builder;
      bool covered = false;
      for (const auto& [range, peers] : ranges) {
        if (range.first <= piece.first && range.last >= piece.last) {
          builder.add(peers);
          covered = true;
        }
      }
      if (!covered) {
        continue;
      }
      AddressSet peers = std::move(builder).build();
      if (!out.empty() && out.back().protocol == protocol &&
          std::uint32_t{out.back().ports.last} + 1 == piece.first && out.back().peers == peers) {
        out.back().ports.last = piece.last;
      } else {
        out.push_back({protocol, piece, std::move(peers)});
      }
    }
  }
  return out;
}

// A stable name for a group: its identity hashed (FNV-1a 64), "g" + 12 hex digits; a
// collision (two identities, one name) gets a suffix.
std::string Compiler::name_for(const std::string& identity) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : identity) {
    h = (h ^ c) * 0x100000001b3ULL;
  }
  std::string name = fmt::format("g{:012x}", h & 0xffffffffffffULL);
  while (!names_.insert(name).second) {
    name += "x";
  }
  return name;
}

std::uint32_t Compiler::rules_for(const Pod& pod, Direction direction) {
  auto policies = policies_by_namespace_.find(pod.namespace_name);
  if (policies == policies_by_namespace_.end()) {
    return CompiledNode::kUnrestricted;
  }
  // The group's identity: the direction, the policies selecting the pod, and (ingress) how
  // their named ports resolve on this pod. Pods of equal identity have equal rules, so the
  // rules are built once per identity, and the identity names the group stably across
  // compiles (the program is then updated element by element, policy/nft_program.hpp).
  std::vector<const NetworkPolicy*> selecting;
  std::string identity(to_string(direction));
  for (const NetworkPolicy* policy : policies->second) {
    const bool applies =
        direction == Direction::kIngress ? policy->applies_to_ingress : policy->applies_to_egress;
    if (applies && matches(policy->pod_selector, pod.labels)) {
      selecting.push_back(policy);
      identity += "|" + policy->key();
    }
  }
  if (selecting.empty()) {
    return CompiledNode::kUnrestricted;
  }
  if (direction == Direction::kIngress) {
    std::set<std::pair<std::string, Protocol>> names;
    for (const NetworkPolicy* policy : selecting) {
      for (const auto& rule : policy->ingress) {
        for (const auto& port : rule.ports) {
          if (!port.name.empty()) {
            names.emplace(port.name, port.protocol);
          }
        }
      }
    }
    for (const auto& [name, protocol] : names) {
      identity += fmt::format("|{}/{}=", name, to_string(protocol));
      for (const ContainerPort& cp : pod.ports) {
        if (cp.name == name && cp.protocol == protocol) {
          identity += fmt::format("{},", cp.port);
        }
      }
    }
  }
  auto cached = group_by_identity_.find(identity);
  if (cached != group_by_identity_.end()) {
    ++out_.groups[cached->second].pod_count;
    return cached->second;
  }
  CompiledNode::RuleGroup group;
  group.direction = direction;
  std::map<std::tuple<Protocol, PortRange>, AddressSet::Builder> by_range;
  AddressSet::Builder any;
  for (const NetworkPolicy* policy : selecting) {
    group.policies.push_back(policy->key());
    const auto& rules = direction == Direction::kIngress ? policy->ingress : policy->egress;
    for (std::size_t i = 0; i < rules.size(); ++i) {
      add_rule(*policy, direction, i, pod, by_range, any);
    }
  }
  group.rules.any = std::move(any).build();
  group.rules.ports = canonical_ports(by_range);
  group.name = name_for(identity);
  group.pod_count = 1;
  const auto index = static_cast<std::uint32_t>(out_.groups.size());
  out_.groups.push_back(std::move(group));
  group_by_identity_.emplace(std::move(identity), index);
  return index;
}

CompiledNode Compiler::run() {
  index_pods();
  out_.policy_count = state_.policies.size();
  for (const auto& [key, pod] : state_.pods) {
    if (!is_selectable(pod) || (options_.is_local && !options_.is_local(pod))) {
      continue;
    }
    CompiledNode::LocalPod local;
    local.key = key;
    local.addresses = pod.addresses;
    if (claims_ok(claims_, pod)) {
      local.ingress = rules_for(pod, Direction::kIngress);
      local.egress = rules_for(pod, Direction::kEgress);
    }
    // A pod with a contested address is judged by none of its addresses' rules: every one
    // of them allows nothing until the claim is settled.
    const auto index = claims_ok(claims_, pod) ? static_cast<std::uint32_t>(out_.pods.size())
                                               : CompiledNode::kConflict;
    for (const auto& a : pod.addresses) {
      out_.by_address[a] = index;
    }
    out_.pods.push_back(std::move(local));
  }
  return std::move(out_);
}

}  // namespace

std::string_view to_string(Direction direction) {
  return direction == Direction::kIngress ? "ingress" : "egress";
}

bool is_selectable(const Pod& pod) {
  return !pod.host_network && !pod.terminated && !pod.addresses.empty();
}

bool DirectionRules::allows(const IpAddress& peer, Protocol protocol, std::uint16_t port) const {
  if (any.contains(peer)) {
    return true;
  }
  for (const auto& allow : ports) {
    if (allow.protocol == protocol && allow.ports.contains(port) && allow.peers.contains(peer)) {
      return true;
    }
  }
  return false;
}

std::optional<std::uint32_t> CompiledNode::group_of(const IpAddress& address,
                                                    Direction direction) const {
  auto it = by_address.find(address);
  if (it == by_address.end()) {
    return std::nullopt;
  }
  if (it->second == kConflict) {
    return kConflict;
  }
  const LocalPod& pod = pods[it->second];
  return direction == Direction::kIngress ? pod.ingress : pod.egress;
}

namespace {

CompiledNode::Verdict judge(const CompiledNode& node, const IpAddress& local, const IpAddress& peer,
                            Direction direction, std::optional<Protocol> protocol,
                            std::uint16_t port) {
  auto group = node.group_of(local, direction);
  if (!group) {
    return CompiledNode::Verdict::kNotLocal;
  }
  if (*group == CompiledNode::kUnrestricted) {
    return CompiledNode::Verdict::kAllow;
  }
  if (*group == CompiledNode::kConflict) {
    return CompiledNode::Verdict::kDeny;
  }
  const DirectionRules& rules = node.groups[*group].rules;
  const bool allowed =
      protocol ? rules.allows(peer, *protocol, port) : rules.allows_any_protocol(peer);
  return allowed ? CompiledNode::Verdict::kAllow : CompiledNode::Verdict::kDeny;
}

}  // namespace

CompiledNode::Verdict CompiledNode::ingress(const IpAddress& dst, const IpAddress& src,
                                            std::optional<Protocol> protocol,
                                            std::uint16_t port) const {
  return judge(*this, dst, src, Direction::kIngress, protocol, port);
}

CompiledNode::Verdict CompiledNode::egress(const IpAddress& src, const IpAddress& dst,
                                           std::optional<Protocol> protocol,
                                           std::uint16_t port) const {
  return judge(*this, src, dst, Direction::kEgress, protocol, port);
}

CompiledNode compile(const ClusterState& state, const CompileOptions& options) {
  return Compiler(state, options).run();
}

}  // namespace weft::policy
