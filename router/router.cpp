#include "router/router.hpp"

#include <algorithm>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/this_coro.hpp>

#include "common/host_port.hpp"
#include "common/log.hpp"
#include "router/gossip_codec.hpp"

namespace weft::router {

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;

namespace {

ConnectionMakerConfig maker_config(const RouterConfig& c) {
  return {.initial_backoff = c.initial_backoff,
          .max_backoff = c.max_backoff,
          .conn_limit = c.conn_limit,
          .discovery = c.discovery,
          .default_port = c.port};
}

// Where a peer accepts connections: the host it connected from (or we dialled) plus the
// listen port it announced.
std::string listen_address(const PeerInfo& info) {
  auto hp = parse_host_port(info.remote_address);
  if (!hp) {
    return info.remote_address;
  }
  hp->port = info.listen_port;
  return hp->to_string(info.listen_port);
}

asio::awaitable<bool> cancelled() {
  const auto state = co_await asio::this_coro::cancellation_state;
  co_return state.cancelled() != asio::cancellation_type::none;
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
  log::info("router starting", {{"peer", config_.name}, {"nickname", config_.nickname},
                                {"uid", config_.uid}, {"targets", targets.size()}});
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

std::optional<PeerName> Router::next_hop(PeerName dest) const { return routes().next_hop(dest); }

std::vector<PeerName> Router::broadcast_next_hops(PeerName source) const {
  return routes().broadcast_next_hops(source);
}

void Router::adopt(std::shared_ptr<MessageConn> conn, std::optional<std::string> target) {
  const PeerInfo info = conn->remote();
  if (info.name == config_.name) {
    conn->close("connected to ourselves");
    if (target) {
      maker_.dial_failed(*target, "connected to ourselves", clock_.now(), true);
    }
    return;
  }
  if (target) {
    maker_.dial_succeeded(*target, info.name);
  }
  const bool outbound = conn->outbound();
  if (auto it = conns_.find(info.name); it != conns_.end()) {
    Conn& old = it->second;
    const PeerName old_dialler = old.outbound ? config_.name : info.name;
    const PeerName new_dialler = outbound ? config_.name : info.name;
    // Keep the connection dialled by the lower name; same direction: the newer one.
    const bool keep_old = old_dialler != new_dialler && old_dialler < new_dialler &&
                          old.info.uid == info.uid;
    if (keep_old) {
      conn->close("duplicate connection");
      if (old.established) {
        maker_.peer_established(info.name);
      }
      return;
    }
    old.conn->close("duplicate connection");
    conns_.erase(it);
  }
  const std::uint64_t id = next_conn_id_++;
  Conn& c = conns_[info.name];
  c = Conn{.id = id,
           .conn = conn,
           .info = info,
           .address = listen_address(info),
           .outbound = outbound,
           .established = false};
  log::debug("connection up", {{"peer", info.name}, {"nickname", info.nickname},
                               {"outbound", outbound}, {"address", info.remote_address}});
  own_dirty_ = true;
  request_flush();
  // Our digests double as the first message the peer waits for.
  gossip_.neighbour_up(info.name);
  tasks_.spawn(receive_loop(std::move(conn), info.name, id), "receive");
  tasks_.spawn(heartbeat_loop(info.name, id), "heartbeat");
}

void Router::mark_established(Conn& c) {
  c.established = true;
  maker_.peer_established(c.info.name);
  own_dirty_ = true;
  request_flush();
}

void Router::on_message(PeerName peer, std::uint64_t id, std::span<const std::uint8_t> bytes) {
  auto it = conns_.find(peer);
  if (it == conns_.end() || it->second.id != id) {
    return;  // a connection on its way out
  }
  if (!it->second.established) {
    mark_established(it->second);
  }
  auto message = parse_message(bytes);
  if (!message) {
    log::debug("bad mesh message", {{"peer", peer}, {"error", message.error().to_string()}});
    return;
  }
  if (message->type == MessageType::kHeartbeat) {
    if ((message->flags & kHeartbeatPending) != 0) {
      send(peer, encode_message({.type = MessageType::kHeartbeat, .flags = 0}));
    }
    return;
  }
  gossip_.handle(peer, *message);
}

void Router::drop(PeerName peer, std::uint64_t id, std::string reason) {
  auto it = conns_.find(peer);
  if (it == conns_.end() || it->second.id != id) {
    return;
  }
  log::debug("connection down", {{"peer", peer}, {"reason", reason}});
  conns_.erase(it);
  if (stopping_) {
    return;
  }
  maker_.peer_lost(peer, std::move(reason), clock_.now());
  own_dirty_ = true;
  request_flush();
  dial_wake_.notify();
}

asio::awaitable<void> Router::accept_loop() {
  co_await asio::this_coro::throw_if_cancelled(false);
  for (;;) {
    auto conn = co_await transport_.accept();
    const bool cancel = co_await cancelled();
    if (stopping_ || cancel) {
      if (conn) {
        (*conn)->close("router stopping");
      }
      co_return;
    }
    if (!conn) {
      log::warn("accept failed", {{"error", conn.error().to_string()}});
      if (!co_await clock_.sleep_for(std::chrono::milliseconds(100))) {
        co_return;
      }
      continue;
    }
    adopt(std::shared_ptr<MessageConn>(std::move(*conn)), std::nullopt);
  }
}

asio::awaitable<void> Router::dial_loop() {
  co_await asio::this_coro::throw_if_cancelled(false);
  for (;;) {
    const auto now = clock_.now();
    for (std::string& address : maker_.take_due(now, open_count())) {
      ++dialing_;
      tasks_.spawn(dial(std::move(address)), "dial");
    }
    const auto next = maker_.next_due(open_count());
    Clock::Duration wait = std::chrono::hours(1);
    if (next && *next - clock_.now() < wait) {
      wait = std::max(Clock::Duration::zero(), *next - clock_.now());
    }
    co_await (clock_.sleep_for(wait) || dial_wake_.wait());
    const bool cancel = co_await cancelled();
    if (stopping_ || cancel) {
      co_return;
    }
  }
}

asio::awaitable<void> Router::dial(std::string address) {
  co_await asio::this_coro::throw_if_cancelled(false);
  auto conn = co_await transport_.dial(address);
  --dialing_;
  if (stopping_) {
    if (conn) {
      (*conn)->close("router stopping");
    }
    co_return;
  }
  if (!conn) {
    log::debug("dial failed", {{"address", address}, {"error", conn.error().message}});
    maker_.dial_failed(address, conn.error().message, clock_.now());
  } else if (maker_.find(address) == nullptr) {
    (*conn)->close("forgotten");  // `weft forget` while dialling
  } else {
    adopt(std::shared_ptr<MessageConn>(std::move(*conn)), address);
  }
  dial_wake_.notify();
}

asio::awaitable<void> Router::receive_loop(std::shared_ptr<MessageConn> conn, PeerName peer,
                                           std::uint64_t id) {
  co_await asio::this_coro::throw_if_cancelled(false);
  std::string reason;
  for (;;) {
    auto message = co_await conn->receive();
    if (!message) {
      reason = message.error().message;
      break;
    }
    on_message(peer, id, *message);
  }
  conn->close(reason);
  drop(peer, id, std::move(reason));
}

asio::awaitable<void> Router::heartbeat_loop(PeerName peer, std::uint64_t id) {
  co_await asio::this_coro::throw_if_cancelled(false);
  for (;;) {
    auto it = conns_.find(peer);
    if (stopping_ || it == conns_.end() || it->second.id != id || it->second.established) {
      co_return;
    }
    send(peer, encode_message({.type = MessageType::kHeartbeat, .flags = kHeartbeatPending}));
    if (!co_await clock_.sleep_for(config_.heartbeat_interval)) {
      co_return;
    }
  }
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
    const auto wait = base * 3 / 4 + Clock::Duration(static_cast<Clock::Duration::rep>(
                                          rng_.uniform(static_cast<std::uint64_t>(base.count()) / 2 + 1)));
    if (!co_await clock_.sleep_for(wait)) {
      co_return;
    }
    gossip_.anti_entropy();
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
    const auto dropped = topology_.drop_unreachable(routes());
    if (!dropped.empty()) {
      log::debug("peers unreachable, dropped", {{"count", dropped.size()}});
      // The dropped peers were unreachable: routes among the others stay valid.
      routes_generation_ = topology_.graph_generation();
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
