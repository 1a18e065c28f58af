// Mesh simulations: many Routers in one process on a virtual clock over a lossy simulated
// network. The seed is printed on failure; WEFT_SIM_SEED=<n> replays one.
#include "tests/support/mesh_sim.hpp"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "common/log.hpp"

namespace weft::test {
namespace {

using namespace std::chrono_literals;
using router::PeerName;

class QuietLogs : public testing::Test {
 protected:
  void SetUp() override { log::set_level(log::Level::kWarn); }
  void TearDown() override { log::set_level(log::Level::kInfo); }
};

// Runs until `group` agrees on its topology and its routes are sound; fails with the last
// difference otherwise. Returns the virtual time it took.
Clock::Duration converge(MeshSim& sim, const std::vector<std::size_t>& group, Clock::Duration limit,
                         bool broadcast = true) {
  std::string why;
  auto took = sim.run_until(
      [&] {
        why = sim.check_topology(group);
        if (why.empty()) {
          why = sim.check_routes(group, broadcast);
        }
        return why.empty();
      },
      limit);
  EXPECT_TRUE(took.has_value()) << "no convergence within "
                                << std::chrono::duration<double>(limit).count()
                                << " s of virtual time: " << why;
  return took.value_or(limit);
}

std::vector<std::size_t> range(std::size_t from, std::size_t to) {
  std::vector<std::size_t> v;
  for (std::size_t i = from; i < to; ++i) {
    v.push_back(i);
  }
  return v;
}

double seconds(Clock::Duration d) {
  return std::chrono::duration<double>(d).count();
}

using MeshSimTest = QuietLogs;

TEST_F(MeshSimTest, HundredPeersConvergeThroughLossPartitionAndRestarts) {
  const std::uint64_t seed = sim_seed(20240601);
  SCOPED_TRACE(testing::Message() << "WEFT_SIM_SEED=" << seed);
  MeshSim sim(lossy_mesh_config(seed));
  constexpr std::size_t kPeers = 100;
  sim.add_random_graph(kPeers, 3);
  for (std::size_t i = 0; i < kPeers; ++i) {
    sim.start(i);
  }
  const auto all = range(0, kPeers);
  const auto t_join = converge(sim, all, 60s);
  ASSERT_FALSE(HasFailure());

  // Partition into halves (each half is connected through the spanning chain).
  const auto left = range(0, kPeers / 2);
  const auto right = range(kPeers / 2, kPeers);
  sim.partition({left, right});
  std::string why;
  auto t_split = sim.run_until(
      [&] {
        why = sim.check_topology(left);
        if (why.empty()) {
          why = sim.check_topology(right);
        }
        if (why.empty()) {
          why = sim.check_routes(left, true);
        }
        if (why.empty()) {
          why = sim.check_routes(right, true);
        }
        return why.empty();
      },
      60s);
  ASSERT_TRUE(t_split.has_value()) << "halves did not settle: " << why;

  sim.heal();
  const auto t_heal = converge(sim, all, 60s);
  ASSERT_FALSE(HasFailure());

  // Restart 10 peers: five at once (their old records are still around), five after being
  // down long enough to be dropped everywhere.
  std::vector<std::size_t> chosen = all;
  for (std::size_t i = 0; i < 10; ++i) {
    std::swap(chosen[i], chosen[i + sim.rng().uniform(chosen.size() - i)]);
  }
  chosen.resize(10);
  std::map<std::size_t, std::uint64_t> old_uid;
  for (std::size_t i : chosen) {
    old_uid[i] = sim.router(i).uid();
  }
  for (std::size_t k = 0; k < 5; ++k) {
    sim.restart(chosen[k]);
  }
  for (std::size_t k = 5; k < 10; ++k) {
    sim.stop(chosen[k]);
  }
  sim.run_for(15s);
  for (std::size_t k = 5; k < 10; ++k) {
    sim.start(chosen[k]);
  }
  const auto t_restart = converge(sim, all, 60s);
  ASSERT_FALSE(HasFailure());
  for (std::size_t i : chosen) {
    EXPECT_NE(sim.router(i).uid(), old_uid[i]);
    for (std::size_t j : all) {
      EXPECT_EQ(sim.router(j).topology().find(sim.name(i))->uid, sim.router(i).uid());
    }
  }
  const auto totals = sim.net().totals();
  std::printf(
      "seed %llu: converged after start %.2f s, halves settled %.2f s, heal %.2f s, "
      "restarts %.2f s; %llu messages (%llu lost), %.1f KB per peer\n",
      static_cast<unsigned long long>(seed), seconds(t_join), seconds(*t_split), seconds(t_heal),
      seconds(t_restart), static_cast<unsigned long long>(totals.messages_sent),
      static_cast<unsigned long long>(totals.messages_lost),
      static_cast<double>(totals.bytes_sent) / 1024.0 / kPeers);
}

TEST_F(MeshSimTest, DiscoveryDialsPeersLearntFromGossipUpToTheLimit) {
  const std::uint64_t seed = sim_seed(7);
  SCOPED_TRACE(testing::Message() << "WEFT_SIM_SEED=" << seed);
  MeshSimConfig config = lossy_mesh_config(seed);
  config.router.discovery = true;
  config.router.conn_limit = 5;
  MeshSim sim(config);
  constexpr std::size_t kPeers = 30;
  sim.add_peer({});
  for (std::size_t i = 1; i < kPeers; ++i) {
    sim.add_peer({0});  // everyone knows only peer 0
  }
  for (std::size_t i = 0; i < kPeers; ++i) {
    sim.start(i);
  }
  converge(sim, range(0, kPeers), 60s);
  std::size_t edges = 0;
  for (std::size_t i = 0; i < kPeers; ++i) {
    std::size_t outbound = 0;
    for (const auto& c : sim.router(i).topology().self().connections) {
      outbound += c.outbound ? 1 : 0;
      ++edges;
    }
    // Discovered dials stop at the limit; the explicit target may come on top.
    EXPECT_LE(outbound, 6u) << "peer " << i;
  }
  EXPECT_GT(edges / 2, kPeers - 1) << "nothing was discovered";
}

TEST_F(MeshSimTest, DuplicateConnectionsResolveToTheOneDialledByTheLowerName) {
  const std::uint64_t seed = sim_seed(3);
  SCOPED_TRACE(testing::Message() << "WEFT_SIM_SEED=" << seed);
  MeshSimConfig config = lossy_mesh_config(seed);
  config.net.loss = 0;
  MeshSim sim(config);
  sim.add_peer({1});
  sim.add_peer({0});
  sim.start(0);
  sim.start(1);
  converge(sim, {0, 1}, 30s);
  const auto& a = sim.router(0).topology().self().connections;
  const auto& b = sim.router(1).topology().self().connections;
  ASSERT_EQ(a.size(), 1u);
  ASSERT_EQ(b.size(), 1u);
  const bool zero_lower = sim.name(0) < sim.name(1);
  EXPECT_EQ(a[0].outbound, zero_lower);
  EXPECT_EQ(b[0].outbound, !zero_lower);
  // Both targets count as established through the one connection.
  for (std::size_t i : {0, 1}) {
    const auto status = sim.router(i).status();
    ASSERT_EQ(status.connections.size(), 1u);
    EXPECT_EQ(status.connections[0].state, router::TargetState::kEstablished);
    EXPECT_EQ(status.connections[0].peer, sim.name(1 - i));
  }
}

TEST_F(MeshSimTest, StatusShowsRetriesAndForgetClosesTheConnection) {
  const std::uint64_t seed = sim_seed(4);
  SCOPED_TRACE(testing::Message() << "WEFT_SIM_SEED=" << seed);
  MeshSimConfig config = lossy_mesh_config(seed);
  config.net.loss = 0;
  MeshSim sim(config);
  sim.add_peer({1});
  sim.add_peer({});
  sim.start(0);
  sim.start(1);
  converge(sim, {0, 1}, 30s);
  const std::string b_address = sim.host(1).address();
  auto status = sim.router(0).status();
  ASSERT_EQ(status.connections.size(), 1u);
  EXPECT_EQ(status.connections[0].address, b_address);
  EXPECT_EQ(status.connections[0].state, router::TargetState::kEstablished);
  EXPECT_EQ(status.connections[0].peer_nickname, "peer-1");
  EXPECT_EQ(status.peers.size(), 2u);
  EXPECT_EQ(status.reachable, 2u);

  sim.stop(1);
  sim.run_for(3s);
  status = sim.router(0).status();
  ASSERT_EQ(status.connections.size(), 1u);
  const auto& c = status.connections[0];
  EXPECT_TRUE(c.state == router::TargetState::kFailed ||
              c.state == router::TargetState::kRetrying ||
              c.state == router::TargetState::kConnecting)
      << to_string(c.state);
  EXPECT_FALSE(c.info.empty());
  EXPECT_GE(c.attempts, 1);
  EXPECT_EQ(status.peers.size(), 1u) << "the stopped peer is dropped";

  sim.start(1);
  converge(sim, {0, 1}, 30s);
  sim.router(0).forget({b_address});
  sim.run_for(2s);
  EXPECT_TRUE(sim.router(0).status().connections.empty());
  EXPECT_EQ(sim.router(0).topology().size(), 1u);
  EXPECT_EQ(sim.router(1).topology().size(), 1u);
  sim.router(0).connect({b_address});
  converge(sim, {0, 1}, 30s);
  EXPECT_FALSE(sim.router(0).connect({"[bad"}));
}

// A channel that records what reaches it (and gossips a max-register, key -> value).
class RecordingChannel final : public router::GossipChannel {
 public:
  router::ChannelId channel_id() const override { return router::kIpamChannel; }
  std::string_view channel_name() const override { return "test"; }
  Result<bool> on_update(PeerName, std::span<const std::uint8_t> u) override {
    bool news = false;
    for (std::size_t i = 0; i + 1 < u.size(); i += 2) {
      news |= set(u[i], u[i + 1]);
    }
    return news;
  }
  std::vector<std::uint8_t> take_delta() override {
    std::vector<std::uint8_t> out;
    for (auto [k, v] : pending_) {
      out.push_back(k);
      out.push_back(v);
    }
    pending_.clear();
    return out;
  }
  std::vector<std::uint8_t> digest() const override {
    std::vector<std::uint8_t> out;
    for (auto [k, v] : state) {
      out.push_back(k);
      out.push_back(v);
    }
    return out;
  }
  Result<router::DigestAnswer> on_digest(PeerName, std::span<const std::uint8_t> d) override {
    router::DigestAnswer a;
    std::map<std::uint8_t, std::uint8_t> theirs;
    for (std::size_t i = 0; i + 1 < d.size(); i += 2) {
      theirs[d[i]] = d[i + 1];
    }
    for (auto [k, v] : state) {
      if (!theirs.contains(k) || theirs[k] < v) {
        a.update.insert(a.update.end(), {k, v});
      }
    }
    for (auto [k, v] : theirs) {
      a.peer_has_newer |= !state.contains(k) || state[k] < v;
    }
    return a;
  }
  void on_unicast(PeerName source, std::span<const std::uint8_t>) override {
    unicasts.push_back(source);
  }
  void on_broadcast(PeerName source, std::span<const std::uint8_t>) override {
    broadcasts.push_back(source);
  }
  bool set(std::uint8_t k, std::uint8_t v) {
    if (state.contains(k) && state[k] >= v) {
      return false;
    }
    state[k] = v;
    pending_[k] = v;
    return true;
  }

