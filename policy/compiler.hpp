// The policy compiler: the cluster's pods, namespaces and NetworkPolicies in, and out, for
// the pods of one node, what each may receive and send — as sets of peer identities, address
// sets and port ranges, the shape the nftables program (policy/nft_program.hpp) is written
// from, and the shape that `weft-npc analyze` and the tests query (CompiledNode::ingress/
// egress). One representation serves both, so a test of one is a test of the other.
//
// How a pod's rules are formed (networking.k8s.io/v1, see policy/model.hpp):
// - A pod is isolated in a direction when a policy of its namespace selects it (podSelector)
//   and applies to that direction; then it may receive (send) exactly the union of those
//   policies' rules of that direction. Otherwise it is unrestricted in that direction.
// - A rule allows its peers (their union; every address when it names none) on its ports
//   (every protocol and port when it names none). A named port is resolved on the
//   destination pod: for ingress, the local pod's own container ports; for egress, each peer
//   pod's (an address outside the cluster's pods never matches a named port).
// - Only selectable pods are peers and get rules: not hostNetwork, not Succeeded/Failed, with
//   an address. An address that two such pods claim at once (a stale event, an address being
//   reused) belongs to neither: it matches no selector, and when it is local it gets rules
//   that allow nothing in either direction until the claim is settled — never the old pod's.
//
// Peer identities. Selectors see a pod only through its namespace and labels, and named ports
// through its container ports, so pods equal in those three are the same peer to every rule:
// they share an identity, a number in 1..max_identity. A rule's peers are then a PeerSet —
// identities (for selector peers) plus addresses (for ipBlock peers, and for pods of an
// identity left without a number when there are more identities than numbers) — and the
// program keeps one map `address -> identity` for the whole cluster instead of a copy of every
// peer address in every rule that names it. Numbers are kept across compiles
// (CompileOptions::previous_identities), so a change touches few elements.
//
// Local pods selected by the same policies (with the same resolution of named ports, for
// ingress) share one RuleGroup, built once: the program has one chain per such group, not one
// per pod, and the per-packet cost is a verdict-map lookup plus set lookups whatever the
// number of policies. A group's name is stable across compiles while its identity lasts, so
// a change updates the installed program element by element.
//
// Contract: compile() is a pure function of its input; thread-compatible.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/ip_address.hpp"
#include "policy/address_set.hpp"
#include "policy/model.hpp"

namespace weft::policy {

enum class Direction : std::uint8_t { kIngress, kEgress };
std::string_view to_string(Direction direction);  // "ingress", "egress"

struct PortRange {
  std::uint16_t first = 0;
  std::uint16_t last = 0;  // inclusive

  bool contains(std::uint16_t port) const { return port >= first && port <= last; }
  friend auto operator<=>(const PortRange&, const PortRange&) = default;
};
inline constexpr PortRange kAllPorts{0, 65535};

// Peers of a rule: identities (sorted, unique; never 0) and addresses. Canonical, so equal
// sets compare equal.
struct PeerSet {
  class Builder {
   public:
    void add_identity(std::uint32_t identity);
    AddressSet::Builder& addresses() { return addresses_; }
    void add(const PeerSet& set);
    PeerSet build() &&;

   private:
    void normalize();

    std::vector<std::uint32_t> identities_;
    bool sorted_ = true;  // identities_ sorted and unique
    AddressSet::Builder addresses_;
  };

  std::vector<std::uint32_t> identities;
  AddressSet addresses;

  bool empty() const { return identities.empty() && addresses.empty(); }
  // `identity`: the peer address's identity (0: none).
  bool contains(const IpAddress& address, std::uint32_t identity) const;
  // Identities plus address intervals: what the peer costs in nftables sets.
  std::size_t element_count() const { return identities.size() + addresses.interval_count(); }
  friend bool operator==(const PeerSet&, const PeerSet&) = default;
};

// What one direction of a pod allows. Canonical: `ports` is ordered by protocol, then by
// range; the ranges of one protocol are disjoint; no entry has empty peers; adjacent ranges
// with equal peers are merged. Equal rule sets therefore compare equal.
struct DirectionRules {
  struct PortAllow {
    Protocol protocol = Protocol::kTcp;
    PortRange ports;
    PeerSet peers;

    friend bool operator==(const PortAllow&, const PortAllow&) = default;
  };

