// One HTTP connection of HttpServer: read a request (one timer for the whole request),
// route it, call the handler, write the response; repeat while keep-alive. Streamed
// responses implement StreamSink here.
//
// Design note: TCP and unix sockets share this code through asio's generic stream socket.
// Timeouts race an asio timer against the I/O at the edge (`op || timer`); a stream races
// its handler against a read that ends when the client goes away. Cancellation by stop()
// reaches every pending operation through the TaskGroup.
// GCC 12: results of co_await are stored in a variable before they are tested; with
// `if (!co_await f(std::move(x)))` it resumed a frame at a bad state (SIGILL under UBSan).
#include <array>
#include <exception>
#include <optional>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include "common/http_parse.hpp"
#include "common/http_server.hpp"
#include "common/http_server_state.hpp"
#include "common/log.hpp"
#include "common/version.hpp"

namespace weft {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using Socket = HttpSocket;
using asio::experimental::awaitable_operators::operator||;
using boost::system::error_code;
using State = HttpServer::State;

struct RouteMatch {
  const HttpRoute* route = nullptr;
  RouteParams params;
  std::string allow;  // methods of the routes whose pattern matched, for 405
};

// Completes with the result of `op`, or nullopt when `timer` expires first.
template <class T>
asio::awaitable<std::optional<T>> before(asio::steady_timer* timer, asio::awaitable<T> op) {
  auto r = co_await (std::move(op) || timer->async_wait(asio::as_tuple(asio::use_awaitable)));
  if (r.index() == 0) {
    co_return std::move(std::get<0>(r));
  }
  co_return std::nullopt;
}

bool is_parse_error(const error_code& ec) {
  return ec.category() == http::make_error_code(http::error::bad_target).category();
}

bool valid_field_text(std::string_view s) {
  return s.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

// Message framing belongs to the server; a handler setting these would corrupt it.
bool is_framing_field(std::string_view name) {
  return beast::iequals(name, "Content-Length") || beast::iequals(name, "Transfer-Encoding") ||
         beast::iequals(name, "Connection");
}

http::response<http::string_body> to_beast(Response res, bool keep_alive) {
  http::response<http::string_body> msg;
  msg.version(11);
  msg.result(res.status >= 100 && res.status <= 599 ? static_cast<unsigned>(res.status) : 500u);
  msg.set(http::field::server, fmt::format("weft/{}", kVersion));
  if (valid_field_text(res.content_type)) {
    msg.set(http::field::content_type, res.content_type);
  }
  for (const auto& [name, value] : res.headers) {
    // Values may carry decoded request data; a CR/LF would split the response.
    if (is_framing_field(name)) {
      continue;
    }
    if (!name.empty() && valid_field_text(name) && valid_field_text(value)) {
      msg.insert(name, value);
    } else {
      log::warn("http dropped invalid response header", {{"name", name}});
    }
  }
  msg.body() = std::move(res.body);
  msg.keep_alive(keep_alive);
  msg.prepare_payload();
  return msg;
}

RouteMatch find_route(const std::list<HttpRoute>& routes, Method method,
                      const std::vector<std::string>& segments) {
  RouteMatch out;
  const HttpRoute* head_fallback = nullptr;
  RouteParams head_params;
  for (const auto& r : routes) {
    auto params = match_route(r.pattern, segments);
    if (!params) {
      continue;
    }
    if (r.method == method) {
      out.route = &r;
      out.params = std::move(*params);
      return out;
    }
    if (method == Method::kHead && r.method == Method::kGet && !r.stream_handler &&
        head_fallback == nullptr) {
      head_fallback = &r;
      head_params = std::move(*params);
    }
    const auto name = to_string(r.method);
    if (out.allow.find(name) == std::string::npos) {
      out.allow += out.allow.empty() ? "" : ", ";
      out.allow += name;
    }
  }
  if (head_fallback != nullptr) {
    out.route = head_fallback;
    out.params = std::move(head_params);
  }
  return out;
}

// One accepted connection: reads requests, routes them, writes responses; implements the
// sink of streamed responses.
class Connection final : public StreamSink {
 public:
  Connection(std::shared_ptr<State> state, Socket socket)
      : state_(std::move(state)), socket_(std::move(socket)) {}
  ~Connection() override {
    --state_->stats.active_connections;
    error_code ec;
    socket_.close(ec);
  }

  // Serves requests until the connection closes; throws when cancelled by stop().
  asio::awaitable<void> run();

  asio::awaitable<Result<void>> start(int status, std::string content_type,
                                      Headers headers) override;
  asio::awaitable<Result<void>> write(std::string data) override;
  asio::awaitable<Result<void>> respond(Response response) override;
  bool started() const override { return stream_started_; }

 private:
  struct Incoming {
    enum class Kind { kRequest, kClosed, kReject } kind = Kind::kClosed;
    Request request;
    int status = 0;
    std::string message;
  };

  asio::awaitable<Incoming> read_request();
  asio::awaitable<Response> call_handler(const HttpRoute* route, Request request);
  asio::awaitable<void> run_stream(const HttpRoute* route, Request request);
  asio::awaitable<void> watch_peer_close();
  asio::awaitable<bool> write_message(Response response, bool keep_alive, bool head);
  asio::awaitable<Result<void>> write_raw(std::string bytes);
  asio::awaitable<void> lingering_close();
  void count_status(int status);

  std::shared_ptr<State> state_;
  Socket socket_;
  beast::flat_buffer buffer_;
  bool stream_started_ = false;
  bool stream_responded_ = false;
  bool stream_broken_ = false;
};

asio::awaitable<void> Connection::run() {
  while (!state_->stopping) {
    Incoming in = co_await read_request();
    if (in.kind == Incoming::Kind::kClosed) {
      break;
    }
    if (in.kind == Incoming::Kind::kReject) {
      ++state_->stats.bad_requests;
      count_status(in.status);
      const bool written =
          co_await write_message(Response::error(in.status, in.message), false, false);
      if (written) {
        co_await lingering_close();
      }
      break;
    }
    Request req = std::move(in.request);
    ++state_->stats.requests;
    const bool keep_alive = req.keep_alive;
    const bool head = req.method == Method::kHead;
    auto match = find_route(state_->routes, req.method, req.segments);
    Response res;
    if (match.route == nullptr && match.allow.empty()) {
      res = Response::error(404, fmt::format("no such path: {}", req.path));
    } else if (match.route == nullptr) {
      res = Response::error(
          405, fmt::format("method {} not allowed on {}", to_string(req.method), req.path));
      res.headers.emplace_back("Allow", match.allow);
    } else if (auto bad = validate_route_params(match.params); !bad) {
      res = Response::error(400, bad.error().message);
    } else if (match.route->stream_handler) {
      req.params = std::move(match.params);
      co_await run_stream(match.route, std::move(req));
      break;
    } else {
      req.params = std::move(match.params);
      res = co_await call_handler(match.route, std::move(req));
    }
    count_status(res.status);
    const bool written = co_await write_message(std::move(res), keep_alive, head);
    if (!written || !keep_alive) {
      break;
    }
  }
  error_code ec;
  socket_.shutdown(asio::socket_base::shutdown_both, ec);
}

asio::awaitable<Connection::Incoming> Connection::read_request() {
  const auto& limits = state_->limits;
  http::request_parser<http::string_body> parser;
  parser.header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));
  parser.body_limit(limits.max_body_bytes);
  // One timer for the whole request: header, optional 100 Continue, body.
  asio::steady_timer timer(socket_.get_executor(), limits.read_timeout);
  auto r = co_await before(&timer, http::async_read_header(socket_, buffer_, parser,
                                                           asio::as_tuple(asio::use_awaitable)));
  if (r && !std::get<0>(*r) && !parser.is_done()) {
    const auto expect = parser.get()[http::field::expect];
    if (beast::iequals(expect, "100-continue")) {
      auto cont = co_await write_raw("HTTP/1.1 100 Continue\r\n\r\n");
      if (!cont) {
        co_return Incoming{};
      }
    }
    r = co_await before(
        &timer, http::async_read(socket_, buffer_, parser, asio::as_tuple(asio::use_awaitable)));
  }
  Incoming out;
  if (!r) {
    if (!state_->stopping && (buffer_.size() > 0 || parser.got_some())) {
      ++state_->stats.timeouts;
      out.kind = Incoming::Kind::kReject;
      out.status = 408;
      out.message = "request not received in time";
    }
    co_return out;
  }
  const error_code ec = std::get<0>(*r);
  if (ec == http::error::header_limit || ec == http::error::body_limit) {
    const bool header = ec == http::error::header_limit;
    out.kind = Incoming::Kind::kReject;
    out.status = header ? 431 : 413;
    out.message = header ? fmt::format("request header over {} bytes", limits.max_header_bytes)
                         : fmt::format("request body over {} bytes", limits.max_body_bytes);
    co_return out;
  }
  if (ec == http::error::end_of_stream || ec == http::error::partial_message) {
    co_return out;  // closed between or in the middle of requests: nobody to answer
  }
  if (ec) {
    if (is_parse_error(ec)) {
      out.kind = Incoming::Kind::kReject;
      out.status = 400;
      out.message = fmt::format("bad request: {}", ec.message());
    }
    co_return out;
  }
  auto msg = parser.release();
  Headers headers;
  for (const auto& field : msg) {
    headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  auto req = build_request(msg.method_string(), msg.target(), std::move(headers),
                           std::move(msg.body()), msg.keep_alive());
  if (!req) {
    out.kind = Incoming::Kind::kReject;
    out.status = req.error().code == make_error_code(Errc::kUnsupported) ? 501 : 400;
    out.message = req.error().message;
    co_return out;
  }
  out.kind = Incoming::Kind::kRequest;
  out.request = std::move(*req);
  co_return out;
}

asio::awaitable<Response> Connection::call_handler(const HttpRoute* route, Request request) {
  const std::string method(to_string(request.method));
  const std::string path = request.path;
  try {
    co_return co_await route->handler(std::move(request));
  } catch (const std::exception& e) {
    if (state_->stopping) {
      throw;
    }
    ++state_->stats.handler_exceptions;
    log::error("http handler failed", {{"method", method}, {"path", path}, {"error", e.what()}});
  } catch (...) {
    ++state_->stats.handler_exceptions;
    log::error("http handler failed", {{"method", method}, {"path", path}, {"error", "unknown"}});
  }
  co_return Response::error(500, "internal error");
}

asio::awaitable<void> Connection::run_stream(const HttpRoute* route, Request request) {
  ++state_->stats.streams;
  const std::string path = request.path;
  bool failed = false;
  // Handler and peer watch run side by side; whichever ends first cancels the other (not
  // awaitable_operators' ||, which waits for a *successful* one and so would keep a failed
  // handler's connection open until the client left).
  auto ex = co_await asio::this_coro::executor;
  auto handler = route->stream_handler(std::move(request), ResponseStream(this));
  auto [order, ex0, ex1] = co_await asio::experimental::make_parallel_group(
                               asio::co_spawn(ex, std::move(handler), asio::deferred),
                               asio::co_spawn(ex, watch_peer_close(), asio::deferred))
                               .async_wait(asio::experimental::wait_for_one(), asio::deferred);
  if (state_->stopping) {
    co_return;
  }
  if (order[0] == 0 && ex0) {
    failed = true;
    ++state_->stats.handler_exceptions;
    try {
      std::rethrow_exception(ex0);
    } catch (const std::exception& e) {
      log::error("http stream handler failed", {{"path", path}, {"error", e.what()}});
    } catch (...) {
      log::error("http stream handler failed", {{"path", path}, {"error", "unknown"}});
    }
  }
  if (order[0] == 1) {
    co_return;  // the client went away; the handler has been cancelled
  }
  if (!stream_started_ && !stream_responded_) {
    auto res = failed ? Response::error(500, "internal error")
                      : Response::error(500, "stream handler sent no response");
    count_status(res.status);
    co_await write_message(std::move(res), false, false);
  } else if (stream_started_ && !stream_broken_) {
    co_await write_raw("0\r\n\r\n");
  }
}

asio::awaitable<void> Connection::watch_peer_close() {
  std::array<char, 512> scratch{};
  while (true) {
    auto [ec, n] = co_await socket_.async_read_some(asio::buffer(scratch),
                                                    asio::as_tuple(asio::use_awaitable));
    if (ec) {
      co_return;
    }
  }
}

asio::awaitable<Result<void>> Connection::start(int status, std::string content_type,
                                                Headers headers) {
  if (stream_started_ || stream_responded_) {
    co_return make_error(Errc::kInvalidArgument, "response already started");
  }
  stream_started_ = true;
  Response head;
  head.status = status;
  head.content_type = std::move(content_type);
  head.headers = std::move(headers);
  auto full = to_beast(std::move(head), false);
  http::response<http::empty_body> msg(full.base());
  msg.chunked(true);
  count_status(status);
  http::response_serializer<http::empty_body> sr(msg);
  asio::steady_timer timer(socket_.get_executor(), state_->limits.write_timeout);
  auto r = co_await before(
      &timer, http::async_write_header(socket_, sr, asio::as_tuple(asio::use_awaitable)));
  if (!r || std::get<0>(*r)) {
    stream_broken_ = true;
    co_return make_error(r ? Errc::kUnavailable : Errc::kTimeout, "cannot write stream header");
  }
  co_return Result<void>{};
}

asio::awaitable<Result<void>> Connection::write(std::string data) {
  if (!stream_started_) {
    co_return make_error(Errc::kInvalidArgument, "write() before start()");
  }
  if (data.empty()) {
    co_return Result<void>{};  // an empty chunk would end the body
  }
  co_return co_await write_raw(fmt::format("{:x}\r\n{}\r\n", data.size(), data));
}

asio::awaitable<Result<void>> Connection::respond(Response response) {
  if (stream_started_ || stream_responded_) {
    co_return make_error(Errc::kInvalidArgument, "response already started");
  }
  stream_responded_ = true;
  count_status(response.status);
  const bool written = co_await write_message(std::move(response), false, false);
  if (!written) {
    co_return make_error(Errc::kUnavailable, "cannot write response");
  }
  co_return Result<void>{};
}

asio::awaitable<Result<void>> Connection::write_raw(std::string bytes) {
  if (stream_broken_) {
    co_return make_error(Errc::kUnavailable, "client connection is gone");
  }
  asio::steady_timer timer(socket_.get_executor(), state_->limits.write_timeout);
  auto r = co_await before(
      &timer, asio::async_write(socket_, asio::buffer(bytes), asio::as_tuple(asio::use_awaitable)));
  if (!r) {
    stream_broken_ = true;
    ++state_->stats.timeouts;
    co_return make_error(Errc::kTimeout, "client did not read within {} ms",
                         state_->limits.write_timeout.count());
  }
  if (const auto ec = std::get<0>(*r)) {
    stream_broken_ = true;
    co_return make_error(Errc::kUnavailable, "client connection is gone: {}", ec.message());
  }
  co_return Result<void>{};
}

asio::awaitable<bool> Connection::write_message(Response response, bool keep_alive, bool head) {
  auto msg = to_beast(std::move(response), keep_alive);
  if (head) {
    msg.body().clear();  // Content-Length stays that of the GET response
  }
  asio::steady_timer timer(socket_.get_executor(), state_->limits.write_timeout);
  auto r =
      co_await before(&timer, http::async_write(socket_, msg, asio::as_tuple(asio::use_awaitable)));
  if (!r) {
    ++state_->stats.timeouts;
    co_return false;
  }
  co_return !std::get<0>(*r);
}

asio::awaitable<void> Connection::lingering_close() {
  // Closing with unread request bytes makes the kernel send a reset, which can destroy the
  // error response before the client reads it: stop sending, then drain for a moment.
  error_code ec;
  socket_.shutdown(asio::socket_base::shutdown_send, ec);
  asio::steady_timer timer(
      socket_.get_executor(),
      std::min<std::chrono::milliseconds>(state_->limits.read_timeout, std::chrono::seconds(1)));
  std::array<char, 4096> scratch{};
  std::size_t drained = 0;
  while (drained < state_->limits.max_body_bytes + scratch.size()) {
    auto r = co_await before(&timer, socket_.async_read_some(asio::buffer(scratch),
                                                             asio::as_tuple(asio::use_awaitable)));
    if (!r || std::get<0>(*r)) {
      break;
    }
    drained += std::get<1>(*r);
  }
}

void Connection::count_status(int status) {
  if (status >= 500) {
    ++state_->stats.responses_5xx;
  } else if (status >= 400) {
    ++state_->stats.responses_4xx;
  }
}

}  // namespace

asio::awaitable<void> serve_http_connection(std::shared_ptr<HttpServer::State> state,
                                            HttpSocket socket) {
  Connection conn(state, std::move(socket));
  try {
    co_await conn.run();
  } catch (const std::exception& e) {
    // Cancellation by stop() ends here; anything else is a connection-level failure.
    if (!state->stopping) {
      log::debug("http connection ended", {{"error", e.what()}});
    }
  } catch (...) {
    log::error("http connection ended by a non-standard exception");
  }
}

}  // namespace weft
