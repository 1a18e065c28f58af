#include "common/http_client.hpp"

#include <charconv>
#include <exception>
#include <optional>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <nlohmann/json.hpp>

#include "common/http_parse.hpp"
#include "common/version.hpp"

namespace weft {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using Socket = asio::generic::stream_protocol::socket;
using asio::experimental::awaitable_operators::operator||;
using boost::system::error_code;

namespace {

Result<unsigned short> parse_port(std::string_view text) {
  unsigned value = 0;
  const auto* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end || value == 0 || value > 65535) {
    return make_error(Errc::kInvalidArgument, "bad port '{}'", text);
  }
  return static_cast<unsigned short>(value);
}

Result<HttpTarget> parse_host_port(std::string_view text) {
  std::string_view host;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return make_error(Errc::kInvalidArgument, "bad target '{}': want [v6addr]:port", text);
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos || text.find(':') != colon) {
      return make_error(Errc::kInvalidArgument,
                        "bad target '{}': want host:port, [v6addr]:port or a socket path", text);
    }
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  auto p = parse_port(port);
  if (!p) {
    return p.error();
  }
  error_code ec;
  const auto addr = asio::ip::make_address(host == "localhost" ? "127.0.0.1" : host, ec);
  if (ec) {
    return make_error(Errc::kInvalidArgument, "bad target '{}': '{}' is not an IP address", text,
                      host);
  }
  HttpTarget t;
  t.tcp = asio::ip::tcp::endpoint(addr, *p);
  return t;
}

Error io_error(const HttpTarget& target, std::string_view what, const error_code& ec) {
  return make_error(Errc::kUnavailable, "{} {}: {}", what, target.to_string(), ec.message());
}

template <class Protocol>
asio::awaitable<Result<Socket>> connect(HttpTarget target, typename Protocol::endpoint endpoint) {
  typename Protocol::socket s(co_await asio::this_coro::executor);
  auto [ec] = co_await s.async_connect(endpoint, asio::as_tuple(asio::use_awaitable));
  if (ec) {
    co_return io_error(target, "cannot connect to", ec);
  }
  co_return Socket(std::move(s));
}

http::request<http::string_body> make_request(const HttpTarget& target, Method method,
                                              std::string path, std::string body,
                                              const Headers& headers) {
  http::request<http::string_body> req;
  req.method(http::string_to_verb(to_string(method)));
  req.target(path);
  req.version(11);
  req.set(http::field::host, target.is_unix ? std::string("localhost") : target.to_string());
  req.set(http::field::user_agent, fmt::format("weft/{}", kVersion));
  for (const auto& [name, value] : headers) {
    req.insert(name, value);
  }
  if (!body.empty() && !find_header(headers, "Content-Type")) {
    req.set(http::field::content_type, "application/json");
  }
  req.body() = std::move(body);
  req.keep_alive(false);
  req.prepare_payload();
  return req;
}

