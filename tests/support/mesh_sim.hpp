// MeshSim: many Routers on one io_context, a VirtualClock and a SimMeshNet, with helpers
// to build random graphs, restart peers, partition the network and check convergence.
// Used by tests/sim/mesh_sim_test.cpp and bench/mesh_bench.cpp.
//
// Contract: single-threaded. Peer i lives at host 10.x.y.z:6783 (x.y.z from i + 1) with a
// random 48-bit name; every (re)start gives it a new uid. Everything is derived from the
// seed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "common/rng.hpp"
#include "router/router.hpp"
#include "tests/support/sim_transport.hpp"
#include "tests/support/virtual_clock.hpp"

namespace weft::test {

struct MeshSimConfig {
  std::uint64_t seed = 1;
  SimMeshConfig net;
  // Template for every router (name, nickname and uid are filled in per peer).
  router::RouterConfig router;
};

// The settings the simulations and benchmarks share: `loss` message loss, 2 ms latency,
// 5 s keepalive, 3 s dial timeout, no discovery, 50 ms gossip batching, 2 s anti-entropy,
// 0.5-8 s backoff.
MeshSimConfig lossy_mesh_config(std::uint64_t seed, double loss = 0.10);

// WEFT_SIM_SEED when set (to replay a failure), else `fallback`.
std::uint64_t sim_seed(std::uint64_t fallback);

class MeshSim {
 public:
  explicit MeshSim(MeshSimConfig config);
  ~MeshSim();
  MeshSim(const MeshSim&) = delete;
  MeshSim& operator=(const MeshSim&) = delete;

  // Adds a peer that will dial the given peers (indices); returns its index. Not started.
  std::size_t add_peer(std::vector<std::size_t> targets);
  // Adds `n` peers: peer i targets peer i-1 (a spanning chain) and `extra` random others.
  void add_random_graph(std::size_t n, std::size_t extra);

  void start(std::size_t i);    // a new Router (new uid) on peer i's host
  void stop(std::size_t i);     // stops and destroys it; the host goes down
  void restart(std::size_t i);  // stop + start
  bool alive(std::size_t i) const { return peers_[i].router != nullptr; }
  std::vector<std::size_t> live() const;

  // Runs for `d` of virtual time.
  void run_for(Clock::Duration d);
  // Runs in steps of `step` until `done()` holds (checked after each step) or `limit`
  // passed; returns the virtual time it took.
  std::optional<Clock::Duration> run_until(const std::function<bool()>& done, Clock::Duration limit,
                                           Clock::Duration step = std::chrono::milliseconds(100));

  // Empty when the live peers in `group` agree on a topology that is exactly `group`, with
  // every record current (the owner's version and uid) and every connection established
  // at both ends; otherwise the first difference found.
  std::string check_topology(const std::vector<std::size_t>& group) const;
  // Empty when, between every pair in `group`, following next hops reaches the destination
  // over neighbours without revisiting a peer; with `broadcast`, also when every source's
  // broadcast tree reaches every other peer of the group exactly once.
  std::string check_routes(const std::vector<std::size_t>& group, bool broadcast) const;

  // Splits the network: hosts of peers in `groups[k]` form group k.
  void partition(const std::vector<std::vector<std::size_t>>& groups);
  void heal() { net_.heal(); }

  std::size_t size() const { return peers_.size(); }
  router::Router& router(std::size_t i) { return *peers_[i].router; }
  const router::Router& router(std::size_t i) const { return *peers_[i].router; }
  router::PeerName name(std::size_t i) const { return peers_[i].name; }
  SimTransport& host(std::size_t i) { return *peers_[i].host; }
  SimMeshNet& net() { return net_; }
  VirtualClock& clock() { return clock_; }
  boost::asio::io_context& io() { return io_; }
  Rng& rng() { return rng_; }

 private:
  struct Peer {
    std::string address;
    router::PeerName name;
    std::vector<std::size_t> targets;
    SimTransport* host = nullptr;
    std::uint64_t incarnation = 0;
    std::unique_ptr<SeededRng> rng;
    std::unique_ptr<router::Router> router;
  };
  std::size_t index_of(router::PeerName name) const;
  // Order-independent hash of a record set's (name, version, uid), cached per topology
  // generation so that checking N peers does not cost N^2 while they still disagree.
  std::uint64_t fingerprint(std::size_t i) const;

  MeshSimConfig config_;
  VirtualClock clock_;
  boost::asio::io_context io_;
  SeededRng rng_;
  SimMeshNet net_;
  std::vector<Peer> peers_;
  std::unordered_map<router::PeerName, std::size_t> by_name_;
  struct Fingerprint {
    std::uint64_t uid = 0;
    std::uint64_t generation = 0;
    std::uint64_t value = 0;
  };
  mutable std::vector<Fingerprint> fingerprints_;
};

}  // namespace weft::test
