#include "router/router.hpp"

// Router: lifecycle, the operator's calls, what the gossip layer asks of us, and the
// batched flush (own record, garbage collection, observers, gossip deltas).
#include <boost/asio/this_coro.hpp>

#include "common/log.hpp"

namespace weft::router {

namespace asio = boost::asio;

namespace {

ConnectionMakerConfig maker_config(const RouterConfig& c) {
  return {.initial_backoff = c.initial_backoff,
          .max_backoff = c.max_backoff,
          .conn_limit = c.conn_limit,
          .discovery = c.discovery,
          .default_port = c.port};
}

}  // namespace

Router::Router(asio::any_io_executor executor, Clock& clock, Rng& rng, Transport& transport,
               RouterConfig config)
    : executor_(executor),
      clock_(clock),
      rng_(rng),
      transport_(transport),
      config_(std::move(config)),
      topology_(PeerRecord{.name = config_.name,
                           .nickname = config_.nickname,
                           .uid = config_.uid,
                           .version = 1,
                           .connections = {}}),
      topology_channel_(topology_),
      routes_(topology_, config_.name),
      routes_generation_(topology_.graph_generation()),
      gc_generation_(topology_.reachability_generation()),
      topology_generation_(topology_.generation()),
      gossip_(*this, rng),
      maker_(maker_config(config_), rng),
      dial_wake_(executor),
      flush_wake_(executor),
      tasks_(executor) {
  gossip_.add_channel(topology_channel_);
}

Router::~Router() = default;

Result<void> Router::start(std::vector<std::string> targets) {
  for (const auto& t : targets) {
    WEFT_TRY_VOID(normalize_address(t, config_.port));
  }
  for (const auto& t : targets) {
    (void)maker_.add(t, clock_.now());
  }
  if (started_) {
    dial_wake_.notify();
    return {};
  }
  started_ = true;
  log::info("router starting", {{"peer", config_.name},
                                {"nickname", config_.nickname},
                                {"uid", config_.uid},
                                {"targets", targets.size()}});
  tasks_.spawn(accept_loop(), "accept");
  tasks_.spawn(dial_loop(), "dial loop");
  tasks_.spawn(flush_loop(), "gossip flush");
  tasks_.spawn(anti_entropy_loop(), "anti-entropy");
  return {};
}

asio::awaitable<void> Router::stop() {
  stopping_ = true;
  for (auto& [name, c] : conns_) {
    c.conn->close("router stopping");
  }
  tasks_.cancel();
  co_await tasks_.join();
  conns_.clear();
}

Result<void> Router::connect(std::vector<std::string> targets) {
  for (const auto& t : targets) {
    WEFT_TRY_VOID(normalize_address(t, config_.port));
  }
  for (const auto& t : targets) {
    (void)maker_.add(t, clock_.now());
  }
  dial_wake_.notify();
  return {};
}

void Router::forget(std::vector<std::string> targets) {
  for (const auto& t : targets) {
    auto gone = maker_.forget(t);
    if (gone.peer) {
      if (auto it = conns_.find(*gone.peer); it != conns_.end()) {
        it->second.conn->close("forgotten");
      }
    }
  }
}

void Router::on_topology_changed(std::function<void()> callback) {
  on_topology_changed_ = std::move(callback);
}

GossipSender& Router::register_channel(GossipChannel& channel) {
  gossip_.add_channel(channel);
  return gossip_;
}

std::vector<PeerName> Router::neighbours() const {
  std::vector<PeerName> out;
  out.reserve(conns_.size());
  for (const auto& [name, c] : conns_) {
    if (c.established) {
      out.push_back(name);
    }
  }
  return out;
}

bool Router::send(PeerName neighbour, std::vector<std::uint8_t> message) {
  auto it = conns_.find(neighbour);
  if (it == conns_.end()) {
    return false;
  }
  auto sent = it->second.conn->send(std::move(message));
  if (!sent) {
    // The receive loop notices the close and drops the connection.
    it->second.conn->close(fmt::format("send failed: {}", sent.error().message));
    return false;
  }
  return true;
}

const Routes& Router::routes() const {
  if (routes_generation_ != topology_.graph_generation()) {
    routes_ = Routes(topology_, config_.name);
    routes_generation_ = topology_.graph_generation();
  }
  return routes_;
}

std::optional<PeerName> Router::next_hop(PeerName dest) const {
  return routes().next_hop(dest);
}

std::vector<PeerName> Router::broadcast_next_hops(PeerName source) const {
  return routes().broadcast_next_hops(source);
}

asio::awaitable<void> Router::flush_loop() {
  co_await asio::this_coro::throw_if_cancelled(false);
  for (;;) {
    // GCC 12 miscompiles co_await inside `||`: one await per statement.
    const bool woken = co_await flush_wake_.wait();
    if (!woken) {
      co_return;
    }
    const bool slept = co_await clock_.sleep_for(config_.gossip_delay);
    if (!slept) {
      co_return;
    }
    flush_wake_.reset();
    flush_now();
  }
}

asio::awaitable<void> Router::anti_entropy_loop() {
  co_await asio::this_coro::throw_if_cancelled(false);
  for (;;) {
    // Jitter (0.75-1.25 of the interval) keeps peers from exchanging in lockstep.
    const auto base = config_.gossip_interval;
    const auto wait = base * 3 / 4 + Clock::Duration(static_cast<Clock::Duration::rep>(rng_.uniform(
                                         static_cast<std::uint64_t>(base.count()) / 2 + 1)));
    if (!co_await clock_.sleep_for(wait)) {
      co_return;
    }
    gossip_.anti_entropy();
  }
}

void Router::set_datapath_info(std::vector<std::uint8_t> info) {
  if (topology_.set_own_datapath(std::move(info))) {
    topology_channel_.own_record_changed();
    flush_wake_.notify();
  }
}

void Router::flush_now() {
  if (own_dirty_) {
    own_dirty_ = false;
    if (topology_.set_own_connections(own_connections())) {
      topology_channel_.own_record_changed();
    }
  }
  // Garbage collection only when a peer may have become unreachable: most updates during
  // convergence add edges or bump versions. Routes are recomputed lazily (routes()).
  if (topology_.reachability_generation() != gc_generation_) {
    const auto dropped = topology_.garbage_collect();
    if (!dropped.empty()) {
      log::debug("peers unreachable, dropped", {{"count", dropped.size()}});
    }
    gc_generation_ = topology_.reachability_generation();
  }
  if (topology_.generation() != topology_generation_) {
    topology_generation_ = topology_.generation();
    refresh_discovered();
    if (on_topology_changed_) {
      on_topology_changed_();
    }
  }
  gossip_.flush();
}

}  // namespace weft::router
