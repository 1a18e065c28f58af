#include "policy/compiler.hpp"

#include <algorithm>
#include <iterator>
#include <set>
#include <tuple>
#include <utility>

#include "policy/selector.hpp"

namespace weft::policy {
namespace {

using PodList = std::vector<const Pod*>;

// Pods that are the same peer to every rule (see "Peer identities" in the header).
struct PeerIdentity {
  std::uint32_t number = 0;  // 0: none left; its pods are peers by address
  const Pod* sample = nullptr;
  PodList pods;
};
using IdentityList = std::vector<const PeerIdentity*>;

// One rule's peers, computed once per compile and shared by every pod the rule applies to.
struct RulePeers {
  PeerSet set;
  // For named ports on egress: the identities the selectors matched (every identity when the
  // rule names no peers), and the pods inside the rule's ipBlocks.
  IdentityList identities;
  PodList block_pods;
  AddressSet blocks;
};

// What a selector peer (podSelector and/or namespaceSelector) matches.
struct SelectorPeers {
  PeerSet set;
  IdentityList identities;
};
// A selector peer: the policy's namespace (empty with a namespaceSelector), the selectors.
using SelectorKey =
    std::tuple<std::string, std::optional<LabelSelector>, std::optional<LabelSelector>>;

using RangeBuilders = std::map<std::tuple<Protocol, PortRange>, PeerSet::Builder>;

// Length-prefixed pieces, so that no choice of names can make two identities one key.
void append_piece(std::string& key, std::string_view piece) {
  key += std::to_string(piece.size());
  key += ':';
  key += piece;
}

std::string identity_key(const Pod& pod) {
  std::string key;
  append_piece(key, pod.namespace_name);
  key += 'l';
  for (const auto& [name, value] : pod.labels) {
    append_piece(key, name);
    append_piece(key, value);
  }
  key += 'p';
  std::vector<ContainerPort> ports = pod.ports;
  std::sort(ports.begin(), ports.end());
  for (const auto& port : ports) {
    append_piece(key, port.name);
    key += fmt::format("{}/{};", port.port, static_cast<int>(port.protocol));
  }
  return key;
}

class Compiler {
 public:
  Compiler(const ClusterState& state, const CompileOptions& options)
      : state_(state), options_(options) {}

  CompiledNode run();

 private:
  void index_pods();
  void number_identities();
  const IdentityList& identities_in(std::string_view ns) const;
  const SelectorPeers& selector_peers(const std::string& policy_namespace, const PolicyPeer& peer);
  const RulePeers& peers_of(const NetworkPolicy& policy, Direction direction, std::size_t rule);
  void add_rule(const NetworkPolicy& policy, Direction direction, std::size_t rule_index,
                const Pod& local, RangeBuilders& by_range, PeerSet::Builder& any);
  std::uint32_t rules_for(const Pod& pod, Direction direction);
  std::string name_for(const std::string& identity);

  const ClusterState& state_;
  const CompileOptions& options_;
  CompiledNode out_;
  // Identities of the selectable pods whose addresses nobody else claims.
  std::map<std::string, PeerIdentity, std::less<>> identities_;
  std::map<std::string, IdentityList, std::less<>> by_namespace_;
  IdentityList all_identities_;
  PodList all_pods_;
  std::map<std::string, std::vector<const NetworkPolicy*>, std::less<>> policies_by_namespace_;
  std::map<std::tuple<const NetworkPolicy*, Direction, std::size_t>, RulePeers> peer_cache_;
  std::map<SelectorKey, SelectorPeers> selector_cache_;
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
      PeerIdentity& identity = identities_[identity_key(pod)];
      identity.sample = &pod;
      identity.pods.push_back(&pod);
      all_pods_.push_back(&pod);
    }
  }
  number_identities();
  for (const auto& [key, identity] : identities_) {
    by_namespace_[identity.sample->namespace_name].push_back(&identity);
    all_identities_.push_back(&identity);
    if (identity.number == 0) {
      continue;
    }
    out_.identities.emplace(key, identity.number);
    for (const Pod* pod : identity.pods) {
      for (const auto& a : pod->addresses) {
        out_.identity_by_address.emplace(a, identity.number);
      }
    }
  }
}

// Numbers kept from the previous compile first, then the lowest free ones, in key order.
void Compiler::number_identities() {
  const std::uint32_t max = std::min(options_.max_identity, kMaxIdentity);
  std::vector<bool> used(std::size_t{max} + 1, false);
  if (options_.previous_identities != nullptr) {
    for (auto& [key, identity] : identities_) {
      auto it = options_.previous_identities->find(key);
      if (it != options_.previous_identities->end() && it->second >= 1 && it->second <= max &&
          !used[it->second]) {
        identity.number = it->second;
        used[it->second] = true;
      }
    }
  }
  std::uint32_t next = 1;
  for (auto& [key, identity] : identities_) {
    if (identity.number != 0) {
      continue;
    }
    while (next <= max && used[next]) {
      ++next;
    }
    if (next > max) {
      break;
    }
    identity.number = next;
    used[next] = true;
  }
}