  std::map<std::uint8_t, std::uint8_t> state;
  std::vector<PeerName> unicasts;
  std::vector<PeerName> broadcasts;

 private:
  std::map<std::uint8_t, std::uint8_t> pending_;
};

TEST_F(MeshSimTest, ChannelsGossipUnicastAndBroadcastThroughTheRouter) {
  const std::uint64_t seed = sim_seed(5);
  SCOPED_TRACE(testing::Message() << "WEFT_SIM_SEED=" << seed);
  // Declared before the simulation: channels and callbacks outlive the routers.
  std::vector<std::unique_ptr<RecordingChannel>> channels;
  std::vector<router::GossipSender*> senders;
  int topology_changes = 0;
  MeshSim sim(lossy_mesh_config(seed));
  constexpr std::size_t kPeers = 12;
  sim.add_random_graph(kPeers, 1);
  for (std::size_t i = 0; i < kPeers; ++i) {
    sim.start(i);
    channels.push_back(std::make_unique<RecordingChannel>());
    senders.push_back(&sim.router(i).register_channel(*channels.back()));
    sim.router(i).on_topology_changed([&] { ++topology_changes; });
  }
  converge(sim, range(0, kPeers), 60s);
  EXPECT_GT(topology_changes, 0);
  // Local changes spread (deltas, anti-entropy repairs the losses).
  channels[3]->set(1, 5);
  senders[3]->changed(router::kIpamChannel);
  channels[8]->set(2, 9);
  senders[8]->changed(router::kIpamChannel);
  auto spread = sim.run_until(
      [&] {
        return std::all_of(channels.begin(), channels.end(),
                           [&](auto& c) { return c->state == channels[3]->state; }) &&
               channels[3]->state.size() == 2;
      },
      30s);
  EXPECT_TRUE(spread.has_value());
  // Unicast goes hop by hop (retry on loss: delivery is best effort).
  auto got_unicast = sim.run_until(
      [&] {
        if (channels[kPeers - 1]->unicasts.empty()) {
          EXPECT_TRUE(senders[0]->unicast(router::kIpamChannel, sim.name(kPeers - 1), {1}));
        }
        return !channels[kPeers - 1]->unicasts.empty();
      },
      10s);
  ASSERT_TRUE(got_unicast.has_value());
  EXPECT_EQ(channels[kPeers - 1]->unicasts[0], sim.name(0));
  // Broadcast along the tree: without loss everyone gets it exactly once.
  sim.net().set_loss(0);
  senders[2]->broadcast(router::kIpamChannel, {7});
  sim.run_for(2s);
  for (std::size_t i = 0; i < kPeers; ++i) {
    EXPECT_EQ(channels[i]->broadcasts.size(), i == 2 ? 0u : 1u) << "peer " << i;
  }
}

}  // namespace
}  // namespace weft::test
