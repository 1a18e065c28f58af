// IPAM benchmark:
//  - durable allocations per second on one peer (SqliteStore on disk in a temp directory,
//    every allocation committed before it is returned), real time;
//  - virtual time until the rings are ready (consensus bootstrap) for 3 and 100 simulated
//    peers (MeshSim, 10% message loss);
//  - virtual time of a donation round trip (a peer out of space asks, the donor grants).
//
// Usage: bench_ipam [--allocs N] [--seed N] [--loss 0.1]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "common/log.hpp"
#include "ipam/allocator.hpp"
#include "ipam/sqlite_store.hpp"
#include "tests/support/mesh_sim.hpp"
#include "weftd/ipam_channel.hpp"
#include <unistd.h>

namespace {

using namespace std::chrono_literals;
using weft::Clock;
using weft::test::MeshSim;
namespace ipam = weft::ipam;

struct NullNetwork final : ipam::Network {
  bool unicast(ipam::PeerId, std::vector<std::uint8_t>) override { return false; }
  void broadcast(std::vector<std::uint8_t>) override {}
  void rings_changed() override {}
  bool reachable(ipam::PeerId) const override { return false; }
};

double durable_allocs_per_second(int n) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("weft-ipam-bench-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  double rate = -1;
  {
    auto store = ipam::SqliteStore::open((dir / "weft.db").string());
    if (!store) {
      std::fprintf(stderr, "open: %s\n", store.error().to_string().c_str());
      return -1;
    }
    ipam::AllocatorConfig c;
    c.range_v4 = weft::parse_cidr("10.32.0.0/12").value();
    c.bootstrap.mode = ipam::BootstrapConfig::Mode::kSeed;
    c.bootstrap.seeds = {1};
    NullNetwork net;
    weft::SteadyClock clock;
    ipam::Allocator a(c, 1, *store, net, clock);
    if (!a.load())
      return -1;
    a.tick();
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < n; ++i) {
      if (!a.allocate("c" + std::to_string(i), "eth0", ipam::FamilyChoice::kV4))
        return -1;
    }
    const double s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    rate = n / s;
  }
  std::filesystem::remove_all(dir);
  return rate;
}

struct SimPeer {
  ipam::MemoryStore store;
  weft::weftd::IpamChannel channel;
  std::unique_ptr<ipam::Allocator> alloc;
};

weft::test::MeshSimConfig sim_config(std::uint64_t seed, double loss) {
  return weft::test::lossy_mesh_config(seed, loss);
}

void start_peer(MeshSim& sim, std::vector<std::unique_ptr<SimPeer>>& peers, std::size_t i,
                ipam::AllocatorConfig c) {
  sim.start(i);
  auto p = std::make_unique<SimPeer>();
  auto& r = sim.router(i);
  p->channel.attach(r.register_channel(p->channel),
                    [&r](weft::router::PeerName n) { return r.routes().reachable(n); });
  p->alloc =
      std::make_unique<ipam::Allocator>(c, sim.name(i).value, p->store, p->channel, sim.clock());
  p->channel.set_allocator(*p->alloc);
  (void)p->alloc->load();
  peers[i] = std::move(p);
}

// Steps of 50 ms, allocator ticks every `tick`, until done() or the limit.
std::optional<Clock::Duration> run_until(MeshSim& sim, std::vector<std::unique_ptr<SimPeer>>& peers,
                                         const std::function<bool()>& done, Clock::Duration limit,
                                         Clock::Duration tick = 250ms) {
  Clock::Duration since_tick{};
  for (Clock::Duration t{}; t <= limit; t += 50ms) {
    if (done())
      return t;
    sim.run_for(50ms);
    since_tick += 50ms;
    if (since_tick >= tick) {
      since_tick = {};
      for (auto& p : peers) {
        if (p)
          p->alloc->tick();
      }
    }
  }
  return std::nullopt;
}

struct SimResult {
  double mesh_s = -1;  // when the mesh topology had converged (for reference)
  double ready_s = -1;
  double donation_ms = -1;
};

