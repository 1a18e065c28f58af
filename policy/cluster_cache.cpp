#include "policy/cluster_cache.hpp"

#include "policy/decode.hpp"

namespace weft::policy {
namespace {

using nlohmann::json;

struct Identity {
  std::string namespace_name;
  std::string name;
  std::string uid;
  bool ok = false;
};

Identity identity(const json& object, bool namespaced) {
  Identity id;
  if (!object.is_object()) {
    return id;
  }
  auto meta = object.find("metadata");
  if (meta == object.end() || !meta->is_object()) {
    return id;
  }
  auto text = [&](const char* field) {
    auto it = meta->find(field);
    return it != meta->end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  id.name = text("name");
  id.uid = text("uid");
  if (namespaced) {
    id.namespace_name = text("namespace");
    if (id.namespace_name.empty()) {
      id.namespace_name = "default";
    }
  }
  id.ok = !id.name.empty();
  return id;
}

// Whether two decodings of a pod mean the same to the compiler.
bool same_pod(const Pod& a, const Pod& b) {
  return a.uid == b.uid && a.labels == b.labels && a.addresses == b.addresses &&
         a.ports == b.ports && a.node_name == b.node_name && a.host_network == b.host_network &&
         a.terminated == b.terminated;
}

std::string key_of(ObjectKind kind, const Identity& id) {
  return kind == ObjectKind::kNamespace ? id.name : id.namespace_name + "/" + id.name;
}

std::string rejected_key(ObjectKind kind, const std::string& key) {
  return fmt::format("{} {}", to_string(kind), key);
}

template <class Map>
bool erase_if_uid(Map& map, const std::string& key, const std::string& uid) {
  auto it = map.find(key);
  if (it == map.end()) {
    return false;
  }
  if constexpr (requires { it->second.uid; }) {
    if (!uid.empty() && !it->second.uid.empty() && it->second.uid != uid) {
      return false;
    }
  }
  map.erase(it);
  return true;
}

}  // namespace

std::string_view to_string(ObjectKind kind) {
  switch (kind) {
    case ObjectKind::kPod:
      return "Pod";
    case ObjectKind::kNamespace:
      return "Namespace";
    case ObjectKind::kNetworkPolicy:
      return "NetworkPolicy";
  }
  return "?";
}

bool ClusterCache::put(ObjectKind kind, const json& object) {
  const Identity id = identity(object, kind != ObjectKind::kNamespace);
  if (!id.ok) {
    rejected_["? (no metadata.name)"] = "an object without metadata.name";
    return false;
  }
  const std::string key = key_of(kind, id);
  switch (kind) {
    case ObjectKind::kPod: {
      auto pod = decode_pod(object);
      if (!pod) {
        rejected_[rejected_key(kind, key)] = pod.error().message;
        return state_.pods.erase(key) > 0;
      }
      rejected_.erase(rejected_key(kind, key));
      auto [it, inserted] = state_.pods.try_emplace(key);
      const bool changed = inserted || !same_pod(it->second, *pod);
      it->second = std::move(*pod);
      return changed;
    }
    case ObjectKind::kNamespace: {
      auto ns = decode_namespace(object);
      if (!ns) {
        rejected_[rejected_key(kind, key)] = ns.error().message;
        return state_.namespaces.erase(key) > 0;
      }
      rejected_.erase(rejected_key(kind, key));
      auto [it, inserted] = state_.namespaces.try_emplace(key);
      const bool changed = inserted || it->second.labels != ns->labels;
      it->second = std::move(*ns);
      return changed;
    }
    case ObjectKind::kNetworkPolicy: {
      auto policy = decode_network_policy(object);
      if (!policy) {
        rejected_[rejected_key(kind, key)] = policy.error().message;
        // Fail closed: every pod of the namespace, both directions, nothing allowed.
        NetworkPolicy deny;
        deny.namespace_name = id.namespace_name;
        deny.name = id.name;
        deny.uid = id.uid;
        deny.applies_to_ingress = true;
        deny.applies_to_egress = true;
        state_.policies[key] = std::move(deny);
        return true;
      }
      rejected_.erase(rejected_key(kind, key));
      state_.policies[key] = std::move(*policy);
      return true;
    }
  }
  return false;
}

bool ClusterCache::remove(ObjectKind kind, const json& object) {
  const Identity id = identity(object, kind != ObjectKind::kNamespace);
  if (!id.ok) {
    return false;
  }
  const std::string key = key_of(kind, id);
  rejected_.erase(rejected_key(kind, key));
  switch (kind) {
    case ObjectKind::kPod:
      return erase_if_uid(state_.pods, key, id.uid);
    case ObjectKind::kNamespace:
      return state_.namespaces.erase(key) > 0;
    case ObjectKind::kNetworkPolicy:
      return erase_if_uid(state_.policies, key, id.uid);
  }
  return false;
}

bool ClusterCache::replace(ObjectKind kind, const std::vector<json>& items) {
  // Build the new set aside, then swap, so that the state never passes through "empty".
  ClusterCache fresh;
  fresh.state_ = state_;
  fresh.rejected_ = rejected_;
  switch (kind) {
    case ObjectKind::kPod:
      fresh.state_.pods.clear();
      break;
    case ObjectKind::kNamespace:
      fresh.state_.namespaces.clear();
      break;
    case ObjectKind::kNetworkPolicy:
      fresh.state_.policies.clear();
      break;
  }
  const std::string prefix = fmt::format("{} ", to_string(kind));
  std::erase_if(fresh.rejected_,
                [&](const auto& entry) { return entry.first.starts_with(prefix); });
  for (const auto& item : items) {
    fresh.put(kind, item);
  }
  bool changed = false;
  switch (kind) {
    case ObjectKind::kPod: {
      changed = fresh.state_.pods.size() != state_.pods.size() ||
                !std::equal(state_.pods.begin(), state_.pods.end(), fresh.state_.pods.begin(),
                            [&](const auto& x, const auto& y) {
                              return x.first == y.first && same_pod(x.second, y.second);
                            });
      break;
    }
    case ObjectKind::kNamespace:
      changed = fresh.state_.namespaces.size() != state_.namespaces.size() ||
                !std::equal(state_.namespaces.begin(), state_.namespaces.end(),
                            fresh.state_.namespaces.begin(), [](const auto& x, const auto& y) {
                              return x.first == y.first && x.second.labels == y.second.labels;
                            });
      break;
    case ObjectKind::kNetworkPolicy:
      changed = true;  // cheap to recompile; policies carry no cheap equality
      break;
  }
  *this = std::move(fresh);
  return changed;
}

bool ClusterCache::apply(ObjectKind kind, WatchChange change, const json& object) {
  if (change == WatchChange::kDeleted) {
    return remove(kind, object);
  }
  return put(kind, object);
}

}  // namespace weft::policy
