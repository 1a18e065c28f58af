// Kubernetes manifests as `kubectl create -f` reads them: YAML (several documents separated
// by ---) or JSON, with `List` kinds (kind List or <Kind>List with items) expanded into their
// items. Each object comes out as JSON, as the API server would serve it, for the decoders of
// policy/decode.hpp.
//
// YAML scalars are typed the way Kubernetes' YAML reader (YAML 1.1 rules) types them: plain
// 80 is a number, "80" a string, true/false/yes/no/on/off booleans, null/~/empty null;
// explicit tags (!!str, !!int, ...) win. Anchors and aliases are expanded, within a budget of
// nodes proportional to the input (kBaseNodes + 4 per input byte) so that a small document
// cannot expand into an enormous one.
//
// Contract: pure functions; never throw; errors (kInvalidArgument, kTooLarge) name the
// source and the document number.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.hpp"

namespace weft::policy {

inline constexpr std::size_t kMaxManifestBytes = 32 * 1024 * 1024;
inline constexpr std::size_t kBaseNodes = 64 * 1024;

// The objects of one manifest text. `source` (a file name) prefixes errors. Empty documents
// are skipped; a document that is not an object with a string `kind` is an error.
Result<std::vector<nlohmann::json>> parse_manifests(std::string_view text, std::string_view source);

// YAML (or JSON) documents as JSON values, typed as above, without any Kubernetes meaning
// (test data and other structured input). Empty documents are null.
Result<std::vector<nlohmann::json>> parse_yaml(std::string_view text, std::string_view source);

// A workload's pod template as one Pod object (Deployment, ReplicaSet, StatefulSet,
// DaemonSet, ReplicationController, Job: spec.template; CronJob: spec.jobTemplate.spec.template),
// named after the workload and in its namespace; the object itself when it is a Pod;
// nullopt for every other kind.
Result<std::optional<nlohmann::json>> pod_of(const nlohmann::json& object);

}  // namespace weft::policy