const IdentityList& Compiler::identities_in(std::string_view ns) const {
  static const IdentityList none;
  auto it = by_namespace_.find(ns);
  return it == by_namespace_.end() ? none : it->second;
}

// An identity into a peer set: its number, or its pods' addresses when it has none.
void add_identity(PeerSet::Builder& builder, const PeerIdentity& identity) {
  if (identity.number != 0) {
    builder.add_identity(identity.number);
    return;
  }
  for (const Pod* pod : identity.pods) {
    for (const auto& a : pod->addresses) {
      builder.addresses().add(a);
    }
  }
}

// A selector peer's identities, once per distinct peer: policies repeat the same selectors
// (a monitoring namespace, a team's namespaces), so this saves most selector matching.
const SelectorPeers& Compiler::selector_peers(const std::string& policy_namespace,
                                              const PolicyPeer& peer) {
  SelectorKey key{peer.namespace_selector ? std::string() : policy_namespace, peer.pod_selector,
                  peer.namespace_selector};
  auto it = selector_cache_.find(key);
  if (it != selector_cache_.end()) {
    return it->second;
  }
  // The namespaces first, then their identities.
  std::vector<const IdentityList*> lists;
  if (peer.namespace_selector) {
    for (const auto& [name, ns] : state_.namespaces) {
      if (matches(*peer.namespace_selector, ns.labels)) {
        lists.push_back(&identities_in(name));
      }
    }
  } else {
    lists.push_back(&identities_in(policy_namespace));
  }
  SelectorPeers out;
  PeerSet::Builder set;
  for (const IdentityList* list : lists) {
    for (const PeerIdentity* identity : *list) {
      if (!peer.pod_selector || matches(*peer.pod_selector, identity->sample->labels)) {
        out.identities.push_back(identity);
        add_identity(set, *identity);
      }
    }
  }
  out.set = std::move(set).build();
  return selector_cache_.emplace(std::move(key), std::move(out)).first->second;
}

const RulePeers& Compiler::peers_of(const NetworkPolicy& policy, Direction direction,
                                    std::size_t rule_index) {
  auto key = std::make_tuple(&policy, direction, rule_index);
  auto it = peer_cache_.find(key);
  if (it != peer_cache_.end()) {
    return it->second;
  }
  const PolicyRule& rule =
      (direction == Direction::kIngress ? policy.ingress : policy.egress)[rule_index];
  RulePeers peers;
  PeerSet::Builder set;
  if (rule.peers.empty()) {
    set.addresses().add(*Cidr::make(IpAddress::lowest(IpFamily::kV4), 0));
    set.addresses().add(*Cidr::make(IpAddress::lowest(IpFamily::kV6), 0));
    peers.identities = all_identities_;
    peers.set = std::move(set).build();
    return peer_cache_.emplace(std::move(key), std::move(peers)).first->second;
  }
  AddressSet::Builder blocks;
  for (const auto& peer : rule.peers) {
    if (peer.ip_block) {
      blocks.add_except(peer.ip_block->cidr, peer.ip_block->except);
      continue;
    }
    const SelectorPeers& selected = selector_peers(policy.namespace_name, peer);
    peers.identities.insert(peers.identities.end(), selected.identities.begin(),
                            selected.identities.end());
    set.add(selected.set);
  }
  peers.blocks = std::move(blocks).build();
  set.addresses().add(peers.blocks);
  peers.set = std::move(set).build();
  std::sort(peers.identities.begin(), peers.identities.end());
  peers.identities.erase(std::unique(peers.identities.begin(), peers.identities.end()),
                         peers.identities.end());
  // Pods inside ipBlocks are peers too, for named ports (which only egress resolves on
  // peers).
  const bool named = std::any_of(rule.ports.begin(), rule.ports.end(),
                                 [](const PolicyPort& p) { return !p.name.empty(); });
  if (direction == Direction::kEgress && named && !peers.blocks.empty()) {
    for (const Pod* pod : all_pods_) {
      if (std::any_of(pod->addresses.begin(), pod->addresses.end(),
                      [&](const IpAddress& a) { return peers.blocks.contains(a); })) {
        peers.block_pods.push_back(pod);
      }
    }
  }
  return peer_cache_.emplace(std::move(key), std::move(peers)).first->second;
}

