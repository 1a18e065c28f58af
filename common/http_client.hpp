// HttpClient: one HTTP/1.1 exchange per call with weftd (unix socket or TCP), used by the
// `weft` CLI, the CNI plugin and the other clients.
//
// Contract: calls run on the executor given to the constructor; several may run at once
// (each has its own connection, closed after the response). No call throws: every
// failure is a Result error that names the target:
//   kUnavailable  cannot connect / connection lost ("cannot connect to /run/weft/weft.sock:
//                 No such file or directory")
//   kTimeout      no complete response within the timeout (connect included)
//   kTooLarge     response over the size limit
//   kMalformed    a response that is not HTTP
//   kInvalidArgument  a bad target or path given by the caller
// Non-2xx statuses are returned as Responses by request(); the JSON helpers turn them into
// errors (errc_for_status) with the server's {"error": ...} message.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <nlohmann/json_fwd.hpp>

#include "common/http.hpp"
#include "common/result.hpp"

namespace weft {

// Where a client connects: "127.0.0.1:6784", "[::1]:6784", "localhost:6784" (-> 127.0.0.1),
// optionally prefixed "http://"; or a unix socket: a path containing '/' (or "unix:<path>").
// No DNS lookups.
struct HttpTarget {
  bool is_unix = false;
  boost::asio::ip::tcp::endpoint tcp;
  std::string unix_path;

  std::string to_string() const;
};
Result<HttpTarget> parse_http_target(std::string_view text);

struct HttpClientOptions {
  std::chrono::milliseconds timeout{10'000};  // whole exchange: connect, send, receive
  std::size_t max_response_bytes = 16 * 1024 * 1024;
  std::size_t max_header_bytes = 64 * 1024;
};

class HttpClient {
 public:
  explicit HttpClient(boost::asio::any_io_executor executor, HttpClientOptions options = {});

  // `path` is the request target ("/ip/abc?family=ipv4"). A non-empty body without a
  // Content-Type header is sent as application/json.
  boost::asio::awaitable<Result<Response>> request(std::string target, Method method,
                                                   std::string path, std::string body = {},
                                                   Headers headers = {});

  // JSON exchanges: 2xx -> the parsed body (null for an empty body), else an error.
  boost::asio::awaitable<Result<nlohmann::json>> get_json(std::string target, std::string path);
  boost::asio::awaitable<Result<nlohmann::json>> post_json(std::string target, std::string path,
                                                           nlohmann::json body);
  // Any method; `body` is sent as is (already serialised JSON, or empty).
  boost::asio::awaitable<Result<nlohmann::json>> call_json(std::string target, Method method,
                                                           std::string path, std::string body);

  const HttpClientOptions& options() const { return options_; }

 private:
  boost::asio::awaitable<Result<Response>> exchange(HttpTarget target, Method method,
                                                    std::string path, std::string body,
                                                    Headers headers);

  boost::asio::any_io_executor executor_;
  HttpClientOptions options_;
};

// 2xx -> parsed JSON body (null when empty); otherwise an Error with errc_for_status(status)
// and the server's message.
Result<nlohmann::json> json_from_response(const Response& response);

// Blocking call for short-lived programs (CLI, CNI plugin): runs its own io_context on the
// calling thread. Do not call it from a thread running an io_context.
Result<Response> http_call(std::string_view target, Method method, std::string_view path,
                           std::string body = {},
                           std::chrono::milliseconds timeout = std::chrono::seconds(10));

}  // namespace weft
