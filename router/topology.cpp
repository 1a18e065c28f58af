#include "router/topology.hpp"

#include <algorithm>
#include <tuple>
#include <utility>

#include <boost/assert.hpp>

#include "router/routes.hpp"

namespace weft::router {
namespace {

// Same established neighbours (both lists sorted by name).
bool same_edges(const PeerRecord& a, const PeerRecord& b) {
  auto ia = a.connections.begin();
  auto ib = b.connections.begin();
  for (;;) {
    while (ia != a.connections.end() && !ia->established) {
      ++ia;
    }
    while (ib != b.connections.end() && !ib->established) {
      ++ib;
    }
    if (ia == a.connections.end() || ib == b.connections.end()) {
      return ia == a.connections.end() && ib == b.connections.end();
    }
    if (ia->name != ib->name) {
      return false;
    }
    ++ia;
    ++ib;
  }
}

}  // namespace

bool PeerRecord::lists_established(PeerName peer) const {
  auto it = std::lower_bound(connections.begin(), connections.end(), peer,
                             [](const ConnectionRecord& c, PeerName n) { return c.name < n; });
  return it != connections.end() && it->name == peer && it->established;
}

bool supersedes(const PeerRecord& a, const PeerRecord& b) {
  if (a.version != b.version) {
    return a.version > b.version;
  }
  if (a.uid != b.uid) {
    return a.uid > b.uid;
  }
  // Same stamp, different content: only a misbehaving owner does this. Any fixed total
  // order keeps the merge a lattice join.
  const auto c = std::tie(a.nickname, a.connections) <=> std::tie(b.nickname, b.connections);
  return c > 0;
}

bool stamp_newer(const RecordStamp& a, const RecordStamp& b) {
  return std::tie(a.version, a.uid) > std::tie(b.version, b.uid);
}

bool merge_record(RecordMap& map, const PeerRecord& record) {
  auto [it, inserted] = map.try_emplace(record.name, record);
  if (inserted) {
    return true;
  }
  if (supersedes(record, it->second)) {
    it->second = record;
    return true;
  }
  return false;
}

RecordMap merge_maps(RecordMap a, const RecordMap& b) {
  for (const auto& [name, record] : b) {
    merge_record(a, record);
  }
  return a;
}

void normalize_connections(PeerName owner, std::vector<ConnectionRecord>& connections) {
  std::erase_if(connections, [owner](const ConnectionRecord& c) { return c.name == owner; });
  // Greatest entry first within a name, then keep the first of each name.
  std::sort(connections.begin(), connections.end(),
            [](const ConnectionRecord& a, const ConnectionRecord& b) {
              if (a.name != b.name) {
                return a.name < b.name;
              }
              return a > b;
            });
  auto last = std::unique(connections.begin(), connections.end(),
                          [](const ConnectionRecord& a, const ConnectionRecord& b) {
                            return a.name == b.name;
                          });
  connections.erase(last, connections.end());
}

bool symmetric_edge(const RecordMap& records, PeerName a, PeerName b) {
  auto ia = records.find(a);
  auto ib = records.find(b);
  return ia != records.end() && ib != records.end() && ia->second.lists_established(b) &&
         ib->second.lists_established(a);
}

Topology::Topology(PeerRecord self) : self_name_(self.name) {
  BOOST_ASSERT(!self.name.empty());
  if (self.version == 0) {
    self.version = 1;
  }
  normalize_connections(self.name, self.connections);
  records_.emplace(self.name, std::move(self));
}

const PeerRecord* Topology::find(PeerName name) const {
  auto it = records_.find(name);
  return it == records_.end() ? nullptr : &it->second;
}

bool Topology::set_own_connections(std::vector<ConnectionRecord> connections) {
  normalize_connections(self_name_, connections);
  PeerRecord& own = records_.at(self_name_);
  if (own.connections == connections) {
    return false;
  }
  PeerRecord before = own;
  own.connections = std::move(connections);
  ++own.version;
  ++generation_;
  if (!same_edges(before, own)) {
    ++graph_generation_;
  }
  return true;
}

Topology::MergeResult Topology::merge(std::span<const PeerRecord> incoming) {
  MergeResult result;
  for (const PeerRecord& r : incoming) {
    if (r.name.empty()) {
      continue;
    }
    if (r.name == self_name_) {
      PeerRecord& own = records_.at(self_name_);
      // An older incarnation of us (or a stale copy) that would win or tie: move above it so
      // that our current record supersedes it everywhere.
      if (r != own && r.version >= own.version) {
        own.version = r.version + 1;
        ++generation_;
        if (!result.self_bumped) {
          result.changed.push_back(self_name_);
        }
        result.self_bumped = true;
      }
      continue;
    }
    auto it = records_.find(r.name);
    if (it == records_.end()) {
      records_.emplace(r.name, r);
      ++graph_generation_;
    } else if (supersedes(r, it->second)) {
      if (!same_edges(r, it->second)) {
        ++graph_generation_;
      }
      it->second = r;
    } else {
      continue;
    }
    ++generation_;
    result.changed.push_back(r.name);
  }
  // A name may change twice in one batch; report it once.
  std::sort(result.changed.begin(), result.changed.end());
  result.changed.erase(std::unique(result.changed.begin(), result.changed.end()),
                       result.changed.end());
  return result;
}

std::vector<PeerName> Topology::garbage_collect() {
  return drop_unreachable(Routes(*this, self_name_));
}

std::vector<PeerName> Topology::drop_unreachable(const Routes& routes) {
  BOOST_ASSERT_MSG(routes.peer_count() == records_.size(), "routes of another topology");
  std::vector<PeerName> dropped;
  std::size_t index = 0;
  for (auto it = records_.begin(); it != records_.end(); ++index) {
    if (it->first == self_name_ || routes.reachable_at(index)) {
      ++it;
    } else {
      dropped.push_back(it->first);
      it = records_.erase(it);
    }
  }
  if (!dropped.empty()) {
    ++generation_;
    ++graph_generation_;
  }
  return dropped;
}

std::vector<RecordStamp> Topology::digest() const {
  std::vector<RecordStamp> out;
  out.reserve(records_.size());
  for (const auto& [name, r] : records_) {
    out.push_back({name, r.version, r.uid});
  }
  return out;
}

std::size_t Topology::memory_bytes() const {
  // A std::map node holds the value plus three pointers and a colour.
  constexpr std::size_t kNodeOverhead = 4 * sizeof(void*);
  std::size_t total = 0;
  for (const auto& [name, r] : records_) {
    total += sizeof(name) + sizeof(r) + kNodeOverhead;
    total += r.nickname.capacity() > 15 ? r.nickname.capacity() + 1 : 0;
    total += r.connections.capacity() * sizeof(ConnectionRecord);
    for (const auto& c : r.connections) {
      total += c.address.capacity() > 15 ? c.address.capacity() + 1 : 0;
    }
  }
  return total;
}

}  // namespace weft::router
