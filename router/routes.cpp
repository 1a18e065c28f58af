#include "router/routes.hpp"

#include <algorithm>

namespace weft::router {
namespace {

const std::vector<PeerName> kNone;

}  // namespace

Routes::Routes(const Topology& topology, PeerName self) : self_(self) {
  const RecordMap& records = topology.records();
  const std::size_t n = records.size();
  names_.reserve(n);
  std::vector<const PeerRecord*> by_index;
  by_index.reserve(n);
  for (const auto& [name, r] : records) {
    names_.push_back(name);  // std::map iterates in ascending name order
    by_index.push_back(&r);
  }
  // Directed established edges in compressed rows; connections are sorted by name, so each
  // row comes out ascending.
  std::vector<int> out_offset(n + 1, 0);
  std::vector<int> out;
  for (std::size_t i = 0; i < n; ++i) {
    for (const ConnectionRecord& c : by_index[i]->connections) {
      if (c.established) {
        if (const int j = index_of(c.name); j >= 0) {
          out.push_back(j);
        }
      }
    }
    out_offset[i + 1] = static_cast<int>(out.size());
  }
  // Keep the edges listed at both ends.
  offset_.assign(n + 1, 0);
  edges_.reserve(out.size());
  for (std::size_t i = 0; i < n; ++i) {
    for (int k = out_offset[i]; k < out_offset[i + 1]; ++k) {
      const int j = out[k];
      const auto* first = out.data() + out_offset[j];
      const auto* last = out.data() + out_offset[j + 1];
      if (std::binary_search(first, last, static_cast<int>(i))) {
        edges_.push_back(j);
      }
    }
    offset_[i + 1] = static_cast<int>(edges_.size());
  }
  self_index_ = index_of(self);
  dist_.assign(n, -1);
  first_hop_.assign(n, -1);
  if (self_index_ < 0) {
    return;
  }
  std::vector<int> parent;
  const std::vector<int> order = bfs(self_index_, dist_, parent);
  // BFS order visits parents before children: a child of ours is its own first hop.
  for (int v : order) {
    if (v != self_index_) {
      first_hop_[v] = parent[v] == self_index_ ? v : first_hop_[parent[v]];
    }
  }
  for (int k = offset_[self_index_]; k < offset_[self_index_ + 1]; ++k) {
    neighbours_.push_back(names_[edges_[k]]);
  }
}

std::vector<int> Routes::bfs(int root, std::vector<int>& dist, std::vector<int>& parent) const {
  dist.assign(names_.size(), -1);
  parent.assign(names_.size(), -1);
  std::vector<int> queue;
  queue.reserve(names_.size());
  queue.push_back(root);
  dist[root] = 0;
  for (std::size_t head = 0; head < queue.size(); ++head) {
    const int u = queue[head];
    for (int k = offset_[u]; k < offset_[u + 1]; ++k) {
      const int v = edges_[k];
      if (dist[v] < 0) {
        dist[v] = dist[u] + 1;
        parent[v] = u;
        queue.push_back(v);
      }
    }
  }
  return queue;
}

int Routes::index_of(PeerName name) const {
  auto it = std::lower_bound(names_.begin(), names_.end(), name);
  return it == names_.end() || *it != name ? -1 : static_cast<int>(it - names_.begin());
}

std::optional<PeerName> Routes::next_hop(PeerName dest) const {
  const int d = index_of(dest);
  if (d < 0 || first_hop_[d] < 0) {
    return std::nullopt;
  }
  return names_[first_hop_[d]];
}

std::optional<int> Routes::distance(PeerName dest) const {
  const int d = index_of(dest);
  if (d < 0 || dist_[d] < 0) {
    return std::nullopt;
  }
  return dist_[d];
}

std::vector<PeerName> Routes::reachable_peers() const {
  std::vector<PeerName> out;
  for (int v = 0; v < static_cast<int>(names_.size()); ++v) {
    if (dist_[v] >= 0) {
      out.push_back(names_[v]);
    }
  }
  return out;
}

const std::vector<PeerName>& Routes::neighbours() const {
  return neighbours_;
}

const std::vector<PeerName>& Routes::broadcast_next_hops(PeerName source) const {
  const int s = index_of(source);
  if (s < 0 || self_index_ < 0) {
    return kNone;
  }
  auto it = broadcast_cache_.find(s);
  if (it != broadcast_cache_.end()) {
    return it->second;
  }
  std::vector<int> dist;
  std::vector<int> parent;
  bfs(s, dist, parent);
  std::vector<PeerName> hops;
  for (int k = offset_[self_index_]; k < offset_[self_index_ + 1]; ++k) {
    const int v = edges_[k];
    if (parent[v] == self_index_) {
      hops.push_back(names_[v]);
    }
  }
  return broadcast_cache_.emplace(s, std::move(hops)).first->second;
}

}  // namespace weft::router
