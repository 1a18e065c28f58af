// The API resources weft uses and their REST paths.
//
// Contract: constants and pure string functions. Paths never carry the server's base path
// (the Client adds it); names are percent-encoded.
#pragma once

#include <string>
#include <string_view>

namespace weft::kube {

struct ResourceType {
  std::string_view group;    // "" for the core group
  std::string_view version;  // "v1"
  std::string_view plural;   // "pods"
  std::string_view kind;     // "Pod"
  bool namespaced = true;
};

inline constexpr ResourceType kNamespaces{"", "v1", "namespaces", "Namespace", false};
inline constexpr ResourceType kPods{"", "v1", "pods", "Pod", true};
inline constexpr ResourceType kNodes{"", "v1", "nodes", "Node", false};
inline constexpr ResourceType kConfigMaps{"", "v1", "configmaps", "ConfigMap", true};
inline constexpr ResourceType kNetworkPolicies{"networking.k8s.io", "v1", "networkpolicies",
                                               "NetworkPolicy", true};

// "/api/v1" for the core group, "/apis/<group>/<version>" otherwise.
std::string api_prefix(const ResourceType& type);
// "v1" or "networking.k8s.io/v1": the apiVersion field of objects of this type.
std::string api_version(const ResourceType& type);
// The collection: "/api/v1/pods" (every namespace, or a cluster-scoped type) or
// "/api/v1/namespaces/<ns>/pods".
std::string collection_path(const ResourceType& type, std::string_view ns = {});
// One object: "/api/v1/namespaces/<ns>/pods/<name>" or "/api/v1/nodes/<name>".
std::string object_path(const ResourceType& type, std::string_view ns, std::string_view name);

}  // namespace weft::kube
