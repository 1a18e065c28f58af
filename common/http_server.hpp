// HttpServer: HTTP/1.1 on TCP and unix sockets for weftd's API (unix socket, mutating
// calls), status address (TCP, read-only), metrics and the status page, with server-sent
// event streams.
//
// Contract:
// - Thread: every call, every handler and every connection run on the executor given to
//   the constructor (the control thread). No locks.
// - Lifecycle: route()/stream_route() and listen_*() before start() (listen_* also works
//   after it); then `co_await stop()` before the server is destroyed: it closes the
//   acceptors, cancels every connection, including streams, and waits until they are gone.
//   Destroying a started server without stop() cancels everything but does not wait.
// - Handlers receive a validated Request and return a Response. An exception from a
//   handler becomes a 500 (and a log line); the connection stays usable. Routing: unknown
//   path -> 404, known path with another method -> 405 (with Allow), HEAD runs the GET
//   route without a body (not a stream route). Malformed requests get 400, unknown methods
//   501, oversized headers 431, oversized bodies 413, requests arriving slower than the
//   read timeout 408; each then closes. Over max_connections a new connection gets 503.
// - Handlers may be coroutine lambdas with captures: the server keeps the std::function
//   alive while they run. Store co_await results in a variable before testing them (GCC 12
//   miscompiled `if (!co_await f(std::move(x)))` here).
// - A stream handler owns the response: it calls stream.start() (or start_events()) then
//   write()/send_event() until it returns, or respond() once for a plain reply; it is
//   cancelled (its pending operation throws operation_aborted) when the client goes away or
//   the server stops. Streamed responses use chunked encoding and close the connection when
//   the handler returns. A handler that returns without any response gets a 500.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "common/http.hpp"
#include "common/result.hpp"

namespace weft {

// The server side of a streamed response. Implemented by the server's connections, and by
// fakes in tests of stream handlers.
class StreamSink {
 public:
  virtual ~StreamSink() = default;
  // Sends the status line and header fields (chunked). At most once, before write().
  virtual boost::asio::awaitable<Result<void>> start(int status, std::string content_type,
                                                     Headers headers) = 0;
  // Sends one chunk of body. kUnavailable once the client is gone, kTimeout if it does not
  // read within the write timeout.
  virtual boost::asio::awaitable<Result<void>> write(std::string data) = 0;
  // A whole ordinary response instead of a stream (e.g. an error); only before start().
  virtual boost::asio::awaitable<Result<void>> respond(Response response) = 0;
  virtual bool started() const = 0;
};

// Handle passed by value to a stream handler; valid while the handler runs.
class ResponseStream {
 public:
  explicit ResponseStream(StreamSink* sink) : sink_(sink) {}

  boost::asio::awaitable<Result<void>> start(int status, std::string content_type,
                                             Headers headers = {}) {
    return sink_->start(status, std::move(content_type), std::move(headers));
  }
  // start(200, "text/event-stream") with Cache-Control: no-cache.
  boost::asio::awaitable<Result<void>> start_events();
  boost::asio::awaitable<Result<void>> write(std::string data) {
    return sink_->write(std::move(data));
  }
  boost::asio::awaitable<Result<void>> send_event(std::string_view event, std::string_view data) {
    return sink_->write(format_sse_event(event, data));
  }
  boost::asio::awaitable<Result<void>> respond(Response response) {
    return sink_->respond(std::move(response));
  }
  bool started() const { return sink_->started(); }

 private:
  StreamSink* sink_;
};

using Handler = std::function<boost::asio::awaitable<Response>(Request)>;
using StreamHandler = std::function<boost::asio::awaitable<void>(Request, ResponseStream)>;

// Plain counters; the metrics endpoint exports them.
struct HttpServerStats {
  std::uint64_t connections_accepted = 0;
  std::uint64_t connections_rejected = 0;  // over max_connections
  std::uint64_t active_connections = 0;
  std::uint64_t requests = 0;  // requests parsed and routed
  std::uint64_t responses_4xx = 0;
  std::uint64_t responses_5xx = 0;
  std::uint64_t bad_requests = 0;  // 400/413/431/501 before routing
  std::uint64_t timeouts = 0;      // 408 or write timeout
  std::uint64_t handler_exceptions = 0;
  std::uint64_t streams = 0;  // stream handlers started
};

class HttpServer {
 public:
  explicit HttpServer(boost::asio::any_io_executor executor, HttpLimits limits = {});
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;
  ~HttpServer();

  // Registers a route; `pattern` like "/ip/{id}/{addr}" (see parse_route_pattern). The
  // first registered match wins. Throws std::invalid_argument on a bad pattern (startup).
  void route(Method method, std::string_view pattern, Handler handler);
  void stream_route(Method method, std::string_view pattern, StreamHandler handler);

  // Binds and listens; port 0 picks a free port. Returns the bound endpoint.
  Result<boost::asio::ip::tcp::endpoint> listen_tcp(const boost::asio::ip::tcp::endpoint& at);
  // Listens on a unix socket file with permission bits `mode`. A stale socket file (nobody
  // accepting) is replaced; a live one or a non-socket file is an error (kAlreadyExists).
  // The file appears atomically with its final mode (bound under a temporary name, then
  // renamed) and is removed by stop().
  Result<void> listen_unix(const std::string& path, unsigned mode = 0600);

  // Starts accepting on every listener (into the server's TaskGroup).
  void start();
  // Closes the listeners, cancels every connection and waits for them to end.
  boost::asio::awaitable<void> stop();

  HttpServerStats stats() const;
  const HttpLimits& limits() const;

  struct State;  // shared with the running connections (http_server_state.hpp)

 private:
  boost::asio::any_io_executor executor_;
  std::shared_ptr<State> state_;  // holds the TaskGroup of accept loops and connections
};

}  // namespace weft
