// Gossip layer over fake links: delta propagation and its fan-out, push-pull anti-entropy
// repairing what was lost, unicast along routes, broadcast along trees, hop budgets and
// malformed input. Channel: a max-register map (a simple CRDT).
#include "router/gossip.hpp"

#include <deque>
#include <map>
#include <memory>
#include <set>

#include <gtest/gtest.h>

#include "common/rng.hpp"
#include "router/routes.hpp"

namespace weft::router {
namespace {

using Bytes = std::vector<std::uint8_t>;

// key -> value, merged by max. Encoding: pairs of (key:u8, value:u8).
class MaxChannel final : public GossipChannel {
 public:
  ChannelId channel_id() const override { return 9; }
  std::string_view channel_name() const override { return "max"; }
  Result<bool> on_update(PeerName, std::span<const std::uint8_t> update) override {
    if (update.size() % 2 != 0) {
      return make_error(Errc::kMalformed, "odd update");
    }
    bool news = false;
    for (std::size_t i = 0; i < update.size(); i += 2) {
      if (set(update[i], update[i + 1])) {
        news = true;
      }
    }
    return news;
  }
  std::vector<std::uint8_t> take_delta() override {
    Bytes out;
    for (auto k : pending_) {
      out.push_back(k);
      out.push_back(state_[k]);
    }
    pending_.clear();
    return out;
  }
  std::vector<std::uint8_t> digest() const override {
    Bytes out;
    for (auto [k, v] : state_) {
      out.push_back(k);
      out.push_back(v);
    }
    return out;
  }
  Result<DigestAnswer> on_digest(PeerName, std::span<const std::uint8_t> digest) override {
    std::map<std::uint8_t, std::uint8_t> theirs;
    for (std::size_t i = 0; i + 1 < digest.size(); i += 2) {
      theirs[digest[i]] = digest[i + 1];
    }
    DigestAnswer a;
    for (auto [k, v] : state_) {
      if (!theirs.contains(k) || theirs[k] < v) {
        a.update.push_back(k);
        a.update.push_back(v);
      }
    }
    for (auto [k, v] : theirs) {
      if (!state_.contains(k) || state_[k] < v) {
        a.peer_has_newer = true;
      }
    }
    return a;
  }
  void on_unicast(PeerName source, std::span<const std::uint8_t> p) override {
    unicasts.emplace_back(source, Bytes(p.begin(), p.end()));
  }
  void on_broadcast(PeerName source, std::span<const std::uint8_t> p) override {
    broadcasts.emplace_back(source, Bytes(p.begin(), p.end()));
  }
  bool set(std::uint8_t k, std::uint8_t v) {
    auto [it, inserted] = state_.try_emplace(k, v);
    if (!inserted && it->second >= v) {
      return false;
    }
    it->second = v;
    pending_.insert(k);
    return true;
  }
  void set_quietly(std::uint8_t k, std::uint8_t v) { state_[k] = v; }
  const std::map<std::uint8_t, std::uint8_t>& state() const { return state_; }

  std::vector<std::pair<PeerName, Bytes>> unicasts;
  std::vector<std::pair<PeerName, Bytes>> broadcasts;

 private:
  std::map<std::uint8_t, std::uint8_t> state_;
  std::set<std::uint8_t> pending_;
};

PeerName pn(int i) {
  return PeerName{static_cast<std::uint64_t>(i) + 1};
}

// N nodes on a fixed graph; messages go through one FIFO, optionally lossy.
class FakeMesh {
 public:
  FakeMesh(int n, const std::vector<std::pair<int, int>>& edges, std::uint64_t seed) : rng_(seed) {
    std::vector<PeerRecord> records(n);
    for (int i = 0; i < n; ++i) {
      records[i] = {.name = pn(i), .nickname = "", .uid = 1, .version = 1, .connections = {}};
    }
    for (auto [a, b] : edges) {
      records[a].connections.push_back({pn(b), "", true, true});
      records[b].connections.push_back({pn(a), "", false, true});
    }
    for (auto& r : records) {
      normalize_connections(r.name, r.connections);
    }
    Topology t(records[0]);
    t.merge(std::span(records).subspan(1));
    for (int i = 0; i < n; ++i) {
      nodes_.push_back(std::make_unique<Node>(*this, i, Routes(t, pn(i))));
    }
  }

  struct Node final : MeshLinks {
    Node(FakeMesh& m, int i, Routes r)
        : mesh(m), index(i), routes(std::move(r)), gossip(*this, m.rng_) {
      gossip.add_channel(channel);
    }
    PeerName self() const override { return pn(index); }
    std::vector<PeerName> neighbours() const override { return routes.neighbours(); }
    bool send(PeerName to, Bytes message) override {
      mesh.queue_.push_back({index, static_cast<int>(to.value - 1), std::move(message)});
      return true;
    }
    std::optional<PeerName> next_hop(PeerName d) const override { return routes.next_hop(d); }
    std::vector<PeerName> broadcast_next_hops(PeerName s) const override {
      return routes.broadcast_next_hops(s);
    }
    std::size_t peer_count() const override { return mesh.nodes_.size(); }
    void request_flush() override { flush_requested = true; }

    FakeMesh& mesh;
    int index;
    Routes routes;
    MaxChannel channel;
    Gossip gossip;
    bool flush_requested = false;
  };

  // Delivers and flushes until nothing moves; returns the messages delivered.
  int run(double loss = 0.0) {
    int delivered = 0;
    for (;;) {
      for (auto& n : nodes_) {
        if (std::exchange(n->flush_requested, false)) {
          n->gossip.flush();
        }
      }
      if (queue_.empty()) {
        return delivered;
      }
      while (!queue_.empty()) {
        auto [from, to, bytes] = std::move(queue_.front());
        queue_.pop_front();
        if (rng_.chance(loss)) {
          continue;
        }
        ++delivered;
        auto m = parse_message(bytes);
        EXPECT_TRUE(m);
        nodes_[to]->gossip.handle(pn(from), *m);
      }
    }
  }

