// The Kubernetes objects that NetworkPolicy is about, as weft-npc understands them: pods,
// namespaces and networking.k8s.io/v1 NetworkPolicies, decoded (policy/decode.hpp) from the
// API server's JSON or from manifests, and nothing else of them.
//
// Semantics kept from upstream (networking.k8s.io/v1):
// - A LabelSelector is a conjunction of requirements; matchLabels {k: v} is `k In (v)`. An
//   empty selector matches everything; a null one (absent) is represented by std::nullopt
//   where upstream distinguishes the two.
// - A peer with only podSelector selects pods of the policy's namespace; with only
//   namespaceSelector every pod of the matching namespaces; with both, the matching pods of
//   the matching namespaces; ipBlock is a CIDR minus its exceptions, of either family.
// - A rule with no peers matches every peer; a rule with no ports matches every port of every
//   protocol (ICMP included). A port without protocol is TCP. A named port matches, on a
//   destination pod, the container ports of that name and protocol; a pod that declares no
//   such port is not matched by it.
// - policyTypes absent: Ingress, plus Egress when the policy has egress rules.
// - hostNetwork pods are never selected (as upstream: their addresses are the node's).
//
// Contract: plain values; thread-compatible.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/cidr.hpp"
#include "common/ip_address.hpp"

namespace weft::policy {

enum class Protocol : std::uint8_t { kTcp, kUdp, kSctp };
inline constexpr Protocol kProtocols[] = {Protocol::kTcp, Protocol::kUdp, Protocol::kSctp};
// "TCP", "UDP", "SCTP" (the API's spelling).
std::string_view to_string(Protocol protocol);
std::optional<Protocol> parse_protocol(std::string_view text);
// The IP protocol number: 6, 17, 132.
std::uint8_t ip_protocol_number(Protocol protocol);

using Labels = std::map<std::string, std::string, std::less<>>;

struct LabelRequirement {
  enum class Op : std::uint8_t { kIn, kNotIn, kExists, kDoesNotExist };
  std::string key;
  Op op = Op::kIn;
  std::vector<std::string> values;  // sorted, unique; empty for Exists/DoesNotExist

  friend auto operator<=>(const LabelRequirement&, const LabelRequirement&) = default;
};

struct LabelSelector {
  std::vector<LabelRequirement> requirements;  // sorted: equal selectors compare equal

  bool empty() const { return requirements.empty(); }
  friend auto operator<=>(const LabelSelector&, const LabelSelector&) = default;
};

// A port that a container declares (spec.containers[].ports[]).
struct ContainerPort {
  std::string name;  // may be empty
  std::uint16_t port = 0;
  Protocol protocol = Protocol::kTcp;

  friend auto operator<=>(const ContainerPort&, const ContainerPort&) = default;
};

struct Pod {
  std::string namespace_name;
  std::string name;
  std::string uid;
  Labels labels;
  std::string node_name;  // spec.nodeName; empty while unscheduled
  bool host_network = false;
  // status.podIPs (status.podIP when that is all there is); at most one per family.
  std::vector<IpAddress> addresses;
  std::vector<ContainerPort> ports;
  // Succeeded or Failed: the pod's addresses may already belong to another pod.
  bool terminated = false;

  std::string key() const { return namespace_name + "/" + name; }
};

struct Namespace {
  std::string name;
  Labels labels;
};

struct IpBlock {
  Cidr cidr;
  std::vector<Cidr> except;  // each inside cidr, same family (checked by the decoder)
};

struct PolicyPeer {
  std::optional<LabelSelector> pod_selector;
  std::optional<LabelSelector> namespace_selector;
  std::optional<IpBlock> ip_block;  // exclusive with the two selectors
};

struct PolicyPort {
  Protocol protocol = Protocol::kTcp;
  // Neither set: every port of the protocol.
  std::optional<std::uint16_t> port;
  std::string name;                       // a named port (then `port` is unset)
  std::optional<std::uint16_t> end_port;  // with a numeric port: [port, end_port]
};

struct PolicyRule {
  std::vector<PolicyPort> ports;  // empty: every port of every protocol
  std::vector<PolicyPeer> peers;  // empty: every peer
};

struct NetworkPolicy {
  std::string namespace_name;
  std::string name;
  std::string uid;
  LabelSelector pod_selector;
  bool applies_to_ingress = true;
  bool applies_to_egress = false;
  std::vector<PolicyRule> ingress;
  std::vector<PolicyRule> egress;

  std::string key() const { return namespace_name + "/" + name; }
};

}  // namespace weft::policy
