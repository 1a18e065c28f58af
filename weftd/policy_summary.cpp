#include "weftd/policy_summary.hpp"

#include <chrono>
#include <numeric>

namespace weft::weftd {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

constexpr std::pair<NpcState, std::string_view> kStates[] = {
    {NpcState::kRunning, "running"},
    {NpcState::kNotRunning, "not running"},
    {NpcState::kBadAnswer, "bad answer"},
};

// Ages travel as seconds with millisecond precision (see the design note).
double age_seconds(Clock::TimePoint now, Clock::TimePoint then) {
  const auto ms = std::chrono::duration_cast<milliseconds>(now - then).count();
  return static_cast<double>(std::max<std::int64_t>(0, ms)) / 1000.0;
}

Clock::TimePoint before(Clock::TimePoint now, double seconds) {
  return now - milliseconds(std::llround(seconds * 1000.0));
}

std::uint64_t total(const BlockedByProtocol& blocked) {
  return std::accumulate(blocked.begin(), blocked.end(), std::uint64_t{0});
}

Error malformed(std::string_view what) {
  return make_error(Errc::kMalformed, "policy summary: {}", what);
}

}  // namespace

std::string_view to_string(NpcState state) {
  for (const auto& [s, text] : kStates) {
    if (s == state) {
      return text;
    }
  }
  return "unknown";
}

std::optional<NpcState> parse_npc_state(std::string_view text) {
  for (const auto& [s, name] : kStates) {
    if (name == text) {
      return s;
    }
  }
  return std::nullopt;
}

PolicySummary after_poll(PolicySummary previous, const Result<NpcStatus>& fetched,
                         Clock::TimePoint now) {
  PolicySummary out = std::move(previous);
  if (!fetched) {
    const auto& code = fetched.error().code;
    const bool absent =
        code == make_error_code(Errc::kUnavailable) || code == make_error_code(Errc::kTimeout);
    out.state = absent ? NpcState::kNotRunning : NpcState::kBadAnswer;
    out.error = bounded_text(fetched.error().message);
    return out;
  }
  out.state = NpcState::kRunning;
  out.error.clear();
  out.data_at = now;
  out.counts = fetched->counts;
  out.recent_blocks.clear();
  for (const NpcBlock& b : fetched->recent_blocks) {
    out.recent_blocks.push_back({before(now, b.age_seconds), b.line});
  }
  return out;
}

bool same_content(const PolicySummary& a, const PolicySummary& b) {
  if (a.state != b.state || a.error != b.error || a.data_at.has_value() != b.data_at.has_value() ||
      a.counts != b.counts || a.recent_blocks.size() != b.recent_blocks.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.recent_blocks.size(); ++i) {
    if (a.recent_blocks[i].line != b.recent_blocks[i].line) {
      return false;
    }
  }
  return true;
}

json policy_json(const PolicySummary& s, Clock::TimePoint now) {
  json out = {{"state", to_string(s.state)}};
  if (s.state != NpcState::kRunning) {
    out["error"] = s.error;
  }
  if (!s.data_at) {
    return out;
  }
  if (s.state != NpcState::kRunning) {
    out["data_age_seconds"] = age_seconds(now, *s.data_at);
  }
  add_npc_counts_json(out, s.counts);
  out["blocked_total"] = {{"ingress", total(s.counts.blocked_ingress)},
                          {"egress", total(s.counts.blocked_egress)}};
  std::vector<NpcBlock> blocks;
  blocks.reserve(s.recent_blocks.size());
  for (const PolicyBlock& b : s.recent_blocks) {
    blocks.push_back({age_seconds(now, b.when), b.line});
  }
  out["recent_blocks"] = npc_blocks_json(blocks);
  return out;
}

Result<PolicySummary> parse_policy_json(const json& j, Clock::TimePoint now) {
  if (!j.is_object()) {
    return malformed("not an object");
  }
  PolicySummary s;
  auto state = j.find("state");
  if (state == j.end() || !state->is_string() ||
      !parse_npc_state(state->get_ref<const std::string&>())) {
    return malformed("\"state\" missing or unknown");
  }
  s.state = *parse_npc_state(state->get_ref<const std::string&>());
  if (s.state != NpcState::kRunning) {
    auto error = j.find("error");
    if (error == j.end() || !error->is_string()) {
      return malformed("\"error\" missing or not a string");
    }
    s.error = bounded_text(error->get_ref<const std::string&>());
  }
  if (!j.contains("synced")) {
    return s;  // no data yet
  }
  s.data_at = now;
  if (s.state != NpcState::kRunning) {
    auto age = j.find("data_age_seconds");
    if (age == j.end() || !is_age(*age)) {
      return malformed("\"data_age_seconds\" missing or not a number of seconds");
    }
    s.data_at = before(now, age->get<double>());
  }
  WEFT_TRY(s.counts, npc_counts_from_json(j));
  auto recent = j.find("recent_blocks");
  if (recent == j.end()) {
    return malformed("\"recent_blocks\" missing");
  }
  WEFT_TRY(auto blocks, npc_blocks_from_json(*recent));
  for (const NpcBlock& b : blocks) {
    s.recent_blocks.push_back({before(now, b.age_seconds), b.line});
  }
  return s;
}

}  // namespace weft::weftd
