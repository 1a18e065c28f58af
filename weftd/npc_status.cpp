#include "weftd/npc_status.hpp"

#include <cmath>

#include "common/http_client.hpp"
#include "common/http_parse.hpp"

namespace weft::weftd {
namespace {

using nlohmann::json;

// Nesting of weft-npc's /status is 3 levels; rejected objects add nothing deeper.
constexpr std::size_t kMaxDepth = 8;

Error missing(std::string_view key, std::string_view want) {
  return make_error(Errc::kMalformed, "weft-npc status: \"{}\" missing or not {}", key, want);
}

// The member `key` of object `j`, or null when `j` is no object or lacks it.
const json* member(const json& j, std::string_view key) {
  if (!j.is_object()) {
    return nullptr;
  }
  auto it = j.find(key);
  return it == j.end() ? nullptr : &*it;
}

Result<std::uint64_t> count(const json& j, std::string_view key, std::string_view path) {
  const json* v = member(j, key);
  if (v == nullptr || !v->is_number_unsigned()) {
    return missing(path, "a non-negative integer");
  }
  return v->get<std::uint64_t>();
}

Result<BlockedByProtocol> blocked_direction(const json& blocked, std::string_view direction) {
  const json* d = member(blocked, direction);
  if (d == nullptr || !d->is_object()) {
    return missing(fmt::format("blocked.{}", direction), "an object");
  }
  BlockedByProtocol out{};
  for (std::size_t i = 0; i < kBlockedProtocols.size(); ++i) {
    const std::string_view p = kBlockedProtocols[i];
    WEFT_TRY(out[i], count(*d, p, fmt::format("blocked.{}.{}", direction, p)));
  }
  return out;
}

Result<std::string> optional_text(const json& j, std::string_view key) {
  const json* v = member(j, key);
  if (v == nullptr) {
    return std::string();
  }
  if (!v->is_string()) {
    return missing(key, "a string");
  }
  return bounded_text(v->get_ref<const std::string&>());
}

json blocked_json(const BlockedByProtocol& blocked) {
  json out = json::object();
  for (std::size_t i = 0; i < kBlockedProtocols.size(); ++i) {
    out[std::string(kBlockedProtocols[i])] = blocked[i];
  }
  return out;
}

}  // namespace

bool is_age(const json& value) {
  if (!value.is_number()) {
    return false;
  }
  const double v = value.get<double>();
  return std::isfinite(v) && v >= 0 && v <= kMaxAgeSeconds;
}

std::string bounded_text(std::string_view text) {
  if (text.size() <= kMaxTextBytes) {
    return std::string(text);
  }
  std::size_t n = kMaxTextBytes;
  // Back up over continuation bytes (10xxxxxx) so that no character is split.
  while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0U) == 0x80U) {
    --n;
  }
  return std::string(text.substr(0, n));
}

Result<NpcCounts> npc_counts_from_json(const json& j) {
  if (!j.is_object()) {
    return make_error(Errc::kMalformed, "weft-npc status: not a JSON object");
  }
  NpcCounts c;
  const json* synced = member(j, "synced");
  if (synced == nullptr || !synced->is_boolean()) {
    return missing("synced", "a boolean");
  }
  c.synced = synced->get<bool>();
  WEFT_TRY(c.policies, count(j, "policies", "policies"));
  WEFT_TRY(c.local_pods, count(j, "local_pods", "local_pods"));
  const json* isolated = member(j, "isolated_pods");
  if (isolated == nullptr || !isolated->is_object()) {
    return missing("isolated_pods", "an object");
  }
  WEFT_TRY(c.isolated_ingress, count(*isolated, "ingress", "isolated_pods.ingress"));
  WEFT_TRY(c.isolated_egress, count(*isolated, "egress", "isolated_pods.egress"));
  const json* blocked = member(j, "blocked");
  if (blocked == nullptr || !blocked->is_object()) {
    return missing("blocked", "an object");
  }
  WEFT_TRY(c.blocked_ingress, blocked_direction(*blocked, "ingress"));
  WEFT_TRY(c.blocked_egress, blocked_direction(*blocked, "egress"));
  WEFT_TRY(c.last_error, optional_text(j, "last_error"));
  return c;
}

