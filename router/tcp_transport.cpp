// Design note: the accept loop does only cheap checks (rate limit per source address, caps
// on handshakes in flight and on unclaimed connections) before a handshake task starts, so
// that a connection flood costs an accept() and a close(), not key exchanges. Every
// handshake races a timer on the injected Clock; the timeout is counted here, the other
// failures by the handshake itself.
#include "router/tcp_transport.hpp"

#include <algorithm>
#include <deque>
#include <exception>
#include <optional>
#include <set>
#include <utility>
#include <variant>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/host_port.hpp"
#include "common/log.hpp"
#include "common/tcp_stream.hpp"

namespace weft::router {

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;

RateLimiter::RateLimiter(double rate, double burst, std::size_t max_keys)
    : rate_(rate), burst_(std::max(burst, 1.0)), max_keys_(max_keys) {}

double RateLimiter::refill(Bucket& b, Clock::TimePoint now) const {
  const double secs = std::chrono::duration<double>(now - b.last).count();
  b.tokens = std::min(burst_, b.tokens + std::max(secs, 0.0) * rate_);
  b.last = now;
  return b.tokens;
}

bool RateLimiter::allow(const std::string& key, Clock::TimePoint now) {
  auto it = buckets_.find(key);
  if (it == buckets_.end()) {
    if (buckets_.size() >= max_keys_) {
      for (auto i = buckets_.begin(); i != buckets_.end();) {
        i = refill(i->second, now) >= burst_ ? buckets_.erase(i) : std::next(i);
      }
      if (buckets_.size() >= max_keys_) {
        buckets_.clear();  // fail open rather than grow without bound
      }
    }
    it = buckets_.emplace(key, Bucket{burst_, now}).first;
  }
  if (refill(it->second, now) < 1.0) {
    return false;
  }
  it->second.tokens -= 1.0;
  return true;
}

struct TcpTransport::State {
  State(asio::any_io_executor ex, Clock& c, std::shared_ptr<const HandshakeConfig> cfg,
        TcpTransportOptions o, std::shared_ptr<TransportStats> s)
      : executor(ex),
        clock(&c),
        config(std::move(cfg)),
        options(std::move(o)),
        stats(std::move(s)),
        limiter(options.accept_rate, options.accept_burst),
        accept_wakeup(ex) {}

