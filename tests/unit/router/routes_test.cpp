// Routes against a naive reference: Floyd-Warshall distances over symmetric established
// edges on random graphs; next hops lie on shortest paths; broadcast trees reach every
// reachable peer exactly once.
#include "router/routes.hpp"

#include <map>
#include <vector>

#include <gtest/gtest.h>

#include "common/rng.hpp"

namespace weft::router {
namespace {

constexpr int kInf = 1 << 20;

PeerName pn(int i) {
  return PeerName{static_cast<std::uint64_t>(i) * 7919 + 3};
}

struct RandomGraph {
  std::vector<PeerRecord> records;
  std::vector<std::vector<int>> dist;  // Floyd-Warshall over symmetric established edges
};

RandomGraph make_graph(Rng& rng, int n) {
  RandomGraph g;
  g.records.resize(n);
  for (int i = 0; i < n; ++i) {
    g.records[i] = {.name = pn(i), .nickname = "", .uid = 1, .version = 1, .connections = {}};
  }
  g.dist.assign(n, std::vector<int>(n, kInf));
  const double p = 0.05 + rng.unit() * 0.3;
  for (int i = 0; i < n; ++i) {
    g.dist[i][i] = 0;
    for (int j = i + 1; j < n; ++j) {
      if (!rng.chance(p)) {
        continue;
      }
      const bool one_sided = rng.chance(0.1);
      const bool pending = rng.chance(0.1);
      g.records[i].connections.push_back({pn(j), "x:1", true, !pending});
      if (!one_sided) {
        g.records[j].connections.push_back({pn(i), "y:1", false, true});
      }
      if (!one_sided && !pending) {
        g.dist[i][j] = g.dist[j][i] = 1;
      }
    }
  }
  for (auto& r : g.records) {
    normalize_connections(r.name, r.connections);
  }
  for (int k = 0; k < n; ++k) {
    for (int i = 0; i < n; ++i) {
      for (int j = 0; j < n; ++j) {
        g.dist[i][j] = std::min(g.dist[i][j], g.dist[i][k] + g.dist[k][j]);
      }
    }
  }
  return g;
}

Topology topology_of(const RandomGraph& g) {
  Topology t(g.records[0]);
  t.merge(std::span(g.records).subspan(1));
  return t;
}

TEST(Routes, UnicastNextHopsLieOnShortestPaths) {
  SeededRng rng(2024);
  for (int round = 0; round < 300; ++round) {
    const int n = 1 + static_cast<int>(rng.uniform(25));
    const RandomGraph g = make_graph(rng, n);
    const Topology t = topology_of(g);
    std::map<PeerName, int> index;
    for (int i = 0; i < n; ++i) {
      index[pn(i)] = i;
    }
    for (int s = 0; s < n; ++s) {
      const Routes routes(t, pn(s));
      int reachable = 0;
      for (int d = 0; d < n; ++d) {
        SCOPED_TRACE(testing::Message() << "round " << round << " s " << s << " d " << d);
        const auto dist = routes.distance(pn(d));
        if (g.dist[s][d] >= kInf) {
          EXPECT_FALSE(dist.has_value());
          EXPECT_FALSE(routes.next_hop(pn(d)).has_value());
          continue;
        }
        ++reachable;
        ASSERT_TRUE(dist.has_value());
        EXPECT_EQ(*dist, g.dist[s][d]);
        auto hop = routes.next_hop(pn(d));
        if (s == d) {
          EXPECT_FALSE(hop.has_value());
          continue;
        }
        ASSERT_TRUE(hop.has_value());
        const int h = index.at(*hop);
        EXPECT_EQ(g.dist[s][h], 1);
        EXPECT_EQ(g.dist[h][d], g.dist[s][d] - 1);
      }
      EXPECT_EQ(routes.reachable_peers().size(), static_cast<std::size_t>(reachable));
      for (PeerName nb : routes.neighbours()) {
        EXPECT_EQ(g.dist[s][index.at(nb)], 1);
      }
    }
  }
}

TEST(Routes, BroadcastTreesReachEveryReachablePeerExactlyOnce) {
  SeededRng rng(77);
  for (int round = 0; round < 200; ++round) {
    const int n = 1 + static_cast<int>(rng.uniform(25));
    const RandomGraph g = make_graph(rng, n);
    const Topology t = topology_of(g);
    std::vector<Routes> routes;
    std::map<PeerName, int> index;
    for (int i = 0; i < n; ++i) {
      routes.emplace_back(t, pn(i));
      index[pn(i)] = i;
    }
    for (int s = 0; s < n; ++s) {
      std::vector<int> received(n, 0);
      std::vector<int> queue{s};
      for (std::size_t head = 0; head < queue.size(); ++head) {
        const int u = queue[head];
        for (PeerName to : routes[u].broadcast_next_hops(pn(s))) {
          const int v = index.at(to);
          ASSERT_EQ(g.dist[u][v], 1) << "forwarded to a non-neighbour";
          if (++received[v] == 1) {
            queue.push_back(v);
          }
        }
      }
      for (int d = 0; d < n; ++d) {
        const int want = (d == s || g.dist[s][d] >= kInf) ? 0 : 1;
        EXPECT_EQ(received[d], want) << "round " << round << " source " << s << " peer " << d;
      }
    }
  }
}

TEST(Routes, UnknownPeersHaveNoRoutes) {
  Topology t(PeerRecord{.name = pn(1), .nickname = "", .uid = 1, .version = 1, .connections = {}});
  const Routes r(t, pn(1));
  EXPECT_FALSE(r.next_hop(pn(2)).has_value());
  EXPECT_TRUE(r.broadcast_next_hops(pn(2)).empty());
  EXPECT_TRUE(r.broadcast_next_hops(pn(1)).empty());
  EXPECT_EQ(r.reachable_peers(), std::vector<PeerName>{pn(1)});
  const Routes empty;
  EXPECT_FALSE(empty.reachable(pn(1)));
}

}  // namespace
}  // namespace weft::router