void add_npc_counts_json(json& out, const NpcCounts& c) {
  out["synced"] = c.synced;
  out["policies"] = c.policies;
  out["local_pods"] = c.local_pods;
  out["isolated_pods"] = {{"ingress", c.isolated_ingress}, {"egress", c.isolated_egress}};
  out["blocked"] = {{"ingress", blocked_json(c.blocked_ingress)},
                    {"egress", blocked_json(c.blocked_egress)}};
  if (!c.last_error.empty()) {
    out["last_error"] = c.last_error;
  }
}

Result<std::vector<NpcBlock>> npc_blocks_from_json(const json& j) {
  if (!j.is_array()) {
    return missing("recent_blocks", "an array");
  }
  std::vector<NpcBlock> out;
  for (const json& item : j) {
    if (out.size() == kMaxRecentBlocks) {
      break;  // newest first: the rest are older
    }
    const json* age = member(item, "age_seconds");
    if (age == nullptr || !is_age(*age)) {
      return missing("recent_blocks[].age_seconds", "a number of seconds");
    }
    const json* line = member(item, "line");
    if (line == nullptr || !line->is_string()) {
      return missing("recent_blocks[].line", "a string");
    }
    out.push_back({age->get<double>(), bounded_text(line->get_ref<const std::string&>())});
  }
  return out;
}

json npc_blocks_json(const std::vector<NpcBlock>& blocks) {
  json out = json::array();
  for (const NpcBlock& b : blocks) {
    out.push_back({{"age_seconds", b.age_seconds}, {"line", b.line}});
  }
  return out;
}

Result<NpcStatusUrl> parse_npc_status_url(std::string_view url) {
  constexpr std::string_view kScheme = "http://";
  if (!url.starts_with(kScheme)) {
    return make_error(Errc::kInvalidArgument, "\"{}\" is not an http:// URL", url);
  }
  const std::string_view rest = url.substr(kScheme.size());
  const auto slash = rest.find('/');
  NpcStatusUrl out;
  out.target = std::string(rest.substr(0, slash));
  out.path = slash == std::string_view::npos ? "/status" : std::string(rest.substr(slash));
  auto target = parse_http_target(out.target);
  if (!target || target->is_unix) {
    return make_error(Errc::kInvalidArgument, "\"{}\": {}", url,
                      target ? "want host:port" : target.error().message);
  }
  if (out.path.find_first_of(" \t\r\n#") != std::string::npos) {
    return make_error(Errc::kInvalidArgument, "\"{}\": bad path", url);
  }
  return out;
}

Result<NpcStatus> parse_npc_status(std::string_view body) {
  auto doc = parse_json_body(body, kMaxDepth, kMaxNpcStatusBytes);
  if (!doc) {
    return make_error(
        doc.error().code == make_error_code(Errc::kTooLarge) ? Errc::kTooLarge : Errc::kMalformed,
        "weft-npc status: {}", doc.error().message);
  }
  NpcStatus s;
  WEFT_TRY(s.counts, npc_counts_from_json(*doc));
  WEFT_TRY(s.node, optional_text(*doc, "node"));
  const json* recent = member(*doc, "recent_blocks");
  if (recent == nullptr) {
    return missing("recent_blocks", "an array");
  }
  WEFT_TRY(s.recent_blocks, npc_blocks_from_json(*recent));
  return s;
}

json npc_status_json(const NpcStatus& s) {
  json out = json::object();
  if (!s.node.empty()) {
    out["node"] = s.node;
  }
  add_npc_counts_json(out, s.counts);
  out["recent_blocks"] = npc_blocks_json(s.recent_blocks);
  return out;
}

}  // namespace weft::weftd
