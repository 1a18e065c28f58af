#include "router/topology.hpp"

#include <algorithm>
#include <tuple>
#include <unordered_set>
#include <utility>

#include <boost/assert.hpp>

namespace weft::router {

struct EdgeDiff {
  bool changed = false;  // the established neighbours differ (routes)
  bool lost = false;     // a peer listed before is not listed after (reachability)
};

namespace {

// Compares two versions of a record's connections (both sorted by name).
EdgeDiff diff_edges(const std::vector<ConnectionRecord>& before,
                    const std::vector<ConnectionRecord>& after) {
  EdgeDiff d;
  auto a = before.begin();
  auto b = after.begin();
  while (a != before.end() || b != after.end()) {
    if (b == after.end() || (a != before.end() && a->name < b->name)) {
      d.lost = true;
      d.changed = d.changed || a->established;
      ++a;
    } else if (a == before.end() || b->name < a->name) {
      d.changed = d.changed || b->established;
      ++b;
    } else {
      d.changed = d.changed || a->established != b->established;
      ++a;
      ++b;
    }
  }
  return d;
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

DigestDiff diff_digests(std::span<const RecordStamp> ours, std::span<const RecordStamp> theirs) {
  // Both sides are sorted by name: walk them together.
  DigestDiff diff;
  auto t = theirs.begin();
  for (std::size_t i = 0; i < ours.size(); ++i) {
    const RecordStamp& mine = ours[i];
    while (t != theirs.end() && t->name < mine.name) {
      diff.peer_has_newer = true;  // they know a peer we do not
      ++t;
    }
    if (t == theirs.end() || mine.name < t->name) {
      diff.newer.push_back(i);
      continue;
    }
    if (stamp_newer(mine, *t)) {
      diff.newer.push_back(i);
    } else if (stamp_newer(*t, mine)) {
      diff.peer_has_newer = true;
    }
    ++t;
  }
  if (t != theirs.end()) {
    diff.peer_has_newer = true;
  }
  return diff;
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
  auto last = std::unique(
      connections.begin(), connections.end(),
      [](const ConnectionRecord& a, const ConnectionRecord& b) { return a.name == b.name; });
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
  auto it = records_.emplace(self.name, std::move(self)).first;
  index_.emplace(it->first, &it->second);
  count_listings(it->second, +1);
}

const PeerRecord* Topology::find(PeerName name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : it->second;
}

bool Topology::set_own_connections(std::vector<ConnectionRecord> connections) {
  normalize_connections(self_name_, connections);
  PeerRecord& own = records_.at(self_name_);
  if (own.connections == connections) {
    return false;
  }
  const EdgeDiff diff = diff_edges(own.connections, connections);
  count_listings(own, -1);
  own.connections = std::move(connections);
  count_listings(own, +1);
  ++own.version;
  note_change(diff);
  return true;
}

bool Topology::set_own_datapath(std::vector<std::uint8_t> datapath) {
  PeerRecord& own = records_.at(self_name_);
  if (own.datapath == datapath) {
    return false;
  }
  own.datapath = std::move(datapath);
  ++own.version;
  note_change({});
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
    auto it = records_.find(r.name);  // kept records only: most duplicates never get here
    if (it == records_.end()) {
      // Present records are reachable, so a new peer that one of them lists is reachable;
      // otherwise garbage collection decides.
      const auto listed = listed_.find(r.name);
      const bool attached = listed != listed_.end() && listed->second > 0;
      it = records_.emplace(r.name, r).first;
      index_.emplace(r.name, &it->second);
      count_listings(it->second, +1);
      note_change({.changed = true, .lost = !attached});
    } else if (supersedes(r, it->second)) {
      note_change(diff_edges(it->second.connections, r.connections));
      count_listings(it->second, -1);
      it->second = r;
      count_listings(it->second, +1);
    } else {
      continue;
    }
    result.changed.push_back(r.name);
  }
  // A name may change twice in one batch; report it once.
  std::sort(result.changed.begin(), result.changed.end());
  result.changed.erase(std::unique(result.changed.begin(), result.changed.end()),
                       result.changed.end());
  return result;
}

std::vector<PeerName> Topology::garbage_collect() {
  // Breadth-first over every connection listed by a peer already reached (Weave's rule: a
  // peer stays while someone reachable says it is connected to it, whatever the other end
  // has published so far).
  std::unordered_set<PeerName> seen{self_name_};
  std::vector<const PeerRecord*> queue{&records_.at(self_name_)};
  for (std::size_t head = 0; head < queue.size(); ++head) {
    for (const ConnectionRecord& c : queue[head]->connections) {
      if (const PeerRecord* next = find(c.name); next != nullptr && seen.insert(c.name).second) {
        queue.push_back(next);
      }
    }
  }
  std::vector<PeerName> dropped;
  if (seen.size() == records_.size()) {
    return dropped;
  }
  for (auto it = records_.begin(); it != records_.end();) {
    if (seen.contains(it->first)) {
      ++it;
      continue;
    }
    dropped.push_back(it->first);
    count_listings(it->second, -1);
    index_.erase(it->first);
    it = records_.erase(it);
  }
  note_change({.changed = true, .lost = true});
  return dropped;
}

void Topology::count_listings(const PeerRecord& record, int delta) {
  for (const ConnectionRecord& c : record.connections) {
    auto& n = listed_[c.name];
    n += delta;
    if (n == 0) {
      listed_.erase(c.name);
    }
  }
}

void Topology::note_change(const EdgeDiff& diff) {
  ++generation_;
  if (diff.changed) {
    ++graph_generation_;
  }
  if (diff.lost) {
    ++reachability_generation_;
  }
}

std::vector<RecordStamp> Topology::digest() const {
  return stamps_of(records_);
}

std::size_t Topology::memory_bytes() const {
  // A std::map node holds the value plus three pointers and a colour.
  constexpr std::size_t kNodeOverhead = 4 * sizeof(void*);
  // The hash index: a node (key, pointer, next) per record plus the bucket array.
  std::size_t total = (index_.size() + listed_.size()) * 4 * sizeof(void*) +
                      (index_.bucket_count() + listed_.bucket_count()) * sizeof(void*);
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