  PeerSet any;  // peers allowed on every protocol and port (ICMP included)
  std::vector<PortAllow> ports;

  // `identity`: the peer's identity (CompiledNode::identity_of).
  bool allows(const IpAddress& peer, std::uint32_t identity, Protocol protocol,
              std::uint16_t port) const;
  // Other protocols (ICMP, ...): only `any` lets them through.
  bool allows_any_protocol(const IpAddress& peer, std::uint32_t identity) const {
    return any.contains(peer, identity);
  }
  friend bool operator==(const DirectionRules&, const DirectionRules&) = default;
};

// Peer identities by key (namespace, labels, container ports; see the header comment).
using IdentityTable = std::map<std::string, std::uint32_t, std::less<>>;
// Enough for any cluster weft-npc is meant for; beyond it, pods are peers by address.
inline constexpr std::uint32_t kMaxIdentity = 0xffff;

// The cluster as the controller (or analyze) sees it. Keys: "namespace/name" for pods and
// policies, the name for namespaces.
struct ClusterState {
  std::map<std::string, Namespace, std::less<>> namespaces;
  std::map<std::string, Pod, std::less<>> pods;
  std::map<std::string, NetworkPolicy, std::less<>> policies;
};

struct CompileOptions {
  // The pods that get rules on this node. Unset: every pod (analyze).
  std::function<bool(const Pod&)> is_local = {};
  // The numbers of the last compile (CompiledNode::identities): an identity that still exists
  // keeps its number. Null: numbered afresh.
  const IdentityTable* previous_identities = nullptr;
  // The highest identity number (1..max_identity); pods of further identities are peers by
  // address.
  std::uint32_t max_identity = kMaxIdentity;
};

struct CompiledNode {
  static constexpr std::uint32_t kUnrestricted = std::numeric_limits<std::uint32_t>::max();

  struct RuleGroup {
    // Stable across compiles for the same identity (direction, selecting policies, named
    // port resolution): "g" + 12 hex digits. Names the group's chain and sets.
    std::string name;
    Direction direction = Direction::kIngress;
    DirectionRules rules;
    std::vector<std::string> policies;  // "ns/name" of the policies behind it, sorted
    std::uint32_t pod_count = 0;
  };
  struct LocalPod {
    std::string key;  // "ns/name"
    std::vector<IpAddress> addresses;
    std::uint32_t ingress = kUnrestricted;  // index into groups
    std::uint32_t egress = kUnrestricted;
  };
  enum class Verdict : std::uint8_t { kAllow, kDeny, kNotLocal };

  std::vector<RuleGroup> groups;
  std::vector<LocalPod> pods;  // ordered by key
  // Local pod address -> index into pods. Addresses claimed twice map to kConflict.
  std::map<IpAddress, std::uint32_t> by_address;
  static constexpr std::uint32_t kConflict = std::numeric_limits<std::uint32_t>::max() - 1;
  std::size_t policy_count = 0;
  // Every identity of the cluster with its number, and the address of every numbered pod
  // (local or not) with its identity: the program's `peers` maps.
  IdentityTable identities;
  std::map<IpAddress, std::uint32_t> identity_by_address;

  // A peer address's identity; 0 when it has none (not a pod, not selectable, contested, or
  // beyond max_identity).
  std::uint32_t identity_of(const IpAddress& address) const;

  // A new connection to local address `dst` from `src` (ingress), or from local `src` to
  // `dst` (egress). kNotLocal: the address is no local pod of this node, so this node does
  // not judge it. `port` is ignored for other protocols (protocol nullopt: ICMP and the like).
  Verdict ingress(const IpAddress& dst, const IpAddress& src, std::optional<Protocol> protocol,
                  std::uint16_t port) const;
  Verdict egress(const IpAddress& src, const IpAddress& dst, std::optional<Protocol> protocol,
                 std::uint16_t port) const;
  // The group of a local address in a direction: kUnrestricted, kConflict (deny all) or an
  // index; nullopt when not local.
  std::optional<std::uint32_t> group_of(const IpAddress& address, Direction direction) const;
};

CompiledNode compile(const ClusterState& state, const CompileOptions& options = {});

// Whether a pod can be selected by policies and get rules (see the header comment).
bool is_selectable(const Pod& pod);

}  // namespace weft::policy
