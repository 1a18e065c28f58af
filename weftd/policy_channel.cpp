#include "weftd/policy_channel.hpp"

#include <tuple>

#include "common/http_parse.hpp"
#include "router/gossip_codec.hpp"
#include "router/message_conn.hpp"

namespace weft::weftd {
namespace {

using nlohmann::json;
using router::PeerName;
using router::RecordStamp;

// Like the topology's: versions stay far from overflowing when bumped.
constexpr std::uint64_t kMaxVersion = std::uint64_t{1} << 62;
// {"entries": [{"summary": {"blocked": {"ingress": {...}}}}]}: 6 levels.
constexpr std::size_t kMaxDepth = 8;

Error malformed(std::string_view what) {
  return make_error(Errc::kMalformed, "policy gossip: {}", what);
}

// A summary's content as text, times left out: the last tie-break of the merge order.
std::string content_text(PolicySummary s) {
  if (s.data_at) {
    s.data_at = Clock::TimePoint{};
  }
  for (PolicyBlock& b : s.recent_blocks) {
    b.when = Clock::TimePoint{};
  }
  return policy_json(s, Clock::TimePoint{}).dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<std::uint64_t> wire_u64(const json& entry, std::string_view key) {
  auto it = entry.find(key);
  if (it == entry.end() || !it->is_number_unsigned()) {
    return malformed(fmt::format("entry \"{}\" missing or not a non-negative integer", key));
  }
  return it->get<std::uint64_t>();
}

Result<PolicyEntry> parse_entry(const json& item, Clock::TimePoint now) {
  if (!item.is_object()) {
    return malformed("an entry is not an object");
  }
  PolicyEntry e;
  auto peer = item.find("peer");
  if (peer == item.end() || !peer->is_string()) {
    return malformed("entry \"peer\" missing or not a string");
  }
  WEFT_TRY(e.peer, router::parse_peer_name(peer->get_ref<const std::string&>()));
  if (e.peer.empty()) {
    return malformed("entry names peer 00:00:00:00:00:00");
  }
  WEFT_TRY(e.uid, wire_u64(item, "uid"));
  WEFT_TRY(e.version, wire_u64(item, "version"));
  if (e.version == 0 || e.version > kMaxVersion) {
    return malformed("entry version out of range");
  }
  auto summary = item.find("summary");
  if (summary == item.end()) {
    return malformed("entry \"summary\" missing");
  }
  WEFT_TRY(e.summary, parse_policy_json(*summary, now));
  return e;
}

}  // namespace

bool supersedes(const PolicyEntry& a, const PolicyEntry& b) {
  if (std::tie(a.version, a.uid) != std::tie(b.version, b.uid)) {
    return std::tie(a.version, a.uid) > std::tie(b.version, b.uid);
  }
  // Same stamp, different content: only a misbehaving owner does this. Any fixed total
  // order keeps the merge a lattice join.
  return !same_content(a.summary, b.summary) && content_text(a.summary) > content_text(b.summary);
}

std::vector<std::uint8_t> encode_policy_update(std::span<const PolicyEntry* const> entries,
                                               Clock::TimePoint now) {
  json list = json::array();
  for (const PolicyEntry* e : entries) {
    list.push_back({{"peer", e->peer.to_string()},
                    {"uid", e->uid},
                    {"version", e->version},
                    {"summary", policy_json(e->summary, now)}});
  }
  const std::string text =
      json{{"entries", list}}.dump(-1, ' ', false, json::error_handler_t::replace);
  return {text.begin(), text.end()};
}

Result<std::vector<PolicyEntry>> parse_policy_update(std::span<const std::uint8_t> bytes,
                                                     Clock::TimePoint now) {
  const std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  auto doc = parse_json_body(text, kMaxDepth, router::MessageConn::kMaxMessageSize);
  if (!doc) {
    return malformed(doc.error().message);
  }
  auto list = doc->is_object() ? doc->find("entries") : doc->end();
  if (!doc->is_object() || list == doc->end() || !list->is_array()) {
    return malformed("want {\"entries\": [...]}");
  }
  std::vector<PolicyEntry> out;
  out.reserve(list->size());
  for (const json& item : *list) {
    WEFT_TRY(auto e, parse_entry(item, now));
    out.push_back(std::move(e));
  }
  return out;
}

PolicyChannel::PolicyChannel(PeerName self, std::uint64_t uid, const Clock& clock)
    : self_(self), uid_(uid), clock_(clock) {}

Result<bool> PolicyChannel::on_update(PeerName from, std::span<const std::uint8_t> update) {
  (void)from;
  WEFT_TRY(auto entries, parse_policy_update(update, clock_.now()));
  bool changed = false;
  for (PolicyEntry& e : entries) {
    changed = merge(std::move(e)) || changed;
  }
  return changed;
}

bool PolicyChannel::merge(PolicyEntry entry) {
  if (entry.peer == self_) {
    // Ours is never replaced. An entry of our name that is not ours, at our version or
    // above (an earlier launch's), makes us publish above it.
    auto own = entries_.find(self_);
    const bool is_ours = own != entries_.end() && own->second.uid == entry.uid &&
                         own->second.version == entry.version;
    if (is_ours || entry.version < own_version_) {
      return false;
    }
    own_version_ = entry.version + 1;
    if (own != entries_.end()) {
      own->second.version = own_version_;
      publish_own();
      return true;
    }
    return false;
  }
  auto it = entries_.find(entry.peer);
  if (it != entries_.end() && !supersedes(entry, it->second)) {
    return false;
  }
  const PeerName peer = entry.peer;
  entries_.insert_or_assign(peer, std::move(entry));
  pending_.insert(peer);
  return true;
}

void PolicyChannel::publish_own() {
  pending_.insert(self_);
  if (sender_ != nullptr) {
    sender_->changed(channel_id());
  }
}

void PolicyChannel::set_own(const PolicySummary& summary) {
  auto own = entries_.find(self_);
  if (own != entries_.end()) {
    const bool changed = !same_content(own->second.summary, summary);
    own->second.summary = summary;  // the times move on in any case
    if (!changed) {
      return;
    }
    own->second.version = ++own_version_;
  } else {
    entries_.emplace(self_, PolicyEntry{self_, uid_, ++own_version_, summary});
  }
  publish_own();
}

void PolicyChannel::retain(const std::function<bool(PeerName, std::uint64_t)>& current) {
  std::erase_if(entries_, [&](const auto& item) {
    return item.first != self_ && !current(item.first, item.second.uid);
  });
  std::erase_if(pending_, [&](PeerName p) { return !entries_.contains(p); });
}

std::vector<std::uint8_t> PolicyChannel::take_delta() {
  std::vector<const PolicyEntry*> out;
  for (PeerName p : pending_) {
    if (auto it = entries_.find(p); it != entries_.end()) {
      out.push_back(&it->second);
    }
  }
  pending_.clear();
  if (out.empty()) {
    return {};
  }
  return encode_policy_update(out, clock_.now());
}

std::vector<std::uint8_t> PolicyChannel::digest() const {
  return router::encode_topology_digest(router::stamps_of(entries_));
}

Result<router::DigestAnswer> PolicyChannel::on_digest(PeerName from,
                                                      std::span<const std::uint8_t> digest) {
  (void)from;
  WEFT_TRY(auto theirs, router::parse_topology_digest(digest));
  const std::vector<RecordStamp> ours = router::stamps_of(entries_);
  const router::DigestDiff diff = router::diff_digests(ours, theirs);
  router::DigestAnswer answer;
  answer.peer_has_newer = diff.peer_has_newer;
  if (!diff.newer.empty()) {
    std::vector<const PolicyEntry*> newer;
    newer.reserve(diff.newer.size());
    for (const std::size_t i : diff.newer) {
      newer.push_back(&entries_.at(ours[i].name));
    }
    answer.update = encode_policy_update(newer, clock_.now());
  }
  return answer;
}

}  // namespace weft::weftd
