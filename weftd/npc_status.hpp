// NpcStatus: what weftd takes from weft-npc's GET /status (policy/npc_report.hpp) to show
// NetworkPolicy per node on the status page: counts, blocked connections, recent blocks.
//
// The body comes from another process over TCP: untrusted bytes. parse_npc_status is a pure
// function (fuzzed by tests/fuzz/npc_status_fuzz.cpp: whatever parses, encodes and parses
// back equal) that never throws. Required keys: synced, policies, local_pods,
// isolated_pods{ingress,egress}, blocked{ingress,egress}{tcp,udp,sctp,other} and
// recent_blocks[{age_seconds,line}]; optional: node, last_error. Other keys are ignored.
// A missing or mistyped key is a kMalformed error that names it. Lists and strings are
// bounded: the newest kMaxRecentBlocks blocks, lines and errors cut to kMaxTextBytes (at a
// UTF-8 character boundary).
//
// The same field decoding reads the policy summaries peers gossip (policy_summary.hpp), so
// the keys mean the same everywhere: in weft-npc's /status, in weftd's /report and on the
// mesh.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.hpp"

namespace weft::weftd {

inline constexpr std::size_t kMaxRecentBlocks = 10;
inline constexpr std::size_t kMaxTextBytes = 240;
// weft-npc's /status is a few KB; the limit leaves room for many rejected objects.
inline constexpr std::size_t kMaxNpcStatusBytes = 1024 * 1024;
// Ages beyond this (a century) are nonsense from a broken clock: refused.
inline constexpr double kMaxAgeSeconds = 3.2e9;

// Blocked new connections, in weft-npc's protocol order: tcp, udp, sctp, other.
inline constexpr std::array<std::string_view, 4> kBlockedProtocols = {"tcp", "udp", "sctp",
                                                                      "other"};
using BlockedByProtocol = std::array<std::uint64_t, kBlockedProtocols.size()>;

struct NpcCounts {
  bool synced = false;
  std::uint64_t policies = 0;
  std::uint64_t local_pods = 0;
  std::uint64_t isolated_ingress = 0;  // local pods selected by an ingress policy
  std::uint64_t isolated_egress = 0;
  BlockedByProtocol blocked_ingress{};
  BlockedByProtocol blocked_egress{};
  std::string last_error;  // weft-npc's own (empty: none)

  friend bool operator==(const NpcCounts&, const NpcCounts&) = default;
};

struct NpcBlock {
  double age_seconds = 0;  // >= 0, relative to when the status was rendered
  std::string line;        // "blocked ingress TCP 198.19.0.3:40000 -> ... (policy namespace x)"

  friend bool operator==(const NpcBlock&, const NpcBlock&) = default;
};

struct NpcStatus {
  std::string node;  // weft-npc's --node-name (may be empty)
  NpcCounts counts;
  std::vector<NpcBlock> recent_blocks;  // newest first

  friend bool operator==(const NpcStatus&, const NpcStatus&) = default;
};

Result<NpcStatus> parse_npc_status(std::string_view body);
// The same keys as weft-npc's /status (those listed above).
nlohmann::json npc_status_json(const NpcStatus& status);

// The field decoders and encoders, shared with policy_summary.cpp. `json` is untrusted.
Result<NpcCounts> npc_counts_from_json(const nlohmann::json& json);
void add_npc_counts_json(nlohmann::json& out, const NpcCounts& counts);
Result<std::vector<NpcBlock>> npc_blocks_from_json(const nlohmann::json& json);
nlohmann::json npc_blocks_json(const std::vector<NpcBlock>& blocks);
// True for a number of seconds in 0..kMaxAgeSeconds.
bool is_age(const nlohmann::json& value);
// Where weft-npc's status is: "http://127.0.0.1:6781/status" -> target "127.0.0.1:6781"
// (common/http_client.hpp's form), path "/status". Only http:// with an IP address (or
// localhost) and a port; the path defaults to "/status".
struct NpcStatusUrl {
  std::string target;
  std::string path;

  friend bool operator==(const NpcStatusUrl&, const NpcStatusUrl&) = default;
};
Result<NpcStatusUrl> parse_npc_status_url(std::string_view url);

// `text` cut to at most kMaxTextBytes without splitting a UTF-8 character.
std::string bounded_text(std::string_view text);

}  // namespace weft::weftd
