// Ring: the CRDT that says which peer owns which part of one address family's allocation
// range. One Ring per family.
//
// Design note (model):
//  - The range [first, last] is cut at tokens; the entry at token t owns [t, next token - 1]
//    (the last entry runs to the end of the range; the first token is always the range
//    start, so there is no wrap-around). An entry holds (owner, version, free hint, flags).
//  - Tokens are never removed. Only the owner of an entry changes it: a donation splits the
//    owner's entry (new tokens) and hands a part to another peer with a higher version; free
//    counts are hints bumped by the owner. Merge is a per-token "larger wins" under a total
//    order on entries: higher version, then lower owner id, then larger free, then fewer
//    flags. A max under a total order per key is commutative, associative and idempotent.
//  - Identity: a bootstrapped ring has a non-zero id, a hash of the range and of the sorted
//    peers it was seeded with, so peers that seed from the same list compute the same ring.
//    An empty ring (id 0) adopts whatever it merges. Two non-empty rings with different ids
//    (two groups that bootstrapped apart) or different ranges never merge: merge() returns
//    kConflict, changes nothing, and each side keeps serving the addresses it owns.
//
// Design note (reclaim, `rmpeer`): when peer D is gone, a claimant C rewrites each of D's
// entries to (owner C, version v+1, flag kClaimed), v being D's last version. D never writes
// again, so two concurrent claimants X and Y that saw D's last state write the same version
// and the tie goes to the lower peer id; if one saw an older version of D's entry the newer
// one wins. Either way every peer converges to exactly one owner per entry. To make sure that
// the losing claimant never hands out an address from an entry it then loses, a claimed
// entry is QUARANTINED at its claimant: it is owned but not allocatable, not donatable and
// its free hint is not updated (a version bump would beat the other claim) until the
// claimant settles it (settle(): clears the flag, bumps the version) after a settle delay
// (Allocator config, 10 s by default) during which it stayed the owner. A competing claim
// made while the two claimants can hear each other reaches the loser within a few gossip
// rounds, long before the delay ends, so the loser drops the entry having allocated nothing
// in it. Limit: claimants partitioned from each other for the whole delay both settle; the
// later merge then gives the entry to the settle with the higher version (one owner again)
// and the loser reports the addresses it handed out there (Allocator::stray()). rmpeer also
// assumes D's last ring state has reached the claimant (run it on a converged mesh).
//
// Contract: a plain value (copyable); not thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "common/address.hpp"
#include "common/result.hpp"
#include "ipam/space.hpp"
#include "ipam/types.hpp"

namespace weft::ipam {

struct Entry {
  static constexpr std::uint8_t kClaimed = 1;  // reclaimed from a dead peer, not settled

  PeerId owner = kNoPeer;
  std::uint64_t version = 0;
  std::uint64_t free = 0;  // hint: free addresses in the entry, saturating
  std::uint8_t flags = 0;
  bool operator==(const Entry&) const = default;
};

// True when `a` replaces `b` in a merge (the total order of the design note).
bool entry_wins(const Entry& a, const Entry& b);

class Ring {
 public:
  static constexpr std::size_t kMaxEntries = 65536;

  // An empty ring over 0.0.0.0/32 (a placeholder).
  Ring() = default;
  // An empty (not yet bootstrapped) ring over `range`.
  explicit Ring(AddressRange range) : range_(range) {}
  // The ring that `peers` (any order, duplicates ignored, none kNoPeer) seed: the range cut
  // into equal parts, one per peer in id order.
  static Result<Ring> seeded(AddressRange range, std::vector<PeerId> peers);
  // From decoded parts; checks every invariant (kMalformed).
  static Result<Ring> from_parts(AddressRange range, std::uint64_t id,
                                 std::map<U128, Entry> entries);

  const AddressRange& range() const { return range_; }
  IpFamily family() const { return range_.family(); }
  std::uint64_t id() const { return id_; }
  bool empty() const { return entries_.empty(); }
  const std::map<U128, Entry>& entries() const { return entries_; }
  bool operator==(const Ring&) const = default;

  // Merges `other` into this ring; true when something changed. kConflict (nothing changes)
  // when both are bootstrapped with different ids, or the ranges differ.
  Result<bool> merge(const Ring& other);

  // The values [token, end] an entry covers.
  Run span_of(U128 token) const;
  // The entry that contains `value` (nullopt outside the range or when empty).
  std::optional<std::pair<U128, Entry>> entry_at(U128 value) const;
  PeerId owner_of(U128 value) const;
  // The runs `peer` owns, joined where adjacent; with `settled_only`, without kClaimed ones.
  std::vector<Run> owned_by(PeerId peer, bool settled_only = false) const;
  // Addresses owned per peer (saturating).
  std::map<PeerId, U128> ownership() const;
  // Peers owning something, with the sum of their free hints.
  std::map<PeerId, std::uint64_t> free_hints() const;

  // --- changes by an owner (kConflict when `self` does not own what it changes) ---
  // Hands `run` (inside one settled entry of `self`) to `to`.
  Result<void> donate(PeerId self, Run run, PeerId to);
  // Updates the free hint of each settled entry of `self` from `space`; true if any changed.
  bool update_free(PeerId self, const Space& space);
  // rmpeer: takes every entry of `dead` as claimed by `claimant`; returns their tokens
  // (kNotFound when `dead` owns nothing, kInvalidArgument when dead == claimant).
  Result<std::vector<U128>> reclaim(PeerId claimant, PeerId dead);
  // Ends the quarantine of a claimed entry `self` still owns; false when it lost it.
  bool settle(PeerId self, U128 token);

 private:
  AddressRange range_;
  std::uint64_t id_ = 0;
  std::map<U128, Entry> entries_;
};

// 64-bit FNV-1a over the ring's encoding: equal rings have equal hashes (for digests).
std::uint64_t ring_hash(const Ring& ring);

}  // namespace weft::ipam
