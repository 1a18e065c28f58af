// Topology: the replicated map of who is connected to whom (gossip channel 1).
//
// Design note (the CRDT and its merge rule):
//  - Each peer owns exactly one PeerRecord (its nickname, per-launch uid, a version and the
//    list of its connections). Only the owner creates new versions of its record.
//  - The replicated state is a map name -> record. Merging two maps keeps, per name, the
//    greater record in a total order: (version, uid, content). Taking a per-key maximum in a
//    total order is a join semilattice, so merge is commutative, associative and idempotent
//    (tests/unit/router/topology_test.cpp checks this on random record sets). The content
//    tie-break only matters when one (name, version, uid) carried two different contents,
//    which a correct owner never produces; it keeps the rule sound anyway. The gossip layer
//    relies on that: digests and update filtering compare stamps (name, version, uid) only.
//  - A restarted peer (same name, new uid) starts at version 1 and would lose against its old
//    record. Weave's rule fixes this: when a peer hears of its own name in a record that is
//    not its current one with a version >= its own, it bumps its version above it. The
//    owner's record is never replaced by a merge.
//  - Garbage collection: records of peers no longer reachable from us are dropped.
//    Reachability for GC follows every connection a reachable record lists (Weave's rule),
//    not only symmetric established ones as routes do: when a connection comes up, one end
//    publishes it before the other, and the peers behind it must not be dropped meanwhile.
//    GC is not part of the lattice (a dropped record may come back by gossip and is dropped
//    again while unreachable); the router runs it before forwarding anything.
//
// Contract: single-threaded (the router's control thread).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "router/peer_name.hpp"

namespace weft::router {

struct EdgeDiff;

// One connection as its owner reports it.
struct ConnectionRecord {
  PeerName name{};           // the peer at the other end
  std::string address{};     // where that peer accepts connections, "host:port" ("[v6]:port")
  bool outbound = false;     // the owner dialled it
  bool established = false;  // the owner heard from the peer over it

  bool operator==(const ConnectionRecord&) const = default;
  auto operator<=>(const ConnectionRecord&) const = default;
};

struct PeerRecord {
  PeerName name{};
  std::string nickname{};
  std::uint64_t uid = 0;
  std::uint64_t version = 0;
  std::vector<ConnectionRecord> connections{};  // sorted by name, unique, never `name` itself
  std::vector<std::uint8_t> datapath{};         // what it offers the data plane (datapath_info.hpp)

  bool operator==(const PeerRecord&) const = default;
  // Lists `peer` as an established connection (binary search).
  bool lists_established(PeerName peer) const;
};

// The merge order: true when `a` supersedes `b` (same name assumed). Total on records.
bool supersedes(const PeerRecord& a, const PeerRecord& b);

// Version stamp of one record, what anti-entropy digests carry.
struct RecordStamp {
  PeerName name{};
  std::uint64_t version = 0;
  std::uint64_t uid = 0;

  bool operator==(const RecordStamp&) const = default;
};
// Orders stamps like supersedes() orders records (content aside).
bool stamp_newer(const RecordStamp& a, const RecordStamp& b);

// The stamps of a map name -> value with `version` and `uid` (a record, a channel's entry),
// in the map's name order: what a digest lists.
template <class Map>
std::vector<RecordStamp> stamps_of(const Map& map) {
  std::vector<RecordStamp> out;
  out.reserve(map.size());
  for (const auto& [name, value] : map) {
    out.push_back({name, value.version, value.uid});
  }
  return out;
}

// Anti-entropy: our stamps against a neighbour's digest, both in strictly increasing name
// order (the gossip channels that key their state by peer share this walk).
struct DigestDiff {
  std::vector<std::size_t> newer;  // indexes into `ours` the neighbour lacks or has older
  bool peer_has_newer = false;     // the neighbour has a newer stamp or a name we lack
};
DigestDiff diff_digests(std::span<const RecordStamp> ours, std::span<const RecordStamp> theirs);

using RecordMap = std::map<PeerName, PeerRecord>;

// The pure lattice join: merges `record` into `map`; true when `map` changed.
bool merge_record(RecordMap& map, const PeerRecord& record);
RecordMap merge_maps(RecordMap a, const RecordMap& b);

class Topology {
 public:
  // `self` is our own record at version >= 1.
  explicit Topology(PeerRecord self);
  // Movable, not copyable (an index points into the map).
  Topology(const Topology&) = delete;
  Topology& operator=(const Topology&) = delete;
  Topology(Topology&&) = default;
  Topology& operator=(Topology&&) = default;

  PeerName self_name() const { return self_name_; }
  const PeerRecord& self() const { return records_.at(self_name_); }
  const RecordMap& records() const { return records_; }
  const PeerRecord* find(PeerName name) const;
  std::size_t size() const { return records_.size(); }
  // Increases on every change.
  std::uint64_t generation() const { return generation_; }
  // Increases when the graph may have changed: a peer added or removed, or a record's set of
  // established connections changed (routes depend on nothing else).
  std::uint64_t graph_generation() const { return graph_generation_; }
  // Increases when a peer may have become unreachable (a listed connection or a record went
  // away) or a peer nobody lists appeared; only then is garbage collection needed.
  std::uint64_t reachability_generation() const { return reachability_generation_; }

  // Replaces our connections (sorted here); bumps our version when they changed.
  bool set_own_connections(std::vector<ConnectionRecord> connections);
  // Replaces our datapath offer; bumps our version when it changed.
  bool set_own_datapath(std::vector<std::uint8_t> datapath);

  struct MergeResult {
    std::vector<PeerName> changed;  // records that are new to us (ours too when bumped)
    bool self_bumped = false;
  };
  // Merges records received from a peer. Records naming us never replace ours; a foreign
  // record of our name with version >= ours bumps our version above it.
  MergeResult merge(std::span<const PeerRecord> incoming);

  // Drops every record not reachable from us, following the connections each reachable
  // record lists (in either state); returns the dropped names.
  std::vector<PeerName> garbage_collect();

  std::vector<RecordStamp> digest() const;
  // Approximate heap bytes held by the records (for the benchmark's memory column).
  std::size_t memory_bytes() const;

 private:
  PeerName self_name_;
  RecordMap records_;
  std::unordered_map<PeerName, const PeerRecord*> index_;  // O(1) find(); map nodes are stable
  std::unordered_map<PeerName, int> listed_;               // how many records list each name
  std::uint64_t generation_ = 1;
  std::uint64_t graph_generation_ = 1;
  std::uint64_t reachability_generation_ = 1;

  void note_change(const EdgeDiff& diff);
  void count_listings(const PeerRecord& record, int delta);
};

// True when `a` and `b` list each other as established (missing records: false).
bool symmetric_edge(const RecordMap& records, PeerName a, PeerName b);

// Connection records are kept sorted by name; this sorts and drops duplicates (keeping the
// greatest entry per name) and entries naming `owner`.
void normalize_connections(PeerName owner, std::vector<ConnectionRecord>& connections);

}  // namespace weft::router
