// IPAM simulations: allocators on top of many Routers (tests/support/mesh_sim.hpp) on a
// virtual clock over a lossy network. The seed is printed; WEFT_SIM_SEED=<n> replays one.
#include <cstdlib>
#include <map>
#include <memory>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "common/log.hpp"
#include "ipam/allocator.hpp"
#include "tests/support/mesh_sim.hpp"
#include "weftd/ipam_channel.hpp"

namespace weft::test {
namespace {

using namespace std::chrono_literals;

// One allocator per sim peer, wired to its router through an IpamChannel.
class IpamSim {
 public:
  IpamSim(MeshSim& sim, ipam::AllocatorConfig config) : sim_(sim), config_(std::move(config)) {
    peers_.resize(sim.size());
  }
  void start(std::size_t i, ipam::BootstrapConfig boot) {
    sim_.start(i);
    auto p = std::make_unique<Peer>();
    router::Router& r = sim_.router(i);
    p->channel.attach(r.register_channel(p->channel),
                      [&r](router::PeerName n) { return r.routes().reachable(n); });
    auto cfg = config_;
    cfg.bootstrap = std::move(boot);
    p->alloc = std::make_unique<ipam::Allocator>(cfg, sim_.name(i).value, p->store, p->channel,
                                                 sim_.clock());
    p->channel.set_allocator(*p->alloc);
    EXPECT_TRUE(p->alloc->load());
    peers_[i] = std::move(p);
  }
  void stop(std::size_t i) {
    peers_[i].reset();
    sim_.stop(i);
  }
  // Runs for `d` of virtual time, ticking every allocator once a (virtual) second.
  void run_for(Clock::Duration d) {
    for (Clock::Duration t{}; t < d; t += 250ms) {
      sim_.run_for(250ms);
      if ((step_++ % 1) == 0) {  // tick every 250 ms, as the daemon should
        for (auto& p : peers_) {
          if (p)
            p->alloc->tick();
        }
      }
    }
  }
  std::optional<Clock::Duration> run_until(const std::function<bool()>& done,
                                           Clock::Duration limit) {
    for (Clock::Duration t{}; t <= limit; t += 250ms) {
      if (done())
        return t;
      run_for(250ms);
    }
    return std::nullopt;
  }
  ipam::Allocator& operator[](std::size_t i) { return *peers_[i]->alloc; }
  bool all_ready(const std::vector<std::size_t>& group) const {
    for (auto i : group) {
      if (!peers_[i]->alloc->ready())
        return false;
    }
    return true;
  }
  // Empty when every peer of `group` has the same rings.
  std::string rings_differ(const std::vector<std::size_t>& group) const {
    const auto first = peers_[group.front()]->alloc->encode_rings();
    for (auto i : group) {
      if (peers_[i]->alloc->encode_rings() != first)
        return fmt::format("peer {} differs", i);
    }
    return {};
  }