  asio::any_io_executor executor;
  Clock* clock;
  std::shared_ptr<const HandshakeConfig> config;
  TcpTransportOptions options;
  std::shared_ptr<TransportStats> stats;
  std::optional<tcp::acceptor> acceptor;
  Endpoint local;
  RateLimiter limiter;
  std::size_t handshakes = 0;
  std::deque<std::unique_ptr<MessageConn>> unclaimed;
  Wakeup accept_wakeup;
  bool closed = false;
  // Streams in a handshake (both directions): close() closes them, which ends their
  // handshakes at once. (No cancellation signals: asio throws out of the io_context when a
  // co_spawn'ed coroutine is cancelled before it first ran.)
  std::set<ByteStream*> handshaking;
};

namespace {

using State = TcpTransport::State;

// One line per new connection, saying plainly how it is protected: always encrypted;
// password-bound or not; authenticated by a static key or not.
void log_established(const PeerInfo& peer, const char* direction) {
  log::info("connection established",
            {{"peer", peer.remote_address},
             {"name", peer.name},
             {"nickname", peer.nickname},
             {"direction", direction},
             {"encrypted", "yes"},
             {"password_bound", peer.encrypted ? "yes" : "no"},
             {"peer_key", peer.static_key ? key_to_base64(*peer.static_key) : "none"}});
}

long long millis(Clock::Duration d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

// Starts a transport task; an exception (a bug) is logged, not thrown out of the io_context.
void spawn(const asio::any_io_executor& ex, asio::awaitable<void> task, const char* name) {
  asio::co_spawn(ex, std::move(task), [name](std::exception_ptr e) {
    if (!e) {
      return;
    }
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      log::error("transport task ended with an exception", {{"task", name}, {"error", x.what()}});
    }
  });
}

asio::awaitable<Result<Session>> handshake_with_timeout(std::shared_ptr<State> s,
                                                        ByteStream& stream, Role role) {
  if (s->closed) {
    co_return make_error(Errc::kCancelled, "transport closed");
  }
  s->handshaking.insert(&stream);
  auto r = co_await (run_handshake(stream, role, s->config, s->stats) ||
                     s->clock->sleep_for(s->options.handshake_timeout));
  s->handshaking.erase(&stream);
  if (r.index() == 0) {
    auto session = std::get<0>(std::move(r));
    if (session && s->closed) {
      co_return make_error(Errc::kCancelled, "transport closed");
    }
    co_return session;
  }
  ++s->stats->handshake_failed_timeout;
  const std::string remote = endpoint_text(stream.remote_endpoint());
  log::warn(
      "handshake failed",
      {{"peer", remote},
       {"reason", fmt::format("timed out after {} ms", millis(s->options.handshake_timeout))}});
  co_return make_error(Errc::kTimeout, "handshake with {} timed out after {} ms", remote,
                       millis(s->options.handshake_timeout));
}

asio::awaitable<void> incoming(std::shared_ptr<State> s, tcp::socket socket) {
  auto stream = std::make_unique<TcpByteStream>(std::move(socket));
  ++s->handshakes;
  auto session = co_await handshake_with_timeout(s, *stream, Role::kAcceptor);
  --s->handshakes;
  if (!session || s->closed) {
    stream->close();
    co_return;
  }
  log_established(session->peer, "in");
  s->unclaimed.push_back(std::make_unique<SecureConn>(s->executor, std::move(stream),
                                                      std::move(*session), false, *s->clock,
                                                      s->stats, s->options.connection));
  s->accept_wakeup.notify();
}

asio::awaitable<void> accept_loop(std::shared_ptr<State> s) {
  for (;;) {
    auto [ec, socket] = co_await s->acceptor->async_accept(asio::as_tuple(asio::use_awaitable));
    if (s->closed || ec == asio::error::operation_aborted) {
      co_return;
    }
    if (ec) {
      // Out of file descriptors and the like: log, pause briefly, keep serving.
      log::warn("accept failed", {{"error", ec.message()}});
      const bool slept = co_await s->clock->sleep_for(std::chrono::milliseconds(100));
      if (!slept) {
        co_return;
      }
      continue;
    }
    ++s->stats->accepts;
    boost::system::error_code ignored;
    const auto remote = socket.remote_endpoint(ignored);
    // Rate-limit by the source address, IPv4 peers unmapped from a dual-stack listener.
    const std::string source =
        remote.address().is_v6() && remote.address().to_v6().is_v4_mapped()
            ? asio::ip::make_address_v4(asio::ip::v4_mapped, remote.address().to_v6()).to_string()
            : remote.address().to_string();
    if (!s->limiter.allow(source, s->clock->now())) {
      ++s->stats->accepts_rate_limited;
      log::debug("incoming connection refused: rate limit", {{"source", source}});
      socket.close(ignored);
      continue;
    }
    if (s->handshakes >= s->options.max_handshakes ||
        s->unclaimed.size() >= s->options.max_unclaimed) {
      ++s->stats->accepts_overloaded;
      log::warn(
          "incoming connection refused: overloaded",
          {{"source", source}, {"handshakes", s->handshakes}, {"unclaimed", s->unclaimed.size()}});
      socket.close(ignored);
      continue;
    }
    spawn(s->executor, incoming(s, std::move(socket)), "incoming handshake");
  }
}

// Connects to one endpoint within the connect timeout.
asio::awaitable<Result<tcp::socket>> connect_one(std::shared_ptr<State> s, tcp::endpoint ep) {
  tcp::socket socket(s->executor);
  auto r = co_await (socket.async_connect(ep, asio::as_tuple(asio::use_awaitable)) ||
                     s->clock->sleep_for(s->options.connect_timeout));
  const std::string where = endpoint_text(to_endpoint(ep));
  if (r.index() == 1) {
    co_return make_error(Errc::kTimeout, "cannot connect to {}: timed out after {} ms", where,
                         millis(s->options.connect_timeout));
  }
  if (auto [ec] = std::get<0>(r); ec) {
    co_return make_error(ec, "cannot connect to {}: {}", where, ec.message());
  }
  co_return std::move(socket);
}

asio::awaitable<Result<std::vector<tcp::endpoint>>> resolve(std::shared_ptr<State> s, HostPort hp) {
  const std::uint16_t port = hp.port.value_or(kDefaultPort);
  boost::system::error_code ec;
  const auto ip = asio::ip::make_address(hp.host, ec);
  if (!ec) {
    co_return std::vector<tcp::endpoint>{tcp::endpoint(ip, port)};
  }
  tcp::resolver resolver(s->executor);
  auto [rec, results] = co_await resolver.async_resolve(hp.host, std::to_string(port),
                                                        asio::as_tuple(asio::use_awaitable));
  if (rec) {
    co_return make_error(rec, "cannot resolve {}: {}", hp.host, rec.message());
  }
  std::vector<tcp::endpoint> out;
  for (const auto& e : results) {
    out.push_back(e.endpoint());
  }
  co_return out;
}

bool cancelled(const asio::cancellation_state& cs) {
  return cs.cancelled() != asio::cancellation_type::none;
}

}  // namespace

TcpTransport::TcpTransport(asio::any_io_executor executor, Clock& clock,
                           std::shared_ptr<const HandshakeConfig> config,
                           TcpTransportOptions options)
    : stats_(std::make_shared<TransportStats>()),
      state_(std::make_shared<State>(executor, clock, std::move(config), std::move(options),
                                     stats_)) {}

TcpTransport::~TcpTransport() {
  close();
}

Result<void> TcpTransport::listen() {
  State& s = *state_;
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(s.options.listen_address, ec);
  if (ec) {
    return make_error(Errc::kInvalidArgument, "invalid listen address \"{}\"",
                      s.options.listen_address);
  }
  const tcp::endpoint ep(address, s.options.port);
  const std::string where = endpoint_text(to_endpoint(ep));
  tcp::acceptor acceptor(s.executor);
  if (acceptor.open(ep.protocol(), ec); !ec) {
    acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
    if (address.is_v6() && address.is_unspecified()) {
      acceptor.set_option(asio::ip::v6_only(false), ec);  // "::" takes IPv4 too
    }
    ec = {};
    acceptor.bind(ep, ec);
  }
  if (!ec) {
    acceptor.listen(asio::socket_base::max_listen_connections, ec);
  }
  if (ec) {
    return make_error(ec, "cannot listen on {}: {}", where, ec.message());
  }
  s.local = to_endpoint(acceptor.local_endpoint(ec));
  s.acceptor.emplace(std::move(acceptor));
  spawn(s.executor, accept_loop(state_), "accept loop");
  log::info("listening for peers", {{"address", endpoint_text(s.local)}});
  return {};
}

Endpoint TcpTransport::local_endpoint() const {
  return state_->local;
}

asio::awaitable<Result<std::unique_ptr<MessageConn>>> TcpTransport::dial(std::string address) {
  const std::shared_ptr<State> s = state_;
  const std::shared_ptr<TransportStats> stats = stats_;
  auto hp = parse_host_port(address);
  if (!hp) {
    co_return hp.error();
  }
  auto endpoints = co_await resolve(s, *hp);
  if (!endpoints || endpoints->empty()) {
    ++stats->dials_failed;
    co_return endpoints ? make_error(Errc::kNotFound, "{}: no address", address)
                        : endpoints.error();
  }
  std::optional<Error> last_error;
  std::optional<tcp::socket> socket;
  for (const auto& ep : *endpoints) {
    auto r = co_await connect_one(s, ep);
    if (r) {
      socket.emplace(std::move(*r));
      break;
    }
    last_error = r.error();
    const asio::cancellation_state cs = co_await asio::this_coro::cancellation_state;
    if (cancelled(cs)) {
      co_return make_error(Errc::kCancelled, "dial {} cancelled", address);
    }
  }
  if (!socket) {
    ++stats->dials_failed;
    co_return *last_error;
  }
  auto stream = std::make_unique<TcpByteStream>(std::move(*socket));
  auto session = co_await handshake_with_timeout(s, *stream, Role::kDialer);
  if (!session) {
    stream->close();
    co_return session.error();
  }
  log_established(session->peer, "out");
  co_return std::make_unique<SecureConn>(s->executor, std::move(stream), std::move(*session), true,
                                         *s->clock, stats, s->options.connection);
}

asio::awaitable<Result<std::unique_ptr<MessageConn>>> TcpTransport::accept() {
  const std::shared_ptr<State> s = state_;
  for (;;) {
    if (!s->unclaimed.empty()) {
      std::unique_ptr<MessageConn> conn = std::move(s->unclaimed.front());
      s->unclaimed.pop_front();
      co_return conn;
    }
    if (s->closed) {
      co_return make_error(Errc::kCancelled, "transport closed");
    }
    co_await s->accept_wakeup.wait();
    const asio::cancellation_state cs = co_await asio::this_coro::cancellation_state;
    if (cancelled(cs)) {
      co_return make_error(Errc::kCancelled, "accept cancelled");
    }
  }
}

void TcpTransport::close() {
  State& s = *state_;
  if (s.closed) {
    return;
  }
  s.closed = true;
  if (s.acceptor) {
    boost::system::error_code ignored;
    s.acceptor->close(ignored);
  }
  for (ByteStream* stream : s.handshaking) {
    stream->close();
  }
  s.unclaimed.clear();  // destroying a SecureConn closes it
  s.accept_wakeup.notify();
}

}  // namespace weft::router
