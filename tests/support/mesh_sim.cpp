#include "tests/support/mesh_sim.hpp"

#include <algorithm>
#include <cstdlib>
#include <set>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include <fmt/format.h>

namespace weft::test {

namespace asio = boost::asio;
using router::PeerName;

MeshSim::MeshSim(MeshSimConfig config)
    : config_(std::move(config)),
      rng_(config_.seed),
      net_(io_.get_executor(), clock_, rng_, config_.net) {}

MeshSim::~MeshSim() {
  for (std::size_t i = 0; i < peers_.size(); ++i) {
    if (alive(i)) {
      stop(i);
    }
  }
  // Let cancelled tasks (of the network) finish before the io_context goes.
  io_.restart();
  io_.poll();
}

std::size_t MeshSim::add_peer(std::vector<std::size_t> targets) {
  const std::size_t i = peers_.size();
  Peer p;
  const std::size_t n = i + 1;
  p.address = fmt::format("10.{}.{}.{}:6783", (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff);
  do {
    p.name = PeerName{rng_.next_u64() & PeerName::kMask};
  } while (p.name.empty() || by_name_.contains(p.name));
  p.targets = std::move(targets);
  p.host = &net_.add_host(p.address);
  p.host->set_up(false);
  by_name_.emplace(p.name, i);
  peers_.push_back(std::move(p));
  return i;
}

void MeshSim::add_random_graph(std::size_t n, std::size_t extra) {
  const std::size_t base = peers_.size();
  for (std::size_t k = 0; k < n; ++k) {
    std::vector<std::size_t> targets;
    if (k > 0) {
      targets.push_back(base + k - 1);
    }
    for (std::size_t e = 0; e < extra && n > 1; ++e) {
      std::size_t t = base + rng_.uniform(n);
      if (t != base + k && std::find(targets.begin(), targets.end(), t) == targets.end()) {
        targets.push_back(t);
      }
    }
    add_peer(std::move(targets));
  }
}

void MeshSim::start(std::size_t i) {
  Peer& p = peers_[i];
  BOOST_ASSERT(p.router == nullptr);
  ++p.incarnation;
  router::RouterConfig rc = config_.router;
  rc.name = p.name;
  rc.nickname = fmt::format("peer-{}", i);
  rc.uid = rng_.next_u64() | 1;
  p.rng = std::make_unique<SeededRng>(rng_.next_u64());
  p.host->set_identity(rc.name, rc.nickname, rc.uid);
  p.host->set_up(true);
  p.router = std::make_unique<router::Router>(io_.get_executor(), clock_, *p.rng, *p.host, rc);
  std::vector<std::string> targets;
  for (std::size_t t : p.targets) {
    targets.push_back(peers_[t].address);
  }
  auto started = p.router->start(std::move(targets));
  BOOST_ASSERT(started);
  (void)started;
}

void MeshSim::stop(std::size_t i) {
  Peer& p = peers_[i];
  BOOST_ASSERT(p.router != nullptr);
  bool done = false;
  asio::co_spawn(
      io_,
      [](router::Router* r, bool* d) -> asio::awaitable<void> {
        co_await r->stop();
        *d = true;
      }(p.router.get(), &done),
      asio::detached);
  clock_.run_until(
      io_, [&] { return done; }, std::chrono::seconds(10));
  BOOST_ASSERT(done);
  p.router.reset();
  p.host->set_up(false);
}

void MeshSim::restart(std::size_t i) {
  stop(i);
  start(i);
}

std::vector<std::size_t> MeshSim::live() const {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < peers_.size(); ++i) {
    if (alive(i)) {
      out.push_back(i);
    }
  }
  return out;
}

void MeshSim::run_for(Clock::Duration d) {
  const auto end = clock_.now() + d;
  clock_.run_until(
      io_, [] { return false; }, d);
  clock_.advance_to(end);
  io_.restart();
  io_.poll();
}

std::optional<Clock::Duration> MeshSim::run_until(const std::function<bool()>& done,
                                                  Clock::Duration limit, Clock::Duration step) {
  const auto start = clock_.now();
  while (clock_.now() - start <= limit) {
    if (done()) {
      return clock_.now() - start;
    }
    run_for(step);
  }
  return std::nullopt;
}

void MeshSim::partition(const std::vector<std::vector<std::size_t>>& groups) {
  std::map<std::string, int> group_of;
  for (std::size_t g = 0; g < groups.size(); ++g) {
    for (std::size_t i : groups[g]) {
      group_of[peers_[i].host->host()] = static_cast<int>(g);
    }
  }
  net_.partition(group_of);
}

std::size_t MeshSim::index_of(PeerName name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? peers_.size() : it->second;
}

namespace {

std::uint64_t mix(std::uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  return x ^ (x >> 33);
}

std::uint64_t stamp_hash(PeerName name, std::uint64_t version, std::uint64_t uid) {
  return mix(name.value ^ mix(version ^ mix(uid)));
}

}  // namespace

std::uint64_t MeshSim::fingerprint(std::size_t i) const {
  if (fingerprints_.size() < peers_.size()) {
    fingerprints_.resize(peers_.size());
  }
  const auto& t = router(i).topology();
  Fingerprint& f = fingerprints_[i];
  if (f.uid != router(i).uid() || f.generation != t.generation()) {
    f.uid = router(i).uid();
    f.generation = t.generation();
    f.value = 0;
    for (const auto& [name, r] : t.records()) {
      f.value += stamp_hash(name, r.version, r.uid);
    }
  }
  return f.value;
}

std::string MeshSim::check_topology(const std::vector<std::size_t>& group) const {
  const std::set<std::size_t> members(group.begin(), group.end());
  for (std::size_t i : group) {
    if (!alive(i)) {
      return fmt::format("peer {} is not running", i);
    }
    // The owner's record: every connection established, symmetric, inside the group.
    const router::PeerRecord& own = router(i).topology().self();
    for (const auto& c : own.connections) {
      const std::size_t j = index_of(c.name);
      if (!c.established) {
        return fmt::format("peer {}: connection to {} still pending", i, j);
      }
      if (!members.contains(j) || !alive(j) ||
          !router(j).topology().self().lists_established(own.name)) {
        return fmt::format("peer {}: connection to {} is one-sided or leaves the group", i, j);
      }
    }
  }
  // Cheap test first: every view's fingerprint against the owners' current records.
  std::uint64_t expected = 0;
  for (std::size_t j : group) {
    const router::PeerRecord& current = router(j).topology().self();
    expected += stamp_hash(current.name, current.version, current.uid);
  }
  std::vector<std::size_t> order;
  for (std::size_t i : group) {
    if (fingerprint(i) != expected || router(i).topology().size() != group.size()) {
      order.push_back(i);  // explain this one
      break;
    }
  }
  if (order.empty()) {
    order = group;  // all fingerprints agree: verify in full
  }
  for (std::size_t i : order) {
    const auto& records = router(i).topology().records();
    if (records.size() != group.size()) {
      return fmt::format("peer {} knows {} peers, expected {}", i, records.size(), group.size());
    }
    for (const auto& [name, r] : records) {
      const std::size_t j = index_of(name);
      if (!members.contains(j)) {
        return fmt::format("peer {} still holds peer {} outside its group", i, j);
      }
      const router::PeerRecord& current = router(j).topology().self();
      if (r.uid != current.uid || r.version != current.version) {
        return fmt::format("peer {} holds peer {} at version {} uid {:x}, current {} uid {:x}", i,
                           j, r.version, r.uid, current.version, current.uid);
      }
      if (r.connections != current.connections) {
        return fmt::format("peer {} holds a different record content for peer {}", i, j);
      }
    }
  }
  if (order.size() != group.size()) {
    return fmt::format("peer {} does not hold the current records of its group", order[0]);
  }
  return {};
}

std::string MeshSim::check_routes(const std::vector<std::size_t>& group, bool broadcast) const {
  for (std::size_t s : group) {
    for (std::size_t d : group) {
      if (s == d) {
        continue;
      }
      std::set<std::size_t> visited{s};
      std::size_t cur = s;
      while (cur != d) {
        const auto& routes = router(cur).routes();
        auto hop = routes.next_hop(name(d));
        if (!hop) {
          return fmt::format("no route from {} to {} (at {})", s, d, cur);
        }
        const auto& nb = routes.neighbours();
        if (!std::binary_search(nb.begin(), nb.end(), *hop)) {
          return fmt::format("route {}->{}: next hop at {} is not a neighbour", s, d, cur);
        }
        cur = index_of(*hop);
        if (cur >= peers_.size() || !alive(cur) || !visited.insert(cur).second) {
          return fmt::format("route {}->{} loops or leaves the group at {}", s, d, cur);
        }
      }
    }
  }
  if (!broadcast) {
    return {};
  }
  for (std::size_t s : group) {
    std::map<std::size_t, int> received;
    std::vector<std::size_t> queue{s};
    for (std::size_t head = 0; head < queue.size(); ++head) {
      for (PeerName to : router(queue[head]).routes().broadcast_next_hops(name(s))) {
        const std::size_t t = index_of(to);
        if (++received[t] == 1 && t < peers_.size() && alive(t)) {
          queue.push_back(t);
        }
      }
    }
    for (std::size_t d : group) {
      const int want = d == s ? 0 : 1;
      const int got = received.contains(d) ? received[d] : 0;
      if (got != want) {
        return fmt::format("broadcast from {} reaches {} {} times", s, d, got);
      }
    }
    if (received.size() != group.size() - 1) {
      return fmt::format("broadcast from {} reaches peers outside the group", s);
    }
  }
  return {};
}

MeshSimConfig lossy_mesh_config(std::uint64_t seed, double loss) {
  using namespace std::chrono_literals;
  MeshSimConfig c;
  c.seed = seed;
  c.net.loss = loss;
  c.net.latency = 2ms;
  c.net.keepalive_timeout = 5s;
  c.net.dial_timeout = 3s;
  c.router.discovery = false;
  c.router.gossip_delay = 50ms;
  c.router.gossip_interval = 2s;
  c.router.initial_backoff = 500ms;
  c.router.max_backoff = 8s;
  return c;
}

std::uint64_t sim_seed(std::uint64_t fallback) {
  if (const char* s = std::getenv("WEFT_SIM_SEED")) {
    return std::strtoull(s, nullptr, 0);
  }
  return fallback;
}

}  // namespace weft::test
