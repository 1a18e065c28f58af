// Router: connections (adopting dialled and accepted ones, duplicate resolution, the
// receive and heartbeat loops) and the accept and dial loops.
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/this_coro.hpp>

#include "common/host_port.hpp"
#include "common/log.hpp"
#include "router/gossip_codec.hpp"
#include "router/router.hpp"

namespace weft::router {

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;

namespace {

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
    const bool keep_old =
        old_dialler != new_dialler && old_dialler < new_dialler && old.info.uid == info.uid;
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
  log::debug("connection up", {{"peer", info.name},
                               {"nickname", info.nickname},
                               {"outbound", outbound},
                               {"address", info.remote_address}});
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

}  // namespace weft::router