 private:
  struct Peer {
    ipam::MemoryStore store;
    weftd::IpamChannel channel;
    std::unique_ptr<ipam::Allocator> alloc;
  };
  MeshSim& sim_;
  ipam::AllocatorConfig config_;
  std::vector<std::unique_ptr<Peer>> peers_;
  std::uint64_t step_ = 0;
};

std::vector<std::size_t> iota(std::size_t from, std::size_t to) {
  std::vector<std::size_t> v;
  for (auto i = from; i < to; ++i)
    v.push_back(i);
  return v;
}

ipam::BootstrapConfig consensus(std::size_t initial) {
  ipam::BootstrapConfig b;
  b.mode = ipam::BootstrapConfig::Mode::kConsensus;
  b.initial_peers = initial;
  return b;
}

class IpamSimTest : public testing::Test {
 protected:
  void SetUp() override { log::set_level(log::Level::kWarn); }
  void TearDown() override { log::set_level(log::Level::kInfo); }
};

TEST_F(IpamSimTest, HundredPeersLossAndPartitionNoDuplicates) {
  const std::uint64_t seed = sim_seed(4242);
  std::printf("seed %llu (WEFT_SIM_SEED replays)\n", static_cast<unsigned long long>(seed));
  constexpr std::size_t kPeers = 100;
  MeshSim sim(lossy_mesh_config(seed));
  sim.add_random_graph(kPeers, 2);
  ipam::AllocatorConfig config;
  config.range_v4 = parse_cidr("10.32.0.0/22").value();
  config.range_v6 = parse_cidr("fd00:19::/112").value();
  IpamSim ipam(sim, config);
  for (std::size_t i = 0; i < kPeers; ++i)
    ipam.start(i, consensus(kPeers));
  const auto all = iota(0, kPeers);
  auto ready = ipam.run_until([&] { return ipam.all_ready(all); }, 60s);
  ASSERT_TRUE(ready.has_value()) << "ring not ready in 60 s virtual";
  std::printf("ring ready after %.1f s virtual\n", std::chrono::duration<double>(*ready).count());

  // Random allocations and releases; a partition in the middle.
  Rng& rng = sim.rng();
  std::map<std::pair<std::size_t, int>, bool> live;  // (peer, container) -> allocated
  int ok = 0, unavailable = 0, released = 0;
  auto churn = [&](int rounds) {
    for (int r = 0; r < rounds; ++r) {
      for (int k = 0; k < 30; ++k) {
        const std::size_t p = rng.uniform(kPeers);
        const int c = static_cast<int>(rng.uniform(25));
        const auto id = fmt::format("p{}-c{}", p, c);
        if (live[{p, c}] && rng.chance(0.3)) {
          released += static_cast<int>(ipam[p].release(id).value());
          live[{p, c}] = false;
        } else {
          auto got = ipam[p].allocate(id, "eth0", ipam::FamilyChoice::kDual);
          if (got) {
            ++ok;
            live[{p, c}] = true;
          } else {
            ++unavailable;
          }
        }
      }
      ipam.run_for(500ms);
    }
  };
  churn(20);
  std::vector<std::size_t> left = iota(0, kPeers / 2), right = iota(kPeers / 2, kPeers);
  sim.partition({left, right});
  churn(20);
  sim.heal();
  churn(20);
  std::string why;
  auto healed = ipam.run_until([&] { return (why = ipam.rings_differ(all)).empty(); }, 120s);
  ASSERT_TRUE(healed.has_value()) << why;
  std::printf("allocations ok %d, retried %d, released %d\n", ok, unavailable, released);
  EXPECT_GT(ok, 500);

  std::map<IpAddress, std::string> holder;
  std::uint64_t donations = 0;
  for (auto i : all) {
    donations += ipam[i].stats().donations_received;
    EXPECT_TRUE(ipam[i].stray().empty()) << "peer " << i;
    for (const auto& a : ipam[i].list()) {
      auto [it, fresh] = holder.emplace(a.address.address(), a.key.container);
      EXPECT_TRUE(fresh) << a.address << " held by " << it->second << " and " << a.key.container;
      EXPECT_EQ(ipam[i].ring(a.key.family)->owner_of(a.address.address().value()),
                sim.name(i).value);
    }
  }
  std::printf("%zu addresses held, %llu donations\n", holder.size(),
              static_cast<unsigned long long>(donations));
  EXPECT_GT(donations, 0u);
}

TEST_F(IpamSimTest, SplitBootstrapNeverMergesTwoRings) {
  const std::uint64_t seed = sim_seed(777);
  std::printf("seed %llu (WEFT_SIM_SEED replays)\n", static_cast<unsigned long long>(seed));
  constexpr std::size_t kPeers = 20;
  MeshSim sim(lossy_mesh_config(seed));
  sim.add_random_graph(kPeers, 2);
  ipam::AllocatorConfig config;
  config.range_v4 = parse_cidr("10.32.0.0/24").value();
  IpamSim ipam(sim, config);
  const auto a = iota(0, kPeers / 2), b = iota(kPeers / 2, kPeers), all = iota(0, kPeers);
  sim.partition({a, b});
  // Each group believes it is all the initial peers.
  for (std::size_t i = 0; i < kPeers; ++i)
    ipam.start(i, consensus(kPeers / 2));
  ASSERT_TRUE(ipam.run_until([&] { return ipam.all_ready(all); }, 60s));
  ASSERT_EQ(ipam.rings_differ(a), "");
  ASSERT_EQ(ipam.rings_differ(b), "");
  const auto id_a = ipam[a[0]].ring(IpFamily::kV4)->id();
  const auto id_b = ipam[b[0]].ring(IpFamily::kV4)->id();
  ASSERT_NE(id_a, id_b);
  std::map<std::size_t, ipam::Allocation> held;
  for (auto i : all) {
    held[i] =
        ipam[i].allocate(fmt::format("c{}", i), "eth0", ipam::FamilyChoice::kV4).value().at(0);
  }
  sim.heal();
  ipam.run_for(30s);
  std::uint64_t conflicts = 0;
  for (auto i : all) {
    conflicts += ipam[i].stats().conflicts;
    EXPECT_EQ(ipam[i].ring(IpFamily::kV4)->id(), i < kPeers / 2 ? id_a : id_b) << i;
    EXPECT_EQ(ipam[i].lookup(fmt::format("c{}", i)).at(0), held[i]) << "keeps serving";
  }
  EXPECT_EQ(ipam.rings_differ(a), "");
  EXPECT_EQ(ipam.rings_differ(b), "");
  EXPECT_GT(conflicts, 0u) << "the conflict was detected";
}

TEST_F(IpamSimTest, ConcurrentRmpeerOverTheMeshLeavesOneOwner) {
  const std::uint64_t seed = sim_seed(99);
  std::printf("seed %llu (WEFT_SIM_SEED replays)\n", static_cast<unsigned long long>(seed));
  constexpr std::size_t kPeers = 10;
  MeshSim sim(lossy_mesh_config(seed));
  sim.add_random_graph(kPeers, 2);
  ipam::AllocatorConfig config;
  config.range_v4 = parse_cidr("10.32.0.0/24").value();
  IpamSim ipam(sim, config);
  ipam::BootstrapConfig boot;
  boot.mode = ipam::BootstrapConfig::Mode::kSeed;
  for (std::size_t i = 0; i < kPeers; ++i)
    boot.seeds.push_back(sim.name(i).value);
  for (std::size_t i = 0; i < kPeers; ++i)
    ipam.start(i, boot);
  const auto live = iota(0, kPeers - 1);
  ASSERT_TRUE(ipam.run_until([&] { return ipam.all_ready(iota(0, kPeers)); }, 30s));
  // The last peer is stopped for good; two others rmpeer it at the same moment.
  const ipam::PeerId dead = sim.name(kPeers - 1).value;
  ipam.stop(kPeers - 1);
  ipam.run_for(10s);
  ASSERT_TRUE(ipam[0].rmpeer(dead));
  ASSERT_TRUE(ipam[1].rmpeer(dead));
  // Meanwhile everybody allocates everything it can (quarantined ranges excluded).
  std::map<IpAddress, std::string> holder;
  auto allocate_all = [&](int rounds) {
    for (int r = 0; r < rounds; ++r) {
      for (auto i : live) {
        for (int k = 0; k < 5; ++k) {
          (void)ipam[i].allocate(fmt::format("p{}-r{}-{}", i, r, k), "eth0",
                                 ipam::FamilyChoice::kV4);
        }
      }
      ipam.run_for(1s);
    }
  };
  allocate_all(40);
  std::string why;
  ASSERT_TRUE(ipam.run_until([&] { return (why = ipam.rings_differ(live)).empty(); }, 60s)) << why;
  const auto& ring = *ipam[0].ring(IpFamily::kV4);
  EXPECT_EQ(ring.ownership().count(dead), 0u) << "the dead peer owns nothing";
  for (const auto& [token, e] : ring.entries())
    EXPECT_EQ(e.flags, 0) << "every claim settled";
  for (auto i : live) {
    EXPECT_TRUE(ipam[i].stray().empty()) << "peer " << i;
    for (const auto& a : ipam[i].list()) {
      auto [it, fresh] = holder.emplace(a.address.address(), a.key.container);
      EXPECT_TRUE(fresh) << a.address << " held by " << it->second << " and " << a.key.container;
    }
  }
  std::printf("%zu of 254 addresses allocated after the reclaim\n", holder.size());
  EXPECT_GT(holder.size(), 240u) << "the reclaimed range is in use";
}

}  // namespace
}  // namespace weft::test
