// PolicySummary: one node's NetworkPolicy state as weftd shows it: whether its weft-npc
// answers, and the last counts and blocked connections it gave. The local node's comes from
// polling weft-npc (policy_service.hpp); the other nodes' arrive by gossip
// (policy_channel.hpp). Both render to the same JSON, the "policy" objects of /report:
//
//   {"state": "running" | "not running" | "bad answer",
//    "error": "...",                  only when not running: why (connection refused, ...)
//    "data_age_seconds": 12.5,        only when not running and data is shown: its age
//    "synced", "policies", "local_pods", "isolated_pods": {"ingress", "egress"},
//    "blocked": {"ingress": {"tcp", "udp", "sctp", "other"}, "egress": {...}},
//    "blocked_total": {"ingress", "egress"}, "last_error",
//    "recent_blocks": [{"age_seconds", "line"}]}   newest first, at most kMaxRecentBlocks
//
// The count keys are weft-npc's own (npc_status.hpp) and present once weft-npc answered
// once; after that a failing weft-npc keeps its last data, marked by state and age.
//
// Design note: times are local time points (when the data was fetched, when each block
// happened), rendered as ages relative to `now`. A summary that crosses the mesh is rendered
// by the sender at sending time and turned back into time points by the receiver at receipt,
// so ages stay right on every node without synchronised clocks (off by the gossip delay).
// Ages are kept at millisecond precision so that rendering and parsing round-trip exactly.
//
// Contract: pure functions; parse_policy_json takes untrusted JSON (from a peer) and never
// throws.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/clock.hpp"
#include "common/result.hpp"
#include "weftd/npc_status.hpp"

namespace weft::weftd {

enum class NpcState {
  kRunning,     // the last poll got a valid status
  kNotRunning,  // nothing answers (refused, timeout)
  kBadAnswer,   // something answers, but not with a valid weft-npc status
};
std::string_view to_string(NpcState state);
std::optional<NpcState> parse_npc_state(std::string_view text);

struct PolicyBlock {
  Clock::TimePoint when{};
  std::string line;

  friend bool operator==(const PolicyBlock&, const PolicyBlock&) = default;
};

struct PolicySummary {
  NpcState state = NpcState::kNotRunning;
  std::string error;                        // empty when running
  std::optional<Clock::TimePoint> data_at;  // when `counts` was fetched; absent: never
  NpcCounts counts;
  std::vector<PolicyBlock> recent_blocks;  // newest first

  friend bool operator==(const PolicySummary&, const PolicySummary&) = default;
};

// The poller's pure core: the summary after one poll at `now` that got `fetched`. Errors
// kUnavailable and kTimeout mean not running; any other, a bad answer. A failed poll keeps
// the previous data.
PolicySummary after_poll(PolicySummary previous, const Result<NpcStatus>& fetched,
                         Clock::TimePoint now);

// Equal but for times: what decides whether a node publishes a new version of its summary
// (its blocks' ages and its fetch time move on every poll).
bool same_content(const PolicySummary& a, const PolicySummary& b);

nlohmann::json policy_json(const PolicySummary& summary, Clock::TimePoint now);
Result<PolicySummary> parse_policy_json(const nlohmann::json& json, Clock::TimePoint now);

}  // namespace weft::weftd