// A named port of an egress rule, resolved on each peer pod.
void add_named_egress(const RulePeers& peers, const PolicyPort& port, RangeBuilders& by_range) {
  auto declared = [&](const Pod& pod, auto&& each) {
    for (const ContainerPort& cp : pod.ports) {
      if (cp.name == port.name && cp.protocol == port.protocol) {
        each(by_range[{port.protocol, PortRange{cp.port, cp.port}}]);
      }
    }
  };
  for (const PeerIdentity* identity : peers.identities) {
    declared(*identity->sample,
             [&](PeerSet::Builder& builder) { add_identity(builder, *identity); });
  }
  for (const Pod* pod : peers.block_pods) {
    declared(*pod, [&](PeerSet::Builder& builder) {
      for (const auto& a : pod->addresses) {
        if (peers.blocks.contains(a)) {
          builder.addresses().add(a);
        }
      }
    });
  }
}

void Compiler::add_rule(const NetworkPolicy& policy, Direction direction, std::size_t rule_index,
                        const Pod& local, RangeBuilders& by_range, PeerSet::Builder& any) {
  const PolicyRule& rule =
      (direction == Direction::kIngress ? policy.ingress : policy.egress)[rule_index];
  const RulePeers& peers = peers_of(policy, direction, rule_index);
  if (peers.set.empty()) {
    return;
  }
  if (rule.ports.empty()) {
    any.add(peers.set);
    return;
  }
  for (const PolicyPort& port : rule.ports) {
    if (port.name.empty()) {
      PortRange range = kAllPorts;
      if (port.port) {
        range = {*port.port, port.end_port.value_or(*port.port)};
      }
      by_range[{port.protocol, range}].add(peers.set);
      continue;
    }
    // A named port: resolved on the destination pod.
    if (direction == Direction::kIngress) {
      for (const ContainerPort& cp : local.ports) {
        if (cp.name == port.name && cp.protocol == port.protocol) {
          by_range[{port.protocol, PortRange{cp.port, cp.port}}].add(peers.set);
        }
      }
      continue;
    }
    add_named_egress(peers, port, by_range);
  }
}

// Canonical form of the collected (protocol, range) -> peers pieces: per protocol, cut the
// port axis at every range boundary, give each piece the union of the peers of the ranges
// covering it, merge neighbours with equal peers.
std::vector<DirectionRules::PortAllow> canonical_ports(RangeBuilders& by_range) {
  std::vector<DirectionRules::PortAllow> out;
  for (Protocol protocol : kProtocols) {
    std::vector<std::pair<PortRange, PeerSet>> ranges;
    std::vector<std::uint32_t> cuts;
    for (auto& [key, builder] : by_range) {
      if (std::get<0>(key) != protocol) {
        continue;
      }
      const PortRange range = std::get<1>(key);
      PeerSet peers = std::move(builder).build();
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
      PeerSet::Builder builder;
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
      PeerSet peers = std::move(builder).build();
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
  RangeBuilders by_range;
  PeerSet::Builder any;
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

void PeerSet::Builder::normalize() {
  if (!sorted_) {
    std::sort(identities_.begin(), identities_.end());
    identities_.erase(std::unique(identities_.begin(), identities_.end()), identities_.end());
    sorted_ = true;
  }
}

void PeerSet::Builder::add_identity(std::uint32_t identity) {
  if (!identities_.empty() && identity <= identities_.back()) {
    sorted_ = false;
  }
  identities_.push_back(identity);
}

void PeerSet::Builder::add(const PeerSet& set) {
  // Peer sets are sorted: merged, not sorted again (rules often share big ones).
  normalize();
  if (identities_.empty()) {
    identities_ = set.identities;
  } else if (!set.identities.empty()) {
    std::vector<std::uint32_t> merged;
    merged.reserve(identities_.size() + set.identities.size());
    std::set_union(identities_.begin(), identities_.end(), set.identities.begin(),
                   set.identities.end(), std::back_inserter(merged));
    identities_ = std::move(merged);
  }
  addresses_.add(set.addresses);
}

PeerSet PeerSet::Builder::build() && {
  normalize();
  PeerSet out;
  out.identities = std::move(identities_);
  out.addresses = std::move(addresses_).build();
  return out;
}

bool PeerSet::contains(const IpAddress& address, std::uint32_t identity) const {
  return (identity != 0 && std::binary_search(identities.begin(), identities.end(), identity)) ||
         addresses.contains(address);
}

bool DirectionRules::allows(const IpAddress& peer, std::uint32_t identity, Protocol protocol,
                            std::uint16_t port) const {
  if (any.contains(peer, identity)) {
    return true;
  }
  for (const auto& allow : ports) {
    if (allow.protocol == protocol && allow.ports.contains(port) &&
        allow.peers.contains(peer, identity)) {
      return true;
    }
  }
  return false;
}

std::uint32_t CompiledNode::identity_of(const IpAddress& address) const {
  auto it = identity_by_address.find(address);
  return it == identity_by_address.end() ? 0 : it->second;
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
  const std::uint32_t identity = node.identity_of(peer);
  const bool allowed = protocol ? rules.allows(peer, identity, *protocol, port)
                                : rules.allows_any_protocol(peer, identity);
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