  bool agree() const {
    for (auto& n : nodes_) {
      if (n->channel.state() != nodes_[0]->channel.state()) {
        return false;
      }
    }
    return true;
  }

  Node& node(int i) { return *nodes_[i]; }
  int size() const { return static_cast<int>(nodes_.size()); }

 private:
  struct Queued {
    int from;
    int to;
    Bytes bytes;
  };
  SeededRng rng_;
  std::vector<std::unique_ptr<Node>> nodes_;
  std::deque<Queued> queue_;
};

std::vector<std::pair<int, int>> line(int n) {
  std::vector<std::pair<int, int>> e;
  for (int i = 0; i + 1 < n; ++i) {
    e.emplace_back(i, i + 1);
  }
  return e;
}

TEST(Gossip, FanoutIsLogarithmic) {
  FakeMesh one(1, {}, 1);
  EXPECT_EQ(one.node(0).gossip.fanout(), 1u);
  FakeMesh m(16, line(16), 1);
  EXPECT_EQ(m.node(0).gossip.fanout(), 5u);  // floor(log2 16) + 1
}

TEST(Gossip, DeltasReachEveryoneAndStop) {
  FakeMesh m(12, line(12), 7);
  m.node(5).channel.set(1, 10);
  m.node(5).gossip.changed(9);
  m.run();
  EXPECT_TRUE(m.agree());
  EXPECT_EQ(m.node(0).channel.state().at(1), 10);
  // Each node forwards once and never back to where the update came from: 11 updates.
  std::uint64_t sent = 0;
  for (int i = 0; i < m.size(); ++i) {
    sent += m.node(i).gossip.stats().updates_sent;
  }
  EXPECT_EQ(sent, 11u);
  // Nothing new: nothing sent.
  m.node(3).gossip.changed(9);
  EXPECT_EQ(m.run(), 0);
}

TEST(Gossip, AntiEntropyRepairsWhatWasNeverGossiped) {
  // A ring with chords; several nodes hold values nobody else heard of.
  std::vector<std::pair<int, int>> edges = line(20);
  edges.emplace_back(19, 0);
  edges.emplace_back(3, 13);
  FakeMesh m(20, edges, 3);
  for (int i = 0; i < 20; i += 4) {
    m.node(i).channel.set_quietly(static_cast<std::uint8_t>(i), static_cast<std::uint8_t>(i + 1));
  }
  int rounds = 0;
  while (!m.agree() && rounds < 200) {
    for (int i = 0; i < m.size(); ++i) {
      m.node(i).gossip.anti_entropy();
    }
    m.run(0.1);  // lossy: later rounds repair
    ++rounds;
  }
  EXPECT_TRUE(m.agree()) << "after " << rounds << " rounds";
  EXPECT_EQ(m.node(7).channel.state().size(), 5u);
}

TEST(Gossip, UnicastFollowsRoutesAndBroadcastReachesAllOnce) {
  std::vector<std::pair<int, int>> edges = line(8);
  edges.emplace_back(0, 4);
  edges.emplace_back(2, 7);
  FakeMesh m(8, edges, 5);
  ASSERT_TRUE(m.node(1).gossip.unicast(9, pn(6), Bytes{42}));
  m.run();
  ASSERT_EQ(m.node(6).channel.unicasts.size(), 1u);
  EXPECT_EQ(m.node(6).channel.unicasts[0].first, pn(1));
  EXPECT_EQ(m.node(6).channel.unicasts[0].second, Bytes{42});
  // To ourselves: delivered at once.
  ASSERT_TRUE(m.node(3).gossip.unicast(9, pn(3), Bytes{1}));
  EXPECT_EQ(m.node(3).channel.unicasts.size(), 1u);
  // Unknown destination: unavailable.
  auto none = m.node(3).gossip.unicast(9, PeerName{999}, Bytes{1});
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, make_error_code(Errc::kUnavailable));

  m.node(5).gossip.broadcast(9, Bytes{7, 7});
  m.run();
  for (int i = 0; i < m.size(); ++i) {
    EXPECT_EQ(m.node(i).channel.broadcasts.size(), i == 5 ? 0u : 1u) << i;
  }
}

TEST(Gossip, HopBudgetAndMalformedInputAreCountedAndDropped) {
  FakeMesh m(6, line(6), 9);
  const Bytes payload{1};
  const Bytes routed = encode_message({.type = MessageType::kUnicast,
                                       .channel = 9,
                                       .hops = 1,
                                       .source = pn(0),
                                       .dest = pn(5),
                                       .payload = payload});
  m.node(1).gossip.handle(pn(0), *parse_message(routed));
  EXPECT_EQ(m.node(1).gossip.stats().routed_dropped, 1u);
  const Bytes odd{1, 2, 3};
  m.node(2).gossip.handle(
      pn(1),
      *parse_message(encode_message({.type = MessageType::kUpdate, .channel = 9, .payload = odd})));
  EXPECT_EQ(m.node(2).gossip.stats().malformed, 1u);
  m.node(2).gossip.handle(
      pn(1), *parse_message(
                 encode_message({.type = MessageType::kUpdate, .channel = 77, .payload = odd})));
  EXPECT_EQ(m.node(2).gossip.stats().unknown_channel, 1u);
  EXPECT_EQ(m.run(), 0);
}

}  // namespace
}  // namespace weft::router