bool valid_request_text(std::string_view s) {
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string HttpTarget::to_string() const {
  if (is_unix) {
    return unix_path;
  }
  if (tcp.address().is_v6()) {
    return fmt::format("[{}]:{}", tcp.address().to_string(), tcp.port());
  }
  return fmt::format("{}:{}", tcp.address().to_string(), tcp.port());
}

Result<HttpTarget> parse_http_target(std::string_view text) {
  if (text.starts_with("unix:")) {
    text.remove_prefix(5);
    if (text.empty()) {
      return make_error(Errc::kInvalidArgument, "empty unix socket path");
    }
    HttpTarget t;
    t.is_unix = true;
    t.unix_path = std::string(text);
    return t;
  }
  if (text.starts_with("http://")) {
    text.remove_prefix(7);
    if (text.ends_with('/')) {
      text.remove_suffix(1);
    }
    return parse_host_port(text);
  }
  if (text.find('/') != std::string_view::npos) {
    HttpTarget t;
    t.is_unix = true;
    t.unix_path = std::string(text);
    return t;
  }
  return parse_host_port(text);
}

HttpClient::HttpClient(asio::any_io_executor executor, HttpClientOptions options)
    : executor_(std::move(executor)), options_(options) {}

asio::awaitable<Result<Response>> HttpClient::request(std::string target, Method method,
                                                      std::string path, std::string body,
                                                      Headers headers) {
  auto t = parse_http_target(target);
  if (!t) {
    co_return t.error();
  }
  if (path.empty() || path.front() != '/' || !valid_request_text(path)) {
    co_return make_error(Errc::kInvalidArgument, "bad request path '{}'", path);
  }
  asio::steady_timer timer(co_await asio::this_coro::executor, options_.timeout);
  auto r = co_await (exchange(*t, method, std::move(path), std::move(body), std::move(headers)) ||
                     timer.async_wait(asio::as_tuple(asio::use_awaitable)));
  if (r.index() == 0) {
    co_return std::move(std::get<0>(r));
  }
  co_return make_error(Errc::kTimeout, "no response from {} within {} ms", t->to_string(),
                       options_.timeout.count());
}

// GCC 12 at -O1 and above inlines asio's frame allocator (aligned_alloc) into this coroutine's
// ramp and then flags the matching class-specific operator delete: a false positive.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
asio::awaitable<Result<Response>> HttpClient::exchange(HttpTarget target, Method method,
                                                       std::string path, std::string body,
                                                       Headers headers) {
  for (const auto& [name, value] : headers) {
    if (name.empty() || !valid_request_text(name) ||
        value.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
      co_return make_error(Errc::kInvalidArgument, "bad request header '{}'", name);
    }
  }
  Result<Socket> connected = make_error(Errc::kUnavailable, "not connected");
  if (target.is_unix) {
    connected = co_await connect<asio::local::stream_protocol>(
        target, asio::local::stream_protocol::endpoint(target.unix_path));
  } else {
    connected = co_await connect<asio::ip::tcp>(target, target.tcp);
  }
  if (!connected) {
    co_return connected.error();
  }
  Socket socket = std::move(*connected);
  auto req = make_request(target, method, std::move(path), std::move(body), headers);
  auto [wec, written] =
      co_await http::async_write(socket, req, asio::as_tuple(asio::use_awaitable));
  if (wec) {
    co_return io_error(target, "cannot send request to", wec);
  }
  http::response_parser<http::string_body> parser;
  parser.header_limit(static_cast<std::uint32_t>(options_.max_header_bytes));
  parser.body_limit(options_.max_response_bytes);
  parser.skip(method == Method::kHead);
  beast::flat_buffer buffer;
  auto [rec, read] =
      co_await http::async_read(socket, buffer, parser, asio::as_tuple(asio::use_awaitable));
  if (rec == http::error::body_limit || rec == http::error::header_limit) {
    co_return make_error(
        Errc::kTooLarge, "response from {} over {} bytes", target.to_string(),
        rec == http::error::body_limit ? options_.max_response_bytes : options_.max_header_bytes);
  }
  if (rec == http::error::end_of_stream || rec == http::error::partial_message) {
    co_return make_error(Errc::kUnavailable, "{} closed the connection before responding",
                         target.to_string());
  }
  if (rec && rec.category() == http::make_error_code(http::error::bad_target).category()) {
    co_return make_error(Errc::kMalformed, "bad response from {}: {}", target.to_string(),
                         rec.message());
  }
  if (rec) {
    co_return io_error(target, "cannot read response from", rec);
  }
  auto msg = parser.release();
  Response res;
  res.status = static_cast<int>(msg.result_int());
  res.content_type = std::string(msg[http::field::content_type]);
  for (const auto& field : msg) {
    res.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  res.body = std::move(msg.body());
  error_code ec;
  socket.shutdown(asio::socket_base::shutdown_both, ec);
  co_return res;
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

asio::awaitable<Result<nlohmann::json>> HttpClient::get_json(std::string target, std::string path) {
  co_return co_await call_json(std::move(target), Method::kGet, std::move(path), {});
}

asio::awaitable<Result<nlohmann::json>> HttpClient::post_json(std::string target, std::string path,
                                                              nlohmann::json body) {
  std::string text = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  co_return co_await call_json(std::move(target), Method::kPost, std::move(path), std::move(text));
}

asio::awaitable<Result<nlohmann::json>> HttpClient::call_json(std::string target, Method method,
                                                              std::string path, std::string body) {
  Headers headers{{"Accept", "application/json"}};
  auto res = co_await request(std::move(target), method, std::move(path), std::move(body),
                              std::move(headers));
  if (!res) {
    co_return res.error();
  }
  co_return json_from_response(*res);
}

Result<nlohmann::json> json_from_response(const Response& response) {
  if (!response.ok()) {
    std::string message;
    auto parsed = parse_json_body(response.body);
    if (parsed && parsed->is_object() && parsed->contains("error") &&
        (*parsed)["error"].is_string()) {
      message = (*parsed)["error"].get<std::string>();
    } else {
      constexpr std::size_t kMaxShown = 200;
      message = response.body.substr(0, kMaxShown);
      while (!message.empty() && (message.back() == '\n' || message.back() == '\r')) {
        message.pop_back();
      }
    }
    return make_error(errc_for_status(response.status), "HTTP {}: {}", response.status,
                      message.empty() ? std::string("no message") : message);
  }
  if (response.body.empty()) {
    return nlohmann::json(nullptr);
  }
  return parse_json_body(response.body, kMaxJsonDepth, response.body.size());
}

Result<Response> http_call(std::string_view target, Method method, std::string_view path,
                           std::string body, std::chrono::milliseconds timeout) {
  asio::io_context io;
  HttpClientOptions options;
  options.timeout = timeout;
  HttpClient client(io.get_executor(), options);
  std::optional<Result<Response>> out;
  auto done = [&out](std::exception_ptr e, Result<Response> r) {
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        out.emplace(make_error(Errc::kIo, "http call failed: {}", ex.what()));
        return;
      }
    }
    out.emplace(std::move(r));
  };
  asio::co_spawn(io,
                 client.request(std::string(target), method, std::string(path), std::move(body)),
                 std::move(done));
  io.run();
  if (!out) {
    return make_error(Errc::kIo, "http call to {} did not complete", target);
  }
  return std::move(*out);
}

}  // namespace weft