SimResult ring_ready(std::size_t n, std::uint64_t seed, double loss) {
  MeshSim sim(sim_config(seed, loss));
  sim.add_random_graph(n + 1, 2);
  std::vector<std::unique_ptr<SimPeer>> peers(n + 1);
  ipam::AllocatorConfig c;
  c.range_v4 = weft::parse_cidr("10.32.0.0/12").value();
  c.bootstrap.mode = ipam::BootstrapConfig::Mode::kConsensus;
  c.bootstrap.initial_peers = n;
  for (std::size_t i = 0; i < n; ++i)
    start_peer(sim, peers, i, c);
  SimResult out;
  std::vector<std::size_t> group;
  for (std::size_t i = 0; i < n; ++i)
    group.push_back(i);
  const auto t0 = sim.clock().now();
  auto ready = run_until(
      sim, peers,
      [&] {
        if (out.mesh_s < 0 && sim.check_topology(group).empty()) {
          out.mesh_s = std::chrono::duration<double>(sim.clock().now() - t0).count();
        }
        for (std::size_t i = 0; i < n; ++i) {
          if (!peers[i]->alloc->ready())
            return false;
        }
        return true;
      },
      120s);
  if (!ready)
    return out;
  out.ready_s = std::chrono::duration<double>(*ready).count();
  // An observer joins; its first allocation asks for a donation.
  c.bootstrap.mode = ipam::BootstrapConfig::Mode::kObserver;
  start_peer(sim, peers, n, c);
  auto& obs = *peers[n]->alloc;
  if (!run_until(
          sim, peers, [&] { return obs.ready() && obs.status().rings[0].peers.size() == n; },
          60s)) {
    return out;
  }
  (void)run_until(
      sim, peers, [&] { return obs.status().rings[0].peers.front().reachable; }, 30s);
  const auto asked = sim.clock().now();
  if (obs.allocate("bench", "eth0", ipam::FamilyChoice::kV4))
    return out;  // had space?
  auto got = run_until(
      sim, peers,
      [&] { return obs.allocate("bench", "eth0", ipam::FamilyChoice::kV4).has_value(); }, 30s);
  if (got) {
    out.donation_ms = std::chrono::duration<double, std::milli>(sim.clock().now() - asked).count();
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  int allocs = 5000;
  std::uint64_t seed = 1;
  double loss = 0.10;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string arg = argv[i];
    if (arg == "--allocs")
      allocs = std::atoi(argv[i + 1]);
    if (arg == "--seed")
      seed = std::strtoull(argv[i + 1], nullptr, 0);
    if (arg == "--loss")
      loss = std::atof(argv[i + 1]);
  }
  weft::log::set_level(weft::log::Level::kError);
  std::printf("bench_ipam seed=%llu loss=%.2f\n", static_cast<unsigned long long>(seed), loss);
  const double rate = durable_allocs_per_second(allocs);
  const auto three = ring_ready(3, seed, loss);
  const auto hundred = ring_ready(100, seed, loss);
  std::printf("| metric                                   | value      | goal      |\n");
  std::printf("|------------------------------------------|------------|-----------|\n");
  std::printf("| durable allocations/s (sqlite, 1 peer)   | %10.0f | >= 2000   |\n", rate);
  std::printf("| ring ready, 3 peers (virtual s)          | %10.2f |           |\n", three.ready_s);
  std::printf("| ring ready, 100 peers (virtual s)        | %10.2f | < 5       |\n",
              hundred.ready_s);
  std::printf("| (mesh formed: 3 / 100 peers, virtual s)  | %4.2f/%5.2f |           |\n",
              three.mesh_s, hundred.mesh_s);
  std::printf("| donation round trip, 3 peers (virt. ms)  | %10.1f |           |\n",
              three.donation_ms);
  std::printf("| donation round trip, 100 peers (virt. ms)| %10.1f |           |\n",
              hundred.donation_ms);
  return rate > 0 && three.ready_s >= 0 && hundred.ready_s >= 0 ? 0 : 1;
}
