// PolicyChannel: every node's NetworkPolicy summary (policy_summary.hpp) as gossip channel 3,
// so that any node's status page shows the policy state of every node of the mesh.
//
// Design note (the CRDT, weaveworks/mesh style like the topology):
//  - Each peer owns one entry: (peer, uid, version, summary). Only the owner makes new
//    versions, and only when the summary's content changed (same_content: ages moving on
//    is no change), so a quiet node gossips nothing.
//  - Merge keeps, per peer, the greater entry in the total order (version, uid, content):
//    a per-key maximum, hence commutative, associative and idempotent. The owner's entry is
//    never replaced; a restarted owner (new uid, version 1) that hears of an entry of its
//    name with a version >= its own bumps its version above it (the topology's rule).
//  - Garbage collection (not part of the lattice, like the topology's): entries of peers
//    that left the topology, or of an earlier launch (another uid), are dropped at each
//    retain() — weftd calls it at every poll. Their return by gossip is dropped again.
//
// Wire format (payloads of router/gossip_codec.hpp messages on channel 3):
//   Update = JSON text {"entries": [{"peer": "aa:bb:cc:dd:ee:ff", "uid": u64,
//            "version": u64 (1..2^62), "summary": <policy_json at sending time>}]}
//            (informational, rarely sent, and parsed by the same bounded parser as
//            weft-npc's status; at most router::MessageConn::kMaxMessageSize bytes)
//   Digest = the topology's digest encoding (count:u32 Stamp{name version uid}) over the
//            entries, in name order.
// parse_policy_update takes untrusted bytes (fuzzed by tests/fuzz/policy_gossip_fuzz.cpp).
//
// Contract: control thread only. attach() before the router delivers anything; the clock
// and the sender outlive the channel's use.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <vector>

#include "common/clock.hpp"
#include "router/gossip.hpp"
#include "weftd/policy_summary.hpp"

namespace weft::weftd {

struct PolicyEntry {
  router::PeerName peer{};
  std::uint64_t uid = 0;
  std::uint64_t version = 0;
  PolicySummary summary;

  friend bool operator==(const PolicyEntry&, const PolicyEntry&) = default;
};

// The merge order: true when `a` supersedes `b` (same peer assumed). Total on entries.
bool supersedes(const PolicyEntry& a, const PolicyEntry& b);

std::vector<std::uint8_t> encode_policy_update(std::span<const PolicyEntry* const> entries,
                                               Clock::TimePoint now);
Result<std::vector<PolicyEntry>> parse_policy_update(std::span<const std::uint8_t> bytes,
                                                     Clock::TimePoint now);

class PolicyChannel final : public router::GossipChannel {
 public:
  PolicyChannel(router::PeerName self, std::uint64_t uid, const Clock& clock);

  void attach(router::GossipSender& sender) { sender_ = &sender; }

  // GossipChannel
  router::ChannelId channel_id() const override { return router::kPolicyChannel; }
  std::string_view channel_name() const override { return "policy"; }
  Result<bool> on_update(router::PeerName from, std::span<const std::uint8_t> update) override;
  std::vector<std::uint8_t> take_delta() override;
  std::vector<std::uint8_t> digest() const override;
  Result<router::DigestAnswer> on_digest(router::PeerName from,
                                         std::span<const std::uint8_t> digest) override;

  // Our own summary; a new version goes out when its content changed.
  void set_own(const PolicySummary& summary);
  // Keeps our entry and those for which `current(peer, uid)` holds (the peer is in the
  // topology with that uid).
  void retain(const std::function<bool(router::PeerName, std::uint64_t)>& current);

  const std::map<router::PeerName, PolicyEntry>& entries() const { return entries_; }

 private:
  // Merges one entry from a peer; true when it was new to us.
  bool merge(PolicyEntry entry);
  void publish_own();

  router::PeerName self_;
  std::uint64_t uid_;
  const Clock& clock_;
  router::GossipSender* sender_ = nullptr;
  std::map<router::PeerName, PolicyEntry> entries_;
  std::uint64_t own_version_ = 0;  // the version of our entry (or the floor before one)
  std::set<router::PeerName> pending_;
};

}  // namespace weft::weftd
