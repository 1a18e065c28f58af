// Design note: the server object owns only a shared_ptr to its State (routes, limits,
// counters, listeners, TaskGroup); accept loops and connections hold the same pointer, so
// stop() is `tasks.cancel(); co_await tasks.join()` and a server destroyed early leaves
// nothing dangling. Connections live in http_connection.cpp.
#include "common/http_server.hpp"

#include <cerrno>
#include <chrono>
#include <stdexcept>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/http_parse.hpp"
#include "common/http_server_state.hpp"
#include "common/log.hpp"
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

namespace weft {

namespace asio = boost::asio;
using Socket = HttpSocket;
using boost::system::error_code;

namespace {

void reject_busy(Socket& socket) {
  // Best effort and synchronous: a fresh socket's send buffer always takes these bytes.
  static const std::string kBody = "{\"error\":\"too many connections\"}\n";
  const std::string reply = fmt::format(
      "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
      "Content-Length: {}\r\nConnection: close\r\n\r\n{}",
      kBody.size(), kBody);
  error_code ec;
  socket.non_blocking(true, ec);
  socket.send(asio::buffer(reply), 0, ec);
  socket.shutdown(asio::socket_base::shutdown_both, ec);
  socket.close(ec);
}

template <class Acceptor>
asio::awaitable<void> accept_loop(std::shared_ptr<HttpServer::State> state, Acceptor* acceptor) {
  while (!state->stopping) {
    auto [ec, sock] = co_await acceptor->async_accept(asio::as_tuple(asio::use_awaitable));
    if (state->stopping || ec == asio::error::operation_aborted) {
      co_return;
    }
    if (ec) {
      // EMFILE and friends: back off briefly instead of spinning.
      log::warn("http accept failed", {{"error", ec.message()}});
      asio::steady_timer pause(acceptor->get_executor(), std::chrono::milliseconds(100));
      co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
      continue;
    }
    Socket socket(std::move(sock));
    if (state->stats.active_connections >= state->limits.max_connections) {
      ++state->stats.connections_rejected;
      reject_busy(socket);
      continue;
    }
    ++state->stats.connections_accepted;
    ++state->stats.active_connections;
    state->tasks.spawn(serve_http_connection(state, std::move(socket)), "http connection");
  }
}

}  // namespace

asio::awaitable<Result<void>> ResponseStream::start_events() {
  return sink_->start(200, "text/event-stream", {{"Cache-Control", "no-cache"}});
}

HttpServer::HttpServer(asio::any_io_executor executor, HttpLimits limits)
    : executor_(executor), state_(std::make_shared<State>(executor, limits)) {}

HttpServer::~HttpServer() {
  // Without stop(): cancel everything; the tasks hold the state until they end.
  state_->stopping = true;
  error_code ec;
  for (auto& a : state_->tcp_acceptors) {
    a.close(ec);
  }
  for (auto& a : state_->unix_acceptors) {
    a.close(ec);
  }
  state_->tasks.cancel();
}

void HttpServer::route(Method method, std::string_view pattern, Handler handler) {
  auto p = parse_route_pattern(pattern);
  if (!p || !handler) {
    throw std::invalid_argument(p ? "empty route handler" : p.error().to_string());
  }
  state_->routes.push_back(HttpRoute{method, std::move(*p), std::move(handler), nullptr});
}

void HttpServer::stream_route(Method method, std::string_view pattern, StreamHandler handler) {
  auto p = parse_route_pattern(pattern);
  if (!p || !handler) {
    throw std::invalid_argument(p ? "empty route handler" : p.error().to_string());
  }
  state_->routes.push_back(HttpRoute{method, std::move(*p), nullptr, std::move(handler)});
}

Result<asio::ip::tcp::endpoint> HttpServer::listen_tcp(const asio::ip::tcp::endpoint& at) {
  asio::ip::tcp::acceptor acceptor(executor_);
  error_code ec;
  acceptor.open(at.protocol(), ec);
  if (!ec) {
    acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  }
  if (!ec) {
    acceptor.bind(at, ec);
  }
  if (!ec) {
    acceptor.listen(asio::socket_base::max_listen_connections, ec);
  }
  const auto bound = ec ? at : acceptor.local_endpoint(ec);
  if (ec) {
    return make_error(ec, "cannot listen on {}:{}", at.address().to_string(), at.port());
  }
  auto& stored = state_->tcp_acceptors.emplace_back(std::move(acceptor));
  if (state_->started) {
    state_->tasks.spawn(accept_loop(state_, &stored), "http accept");
  }
  log::info("http listening", {{"address", bound.address().to_string()}, {"port", bound.port()}});
  return bound;
}

namespace {

// Whether a process accepts on the unix socket `path` (a refused connect means stale).
Result<bool> unix_socket_is_live(asio::any_io_executor ex, const std::string& path) {
  asio::local::stream_protocol::socket probe(ex);
  error_code ec;
  probe.open(asio::local::stream_protocol(), ec);
  if (!ec) {
    probe.non_blocking(true, ec);  // a full backlog must not block us: EAGAIN means live
  }
  if (!ec) {
    probe.connect(asio::local::stream_protocol::endpoint(path), ec);
  }
  if (!ec || ec == asio::error::would_block || ec == asio::error::try_again) {
    return true;
  }
  if (ec == asio::error::connection_refused || ec == asio::error::not_found ||
      ec.value() == ENOENT) {
    return false;
  }
  return make_error(ec, "cannot probe existing socket {}", path);
}

}  // namespace

Result<void> HttpServer::listen_unix(const std::string& path, unsigned mode) {
  const std::string tmp = fmt::format("{}.{}.tmp", path, ::getpid());
  if (path.empty() || tmp.size() >= sizeof(sockaddr_un::sun_path)) {
    return make_error(Errc::kInvalidArgument, "unix socket path '{}' empty or too long", path);
  }
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      return make_error(Errc::kAlreadyExists, "{} exists and is not a socket", path);
    }
    auto live = unix_socket_is_live(executor_, path);
    if (!live) {
      return live.error();
    }
    if (*live) {
      return make_error(Errc::kAlreadyExists, "another process is serving {}", path);
    }
  }
  // Bind under a temporary name, set the mode, then rename over the final path: the socket
  // is never reachable with the umask's permissions, and a stale file is replaced at once.
  ::unlink(tmp.c_str());
  asio::local::stream_protocol::acceptor acceptor(executor_);
  error_code ec;
  acceptor.open(asio::local::stream_protocol(), ec);
  if (!ec) {
    acceptor.bind(asio::local::stream_protocol::endpoint(tmp), ec);
  }
  if (ec) {
    return make_error(ec, "cannot bind unix socket {}", tmp);
  }
  if (::chmod(tmp.c_str(), static_cast<mode_t>(mode)) != 0) {
    auto err = errno_error(fmt::format("cannot chmod {}", tmp));
    ::unlink(tmp.c_str());
    return err;
  }
  acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec || ::rename(tmp.c_str(), path.c_str()) != 0) {
    auto err = ec ? make_error(ec, "cannot listen on {}", tmp)
                  : errno_error(fmt::format("cannot rename {} to {}", tmp, path));
    ::unlink(tmp.c_str());
    return err;
  }
  if (::stat(path.c_str(), &st) == 0) {
    state_->unix_files.push_back(HttpUnixFile{path, st.st_dev, st.st_ino});
  }
  auto& stored = state_->unix_acceptors.emplace_back(std::move(acceptor));
  if (state_->started) {
    state_->tasks.spawn(accept_loop(state_, &stored), "http accept");
  }
  log::info("http listening", {{"unix", path}, {"mode", fmt::format("{:o}", mode)}});
  return {};
}

void HttpServer::start() {
  if (state_->started) {
    return;
  }
  state_->started = true;
  for (auto& a : state_->tcp_acceptors) {
    state_->tasks.spawn(accept_loop(state_, &a), "http accept");
  }
  for (auto& a : state_->unix_acceptors) {
    state_->tasks.spawn(accept_loop(state_, &a), "http accept");
  }
}

asio::awaitable<void> HttpServer::stop() {
  auto state = state_;
  state->stopping = true;
  error_code ec;
  for (auto& a : state->tcp_acceptors) {
    a.close(ec);
  }
  for (auto& a : state->unix_acceptors) {
    a.close(ec);
  }
  for (const auto& f : state->unix_files) {
    // Remove the file only if it is still ours (not replaced by a newer daemon).
    struct stat st {};
    if (::stat(f.path.c_str(), &st) == 0 && st.st_dev == f.dev && st.st_ino == f.ino) {
      ::unlink(f.path.c_str());
    }
  }
  state->unix_files.clear();
  state->tasks.cancel();
  co_await state->tasks.join();
}

HttpServerStats HttpServer::stats() const {
  return state_->stats;
}

const HttpLimits& HttpServer::limits() const {
  return state_->limits;
}

}  // namespace weft
