// `weft-npc analyze`: the policy compiler run offline over manifests, answering which
// connections the policies allow. The answers come from CompiledNode (policy/compiler.hpp),
// the representation the nftables program is written from, with every pod treated as local:
// a connection is allowed when the source's egress rules and the destination's ingress rules
// both let it through (each judged where weft-npc judges it on a real node).
//
// Input: Namespaces, Pods, workloads (one pod per pod template, policy/manifest.hpp) and
// NetworkPolicies; other kinds are ignored with a warning. Namespaces that objects refer to
// but no manifest declares exist implicitly; every namespace carries the label
// kubernetes.io/metadata.name=<name>, as the API server sets it. Pods without status.podIP
// get addresses from the --pod-cidr blocks (one per family; first host address upwards, in
// input order). hostNetwork pods are left out (policies cannot select them).
//
// Output rows: for every ordered pair of pods, every protocol (TCP, UDP, SCTP) and every port
// that the destination declares or a policy names (a range by its first and last port), plus
// one row per pair and protocol with port "other", standing for every port listed nowhere
// (evaluated at the lowest such port); the same for --external CIDR peers (judged at the
// block's first address) in both directions, over the ports the policies name. A pod reaches
// itself over loopback, never through the datapath: always allowed. For dual-stack pods, one
// row when both families agree, else one row per family (with "family").
//
// Contract: pure functions; never throw.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "common/cidr.hpp"
#include "common/result.hpp"
#include "policy/compiler.hpp"

namespace weft::policy {

struct AnalyzeOptions {
  std::vector<Cidr> pod_cidrs;  // at most one per family
  std::vector<Cidr> externals;
};

struct AnalyzeInput {
  ClusterState state;
  std::vector<std::string> pods;  // keys, in input order
  std::vector<std::string> warnings;
};

Result<AnalyzeInput> build_cluster(const std::vector<nlohmann::json>& objects,
                                   const AnalyzeOptions& options);

struct Connection {
  std::string src;  // "ns/pod" or an external CIDR
  std::string dst;
  Protocol protocol = Protocol::kTcp;
  std::optional<std::uint16_t> port;  // nullopt: "other"
  std::optional<IpFamily> family;     // set only when the families disagree
  bool allowed = false;
};

std::vector<Connection> analyze(const AnalyzeInput& input, const AnalyzeOptions& options);

// {"src":"x/a","dst":"y/b","protocol":"TCP","port":80,"allowed":true}
std::string to_json_line(const Connection& connection);
// One reachability matrix per protocol and port: rows sources, columns destinations,
// "." allowed, "X" denied, blank where that port is not a row of the pair.
std::string format_table(const std::vector<Connection>& connections);

}  // namespace weft::policy
