// Mesh benchmark: N simulated peers (one process, virtual clock, 10% message loss) on a
// random connected graph (a spanning chain plus 3 random targets each, no discovery).
// For each N: virtual time for the mesh to form; to converge after one peer joins; for the
// halves to settle after a partition; to converge after the partition heals; messages and
// bytes sent per peer in the join and heal phases and per second when idle; heap and
// topology state per peer; and the real time the simulation took.
//
// Usage: bench_mesh [--peers 10,100,1000] [--seed N] [--loss 0.1]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "common/log.hpp"
#include "tests/support/mesh_sim.hpp"
#include <malloc.h>

namespace {

using namespace std::chrono_literals;
using weft::Clock;
using weft::test::MeshSim;
using weft::test::MeshSimConfig;

struct Options {
  std::vector<std::size_t> peers{10, 100, 1000};
  std::uint64_t seed = 1;
  double loss = 0.10;
};

struct Row {
  std::size_t peers = 0;
  double form_s = -1, join_s = -1, split_s = -1, heal_s = -1;
  double join_msgs = 0, join_kb = 0, heal_msgs = 0, heal_kb = 0, idle_msgs = 0, idle_kb = 0;
  double heap_kb = 0, topo_kb = 0, real_s = 0;
  double heal_update_kb = 0, heal_digest_kb = 0;
  std::string routes = "ok";
};

std::size_t heap_in_use() {
  return mallinfo2().uordblks;
}

double secs(std::optional<Clock::Duration> d) {
  return d ? std::chrono::duration<double>(*d).count() : -1.0;
}

std::vector<std::size_t> range(std::size_t from, std::size_t to) {
  std::vector<std::size_t> v;
  for (std::size_t i = from; i < to; ++i) {
    v.push_back(i);
  }
  return v;
}

std::optional<Clock::Duration> converge(MeshSim& sim,
                                        const std::vector<std::vector<std::size_t>>& groups,
                                        Clock::Duration limit) {
  return sim.run_until(
      [&] {
        for (const auto& g : groups) {
          if (!sim.check_topology(g).empty()) {
            return false;
          }
        }
        return true;
      },
      limit, 20ms);
}

void reset_stats(MeshSim& sim) {
  for (std::size_t i = 0; i < sim.size(); ++i) {
    sim.host(i).reset_stats();
  }
}

// Gossip bytes (updates, digests) sent by all routers so far.
std::pair<std::uint64_t, std::uint64_t> gossip_bytes(MeshSim& sim) {
  std::uint64_t updates = 0;
  std::uint64_t digests = 0;
  for (std::size_t i : sim.live()) {
    updates += sim.router(i).gossip_stats().update_bytes_sent;
    digests += sim.router(i).gossip_stats().digest_bytes_sent;
  }
  return {updates, digests};
}

// Messages and kilobytes sent per peer since the last reset.
std::pair<double, double> per_peer(MeshSim& sim) {
  const auto t = sim.net().totals();
  const double n = static_cast<double>(sim.size());
  return {static_cast<double>(t.messages_sent) / n, static_cast<double>(t.bytes_sent) / 1024.0 / n};
}

Row run(std::size_t n, const Options& opt) {
  const auto real_start = std::chrono::steady_clock::now();
  Row row;
  row.peers = n;
  const MeshSimConfig c = weft::test::lossy_mesh_config(opt.seed * 1000003 + n, opt.loss);

  const std::size_t heap_before = heap_in_use();
  MeshSim sim(c);
  sim.add_random_graph(n, 3);
  for (std::size_t i = 0; i < n; ++i) {
    sim.start(i);
  }
  row.form_s = secs(converge(sim, {range(0, n)}, 120s));

  // Join: one more peer dialling three random members.
  reset_stats(sim);
  std::vector<std::size_t> targets;
  for (int k = 0; k < 3; ++k) {
    targets.push_back(sim.rng().uniform(n));
  }
  const std::size_t joiner = sim.add_peer(targets);
  sim.start(joiner);
  const auto everyone = range(0, n + 1);
  row.join_s = secs(converge(sim, {everyone}, 120s));
  std::tie(row.join_msgs, row.join_kb) = per_peer(sim);

  // Idle: anti-entropy and nothing else.
  sim.run_for(1s);
  reset_stats(sim);
  sim.run_for(10s);
  std::tie(row.idle_msgs, row.idle_kb) = per_peer(sim);
  row.idle_msgs /= 10;
  row.idle_kb /= 10;
  row.heap_kb =
      static_cast<double>(heap_in_use() - heap_before) / 1024.0 / static_cast<double>(n + 1);
  std::size_t topo = 0;
  for (std::size_t i : everyone) {
    topo += sim.router(i).topology().memory_bytes();
  }
  row.topo_kb = static_cast<double>(topo) / 1024.0 / static_cast<double>(n + 1);
  const bool small = n <= 100;
  std::string why = sim.check_routes(everyone, small);
  if (!why.empty()) {
    row.routes = why;
  }

  // Partition into halves (both connected through the chain), then heal.
  // The joiner goes with its first target so that its half stays connected.
  auto left = range(0, n / 2);
  auto right = range(n / 2, n);
  (targets[0] < n / 2 ? left : right).push_back(joiner);
  sim.partition({left, right});
  row.split_s = secs(converge(sim, {left, right}, 120s));
  reset_stats(sim);
  const auto before = gossip_bytes(sim);
  sim.heal();
  row.heal_s = secs(converge(sim, {everyone}, 120s));
  std::tie(row.heal_msgs, row.heal_kb) = per_peer(sim);
  const auto after = gossip_bytes(sim);
  const double peers = static_cast<double>(n + 1) * 1024.0;
  row.heal_update_kb = static_cast<double>(after.first - before.first) / peers;
  row.heal_digest_kb = static_cast<double>(after.second - before.second) / peers;
  why = sim.check_routes(everyone, small);
  if (!why.empty() && row.routes == "ok") {
    row.routes = why;
  }
  row.real_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - real_start).count();
  return row;
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const std::string value = argv[i + 1];
    if (flag == "--peers") {
      o.peers.clear();
      std::stringstream ss(value);
      for (std::string item; std::getline(ss, item, ',');) {
        o.peers.push_back(std::stoul(item));
      }
    } else if (flag == "--seed") {
      o.seed = std::stoull(value);
    } else if (flag == "--loss") {
      o.loss = std::stod(value);
    } else {
      std::fprintf(stderr, "usage: bench_mesh [--peers 10,100,1000] [--seed N] [--loss P]\n");
      std::exit(2);
    }
  }
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  const Options opt = parse(argc, argv);
  weft::log::set_level(weft::log::Level::kError);
  std::printf(
      "mesh benchmark: seed %llu, %.0f%% message loss, 2 ms latency, random graph "
      "(chain + 3 random targets per peer), gossip delay 50 ms, anti-entropy 2 s,\n"
      "keepalive 5 s, backoff 0.5-8 s. Times are virtual seconds to full convergence "
      "(every peer holds every current record); -1 = not within 120 s.\n\n",
      static_cast<unsigned long long>(opt.seed), opt.loss * 100);
  std::printf("%6s %7s %7s %7s %7s | %9s %9s | %9s %9s | %9s %9s | %8s %8s | %7s %s\n", "peers",
              "form s", "join s", "split s", "heal s", "join msg", "join KB", "heal msg", "heal KB",
              "idle msg/s", "idle KB/s", "heap KB", "topo KB", "real s", "routes");
  std::fflush(stdout);
  for (std::size_t n : opt.peers) {
    const Row r = run(n, opt);
    std::printf(
        "%6zu %7.2f %7.2f %7.2f %7.2f | %9.1f %9.1f | %9.1f %9.1f | %10.2f %9.2f | %8.1f "
        "%8.1f | %7.1f %s\n",
        r.peers, r.form_s, r.join_s, r.split_s, r.heal_s, r.join_msgs, r.join_kb, r.heal_msgs,
        r.heal_kb, r.idle_msgs, r.idle_kb, r.heap_kb, r.topo_kb, r.real_s, r.routes.c_str());
    std::printf("       heal KB per peer: %.1f in updates, %.1f in digests\n", r.heal_update_kb,
                r.heal_digest_kb);
    std::fflush(stdout);
  }
  std::printf(
      "\nmsg/KB columns: sent per peer during the join / heal phase (until convergence) "
      "and per second when idle; heap KB: process heap growth per peer (routers, "
      "connections, simulator); topo KB: topology records per peer.\n");
  return 0;
}
