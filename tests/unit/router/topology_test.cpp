// Topology CRDT: lattice properties of the merge on random record sets, restart
// supersession, garbage collection against a naive reachability reference.
#include "router/topology.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <vector>

#include <gtest/gtest.h>

#include "common/rng.hpp"

namespace weft::router {
namespace {

PeerName pn(std::uint64_t v) {
  return PeerName{v};
}

// Records drawn from a small space so that collisions (same name, same version, even same
// uid with different content) are frequent.
PeerRecord random_record(Rng& rng, int names) {
  PeerRecord r;
  r.name = pn(1 + rng.uniform(names));
  r.uid = 1 + rng.uniform(3);
  r.version = 1 + rng.uniform(4);
  r.nickname = rng.chance(0.5) ? "a" : "b";
  const auto n = rng.uniform(4);
  for (std::uint64_t i = 0; i < n; ++i) {
    ConnectionRecord c;
    c.name = pn(1 + rng.uniform(names));
    c.address = rng.chance(0.5) ? "10.0.0.1:6783" : "10.0.0.2:6783";
    c.outbound = rng.chance(0.5);
    c.established = rng.chance(0.7);
    r.connections.push_back(c);
  }
  normalize_connections(r.name, r.connections);
  return r;
}

RecordMap random_map(Rng& rng, int names, int records) {
  RecordMap m;
  for (int i = 0; i < records; ++i) {
    merge_record(m, random_record(rng, names));
  }
  return m;
}

TEST(TopologyMerge, IsCommutativeAssociativeIdempotent) {
  SeededRng rng(42);
  for (int round = 0; round < 2000; ++round) {
    const int names = 1 + static_cast<int>(rng.uniform(6));
    const RecordMap a = random_map(rng, names, static_cast<int>(rng.uniform(8)));
    const RecordMap b = random_map(rng, names, static_cast<int>(rng.uniform(8)));
    const RecordMap c = random_map(rng, names, static_cast<int>(rng.uniform(8)));
    SCOPED_TRACE(round);
    EXPECT_EQ(merge_maps(a, b), merge_maps(b, a));
    EXPECT_EQ(merge_maps(merge_maps(a, b), c), merge_maps(a, merge_maps(b, c)));
    EXPECT_EQ(merge_maps(a, a), a);
    EXPECT_EQ(merge_maps(merge_maps(a, b), b), merge_maps(a, b));
  }
}

TEST(TopologyMerge, AnyDeliveryOrderGivesTheSameState) {
  SeededRng rng(7);
  for (int round = 0; round < 1000; ++round) {
    std::vector<PeerRecord> records;
    const auto n = 1 + rng.uniform(12);
    for (std::uint64_t i = 0; i < n; ++i) {
      records.push_back(random_record(rng, 4));
    }
    RecordMap first;
    for (const auto& r : records) {
      merge_record(first, r);
    }
    for (int shuffle = 0; shuffle < 3; ++shuffle) {
      for (std::size_t i = records.size(); i > 1; --i) {
        std::swap(records[i - 1], records[rng.uniform(i)]);
      }
      RecordMap other;
      for (const auto& r : records) {
        merge_record(other, r);
        if (rng.chance(0.3)) {
          merge_record(other, r);  // duplicates change nothing
        }
      }
      ASSERT_EQ(other, first) << "round " << round;
    }
  }
}

TEST(TopologyMerge, OrderIsTotalAndPrefersVersionThenUid) {
  PeerRecord a{.name = pn(1), .nickname = "x", .uid = 5, .version = 2, .connections = {}};
  PeerRecord b = a;
  b.version = 3;
  b.uid = 1;
  EXPECT_TRUE(supersedes(b, a));
  EXPECT_FALSE(supersedes(a, b));
  b.version = 2;
  EXPECT_TRUE(supersedes(a, b));  // same version: higher uid
  PeerRecord c = a;
  c.nickname = "y";  // same stamp, different content: still ordered one way only
  EXPECT_NE(supersedes(a, c), supersedes(c, a));
  EXPECT_FALSE(supersedes(a, a));
}

TEST(Topology, OwnRecordNeverReplacedAndConnectionsBumpVersion) {
  Topology t(
      PeerRecord{.name = pn(1), .nickname = "me", .uid = 10, .version = 1, .connections = {}});
  const auto gen = t.generation();
  EXPECT_TRUE(t.set_own_connections({{pn(2), "10.0.0.2:6783", true, true}}));
  EXPECT_EQ(t.self().version, 2u);
  EXPECT_GT(t.generation(), gen);
  EXPECT_FALSE(t.set_own_connections({{pn(2), "10.0.0.2:6783", true, true}}));
  EXPECT_EQ(t.self().version, 2u);
  // A copy of our own current record changes nothing.
  const PeerRecord copy = t.self();
  auto r = t.merge(std::span(&copy, 1));
  EXPECT_TRUE(r.changed.empty());
  EXPECT_FALSE(r.self_bumped);
  // An older record of ours is ignored.
  PeerRecord old = copy;
  old.version = 1;
  old.connections.clear();
  EXPECT_TRUE(t.merge(std::span(&old, 1)).changed.empty());
  EXPECT_EQ(t.self(), copy);
}

TEST(Topology, RestartedPeerSupersedesItsOldRecord) {
  // The old incarnation of peer 1 reached version 9; peer 2 holds that record.
  PeerRecord old_one{.name = pn(1),
                     .nickname = "one",
                     .uid = 111,
                     .version = 9,
                     .connections = {{pn(2), "10.0.0.2:6783", true, true}}};
  Topology two(PeerRecord{.name = pn(2),
                          .nickname = "two",
                          .uid = 222,
                          .version = 1,
                          .connections = {{pn(1), "10.0.0.1:6783", false, true}}});
  two.merge(std::span(&old_one, 1));
  // Peer 1 restarts: new uid, version 1, loses against its old record at peer 2.
  Topology one(PeerRecord{.name = pn(1),
                          .nickname = "one",
                          .uid = 333,
                          .version = 1,
                          .connections = {{pn(2), "10.0.0.2:6783", true, true}}});
  EXPECT_TRUE(two.merge(std::span(&one.self(), 1)).changed.empty());
  EXPECT_EQ(two.find(pn(1))->uid, 111u);
  // Peer 1 hears of its old record from peer 2 and bumps itself above it.
  std::vector<PeerRecord> from_two;
  for (const auto& [n, r] : two.records()) {
    from_two.push_back(r);
  }
  auto bumped = one.merge(from_two);
  EXPECT_TRUE(bumped.self_bumped);
  EXPECT_EQ(one.self().version, 10u);
  EXPECT_EQ(one.self().uid, 333u);
  EXPECT_NE(std::find(bumped.changed.begin(), bumped.changed.end(), pn(1)), bumped.changed.end());
  // Now the new record wins at peer 2.
  EXPECT_FALSE(two.merge(std::span(&one.self(), 1)).changed.empty());
  EXPECT_EQ(two.find(pn(1))->uid, 333u);
  EXPECT_EQ(two.find(pn(1))->version, 10u);
  // A tie with the old incarnation (same version, other uid) also bumps.
  PeerRecord tie = old_one;
  tie.version = 10;
  EXPECT_TRUE(one.merge(std::span(&tie, 1)).self_bumped);
  EXPECT_EQ(one.self().version, 11u);
}

// Naive reference: reachability by repeated relaxation over the connections that reached
// records list (any state, one direction suffices).
std::set<PeerName> naive_reachable(const RecordMap& records, PeerName self) {
  std::set<PeerName> seen{self};
  bool grew = true;
  while (grew) {
    grew = false;
    for (const auto& [a, ra] : records) {
      if (!seen.contains(a)) {
        continue;
      }
      for (const auto& c : ra.connections) {
        if (records.contains(c.name) && seen.insert(c.name).second) {
          grew = true;
        }
      }
    }
  }
  return seen;
}

TEST(Topology, GarbageCollectKeepsExactlyTheReachablePeers) {
  SeededRng rng(99);
  for (int round = 0; round < 500; ++round) {
    const int n = 2 + static_cast<int>(rng.uniform(14));
    std::vector<PeerRecord> records(n);
    for (int i = 0; i < n; ++i) {
      records[i].name = pn(i + 1);
      records[i].uid = 1;
      records[i].version = 1;
    }
    // Random edges; some one-sided, some not established.
    const double p = rng.unit() * 0.4;
    for (int i = 0; i < n; ++i) {
      for (int j = i + 1; j < n; ++j) {
        if (!rng.chance(p)) {
          continue;
        }
        const bool one_sided = rng.chance(0.15);
        const bool pending = rng.chance(0.1);
        records[i].connections.push_back({pn(j + 1), "a:1", true, !pending});
        if (!one_sided) {
          records[j].connections.push_back({pn(i + 1), "b:1", false, true});
        }
      }
    }
    for (auto& r : records) {
      normalize_connections(r.name, r.connections);
    }
    Topology t(records[0]);
    t.merge(std::span(records).subspan(1));
    const auto expected = naive_reachable(t.records(), pn(1));
    const auto reach_gen = t.reachability_generation();
    const auto dropped = t.garbage_collect();
    EXPECT_EQ(t.reachability_generation() != reach_gen, !dropped.empty());
    std::set<PeerName> kept;
    for (const auto& [name, r] : t.records()) {
      kept.insert(name);
    }
    ASSERT_EQ(kept, expected) << "round " << round;
    EXPECT_EQ(dropped.size() + kept.size(), static_cast<std::size_t>(n));
    EXPECT_TRUE(t.garbage_collect().empty());  // idempotent
  }
}

TEST(Topology, PeersBehindAOneSidedNewConnectionAreKept) {
  // We (1) just connected to 2 and published it; 2's record does not list us yet, but 2's
  // other neighbour 3 must not be dropped meanwhile.
  Topology t(PeerRecord{.name = pn(1),
                        .nickname = "",
                        .uid = 1,
                        .version = 2,
                        .connections = {{pn(2), "b:1", true, false}}});
  std::vector<PeerRecord> others{
      {.name = pn(2),
       .nickname = "",
       .uid = 1,
       .version = 5,
       .connections = {{pn(3), "c:1", true, true}}},
      {.name = pn(3),
       .nickname = "",
       .uid = 1,
       .version = 5,
       .connections = {{pn(2), "b:1", false, true}}},
      {.name = pn(4),
       .nickname = "",
       .uid = 1,
       .version = 1,
       .connections = {{pn(1), "a:1", false, true}}}};  // lists us, but nobody lists it
  t.merge(others);
  EXPECT_EQ(t.garbage_collect(), std::vector<PeerName>{pn(4)});
  EXPECT_EQ(t.size(), 3u);
  // Once 1 drops the connection, 2 and 3 go too.
  const auto gen = t.reachability_generation();
  t.set_own_connections({});
  EXPECT_GT(t.reachability_generation(), gen);
  EXPECT_EQ(t.garbage_collect().size(), 2u);
  // A new peer that a present record lists needs no collection; one nobody lists does.
  Topology u(PeerRecord{.name = pn(1),
                        .nickname = "",
                        .uid = 1,
                        .version = 1,
                        .connections = {{pn(2), "b:1", true, true}}});
  const auto g0 = u.reachability_generation();
  PeerRecord two{.name = pn(2), .nickname = "", .uid = 1, .version = 1, .connections = {}};
  u.merge(std::span(&two, 1));
  EXPECT_EQ(u.reachability_generation(), g0);
  PeerRecord five{.name = pn(5), .nickname = "", .uid = 1, .version = 1, .connections = {}};
  u.merge(std::span(&five, 1));
  EXPECT_GT(u.reachability_generation(), g0);
}

TEST(Topology, DigestListsStampsInNameOrder) {
  Topology t(PeerRecord{.name = pn(5), .nickname = "", .uid = 1, .version = 3, .connections = {}});
  std::vector<PeerRecord> others{
      {.name = pn(9), .nickname = "", .uid = 2, .version = 4, .connections = {}},
      {.name = pn(2), .nickname = "", .uid = 3, .version = 1, .connections = {}}};
  t.merge(others);
  const auto d = t.digest();
  ASSERT_EQ(d.size(), 3u);
  EXPECT_EQ(d[0], (RecordStamp{pn(2), 1, 3}));
  EXPECT_EQ(d[1], (RecordStamp{pn(5), 3, 1}));
  EXPECT_EQ(d[2], (RecordStamp{pn(9), 4, 2}));
  EXPECT_GT(t.memory_bytes(), 0u);
}

}  // namespace
}  // namespace weft::router
