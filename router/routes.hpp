// Routes: unicast next hops and broadcast trees computed from a Topology.
//
// Design note: the graph has an edge between two peers only when both list each other as
// established (a half-open or one-sided connection carries nothing). Unicast: breadth-first
// search from us; the next hop to D is our neighbour on a shortest path, so with a
// consistent topology each hop gets strictly closer and routes are loop-free whatever the
// tie-break. Broadcast from source S: every peer runs the same breadth-first search from S,
// visiting neighbours in ascending name order, and forwards to the neighbours whose BFS
// parent it is. With the same topology everywhere this is one spanning tree per source, so
// every reachable peer receives a broadcast exactly once (Weave's per-source trees).
// Broadcast trees are computed lazily per source and cached until the next recompute.
//
// Contract: a Routes value is immutable except for its broadcast cache; single-threaded.
#pragma once

#include <cstdint>
#include <optional>
#include <unordered_map>
#include <vector>

#include "router/peer_name.hpp"
#include "router/topology.hpp"

namespace weft::router {

class Routes {
 public:
  Routes() = default;
  // Computes routes for `self` over `topology`.
  Routes(const Topology& topology, PeerName self);

  PeerName self() const { return self_; }
  // The neighbour to hand a message for `dest` to; nullopt when `dest` is us or unreachable.
  std::optional<PeerName> next_hop(PeerName dest) const;
  // Hops from us to `dest`; nullopt when unreachable.
  std::optional<int> distance(PeerName dest) const;
  bool reachable(PeerName dest) const { return distance(dest).has_value(); }
  // Every peer reachable from us, us included, sorted by name.
  std::vector<PeerName> reachable_peers() const;
  // Our direct neighbours (symmetric established connections), sorted.
  const std::vector<PeerName>& neighbours() const;
  // The neighbours we forward a broadcast originated by `source` to (empty when `source` is
  // unknown). Cached per source.
  const std::vector<PeerName>& broadcast_next_hops(PeerName source) const;

  std::size_t peer_count() const { return names_.size(); }

 private:
  // Breadth-first search from node `root`; parent[i] = BFS parent (-1 for root/unreached).
  // Returns the nodes in visiting order.
  std::vector<int> bfs(int root, std::vector<int>& dist, std::vector<int>& parent) const;
  int index_of(PeerName name) const;

  PeerName self_;
  int self_index_ = -1;
  std::vector<PeerName> names_;  // sorted: index -> name (binary search back)
  std::vector<int> offset_;      // node i's edges: edges_[offset_[i]..offset_[i+1])
  std::vector<int> edges_;       // symmetric edges, ascending per node
  std::vector<int> dist_;        // from us
  std::vector<int> first_hop_;   // index of our neighbour, -1 if none
  std::vector<PeerName> neighbours_;
  mutable std::unordered_map<int, std::vector<PeerName>> broadcast_cache_;
};

}  // namespace weft::router
