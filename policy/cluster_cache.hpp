// ClusterCache: the cluster as weft-npc last heard it from the API server — pods, namespaces
// and NetworkPolicies decoded (policy/decode.hpp) and kept in the ClusterState the compiler
// reads. Fed by the watches: replace() with a full list (the first list, a relist after
// 410 Gone, a periodic resync), apply() with each watch event.
//
// Objects that do not decode are not dropped silently:
// - a NetworkPolicy that does not decode fails closed: it is kept as a policy that selects
//   every pod of its namespace in both directions and allows nothing (the API server
//   validated it, so this means weft-npc cannot read a field that matters; better no traffic
//   than traffic the policy forbids), and listed in rejected();
// - a pod or namespace that does not decode is left out (a local pod the program does not
//   know fails closed in the datapath) and listed in rejected().
// A DELETED event for an object whose uid differs from the stored one (a pod deleted and
// recreated under the same name, events crossing) removes nothing.
//
// Contract: single thread (the controller's); no I/O.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "policy/compiler.hpp"

namespace weft::policy {

enum class ObjectKind : std::uint8_t { kPod, kNamespace, kNetworkPolicy };
enum class WatchChange : std::uint8_t { kAdded, kModified, kDeleted };
std::string_view to_string(ObjectKind kind);

class ClusterCache {
 public:
  // Replaces every object of `kind`; true when the state changed.
  bool replace(ObjectKind kind, const std::vector<nlohmann::json>& items);
  // One watch event; true when the state changed.
  bool apply(ObjectKind kind, WatchChange change, const nlohmann::json& object);

  const ClusterState& state() const { return state_; }
  // "Kind ns/name" -> why it could not be decoded.
  const std::map<std::string, std::string>& rejected() const { return rejected_; }

 private:
  bool put(ObjectKind kind, const nlohmann::json& object);
  bool remove(ObjectKind kind, const nlohmann::json& object);

  ClusterState state_;
  std::map<std::string, std::string> rejected_;
};

}  // namespace weft::policy
