// Pure decoders from Kubernetes JSON objects (as the API server serves them, or as manifests
// hold them once read, policy/manifest.hpp) to policy/model.hpp values.
//
// They check what the API server's validation checks for the fields weft-npc uses, so that
// an object that reaches the compiler means what upstream says it means: label selector
// operators and their values, port numbers 1..65535, named ports (IANA service names:
// 1..15 of [a-z0-9-], a letter among them, no leading, trailing or double hyphen), endPort
// only with a numeric port and not below it, ipBlock CIDRs (host bits are masked, as the API
// server's parser does) whose exceptions are strict subsets of the same family, peers that
// combine ipBlock with a selector. Unknown fields are ignored (newer API versions add them).
//
// Contract: pure functions of their input; never throw; errors are kInvalidArgument with the
// path of the offending field ("spec.ingress[0].ports[1].endPort: ...").
#pragma once

#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "common/result.hpp"
#include "policy/model.hpp"

namespace weft::policy {

// A missing metadata.namespace reads as "default" (what kubectl does for manifests).
Result<Pod> decode_pod(const nlohmann::json& object);
Result<Namespace> decode_namespace(const nlohmann::json& object);
Result<NetworkPolicy> decode_network_policy(const nlohmann::json& object);
// A metav1.LabelSelector (matchLabels and matchExpressions). `path` prefixes errors.
Result<LabelSelector> decode_label_selector(const nlohmann::json& selector, std::string_view path);

// Objects cut down to what the decoders above read (and metadata.resourceVersion), in place:
// weft-npc keeps every pod and namespace of the cluster, and a real pod is mostly fields no
// policy looks at (managedFields, env, volumes, conditions). A member of an unexpected type
// is left as it is, so the decoder reports it as before; decode_x(slim_x(o)) == decode_x(o).
void slim_pod(nlohmann::json& object);
void slim_namespace(nlohmann::json& object);
void slim_network_policy(nlohmann::json& object);

// Whether `name` is a valid named port (IANA_SVC_NAME).
bool is_port_name(std::string_view name);

}  // namespace weft::policy
