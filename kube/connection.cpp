// Design note: TLS and plain TCP share the request code through templates over the stream
// type (asio::ssl::stream<tcp::socket> or tcp::socket); Beast's HTTP parser reads both.
// The server name is checked by OpenSSL itself (X509_VERIFY_PARAM host or IP) so that a
// mismatch is reported with OpenSSL's reason ("hostname mismatch"), not as a bare failure.
#include "kube/connection.hpp"

#include <array>
#include <limits>
#include <optional>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

namespace weft::kube::detail {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
namespace beast = boost::beast;
namespace http = beast::http;
using Tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {

constexpr std::size_t kMaxHeaderBytes = 1024 * 1024;
constexpr std::size_t kMaxErrorBody = 1024 * 1024;
constexpr std::size_t kReadChunk = 64 * 1024;

bool is_ip(const std::string& host) {
  error_code ec;
  (void)asio::ip::make_address(host, ec);
  return !ec;
}

bool closed_early(const error_code& ec) {
  return ec == http::error::end_of_stream || ec == http::error::partial_message ||
         ec == asio::error::eof || ec == asio::error::connection_reset ||
         ec == asio::error::broken_pipe || ec == ssl::error::stream_truncated;
}

Error io_error(const Endpoint& ep, std::string_view what, const error_code& ec) {
  if (ec == http::error::body_limit || ec == http::error::header_limit ||
      ec == http::error::buffer_overflow) {
    return make_error(Errc::kTooLarge, "{} {}: response too large", what, ep.to_string());
  }
  if (ec.category() == http::make_error_code(http::error::bad_target).category() &&
      !closed_early(ec)) {
    return make_error(Errc::kMalformed, "{} {}: not HTTP: {}", what, ep.to_string(), ec.message());
  }
  return make_error(Errc::kUnavailable, "{} {}: {}", what, ep.to_string(), ec.message());
}

Headers fields_of(const http::fields& fields) {
  Headers out;
  for (const auto& f : fields) {
    out.emplace_back(std::string(f.name_string()), std::string(f.value()));
  }
  return out;
}

}  // namespace

struct Connection::Impl {
  Impl(asio::any_io_executor ex, std::shared_ptr<ssl::context> ctx)
      : executor(ex), tls_context(std::move(ctx)), socket(ex) {
    if (tls_context) {
      tls.emplace(ex, *tls_context);
    }
  }

  Tcp::socket& lowest() { return tls ? tls->next_layer() : socket; }

  asio::any_io_executor executor;
  std::shared_ptr<ssl::context> tls_context;
  Endpoint endpoint;
  Tcp::socket socket;                           // plain HTTP
  std::optional<ssl::stream<Tcp::socket>> tls;  // HTTPS (owns its own socket)
  beast::flat_buffer buffer;
  std::optional<http::response_parser<http::buffer_body>> stream_parser;
  std::array<char, kReadChunk> chunk{};
  bool keep_alive = false;
};

namespace {

using Impl = Connection::Impl;

http::request<http::string_body> make_request(const Endpoint& ep, Method method,
                                              const std::string& target, const Headers& headers,
                                              std::string body) {
  http::request<http::string_body> req;
  req.method(http::string_to_verb(to_string(method)));
  req.target(target);
  req.version(11);
  req.set(http::field::host, ep.to_string());
  for (const auto& [name, value] : headers) {
    req.set(name, value);
  }
  req.body() = std::move(body);
  req.keep_alive(true);
  req.prepare_payload();
  return req;
}

template <class Stream>
asio::awaitable<Result<Response>> round_trip_on(Stream& stream, Impl& impl,
                                                http::request<http::string_body> req,
                                                std::size_t max_body, bool* stale) {
  impl.keep_alive = false;
  auto [wec, written] =
      co_await http::async_write(stream, req, asio::as_tuple(asio::use_awaitable));
  if (wec) {
    *stale = closed_early(wec);
    co_return io_error(impl.endpoint, "cannot send request to", wec);
  }
  http::response_parser<http::string_body> parser;
  parser.header_limit(static_cast<std::uint32_t>(kMaxHeaderBytes));
  parser.body_limit(max_body);
  parser.skip(req.method() == http::verb::head);
  auto [rec, read] =
      co_await http::async_read(stream, impl.buffer, parser, asio::as_tuple(asio::use_awaitable));
  if (rec) {
    *stale = read == 0 && closed_early(rec);
    co_return io_error(impl.endpoint, "cannot read response from", rec);
  }
  auto msg = parser.release();
  impl.keep_alive = msg.keep_alive();
  Response res;
  res.status = static_cast<int>(msg.result_int());
  res.content_type = std::string(msg[http::field::content_type]);
  res.headers = fields_of(msg);
  res.body = std::move(msg.body());
  co_return res;
}

template <class Stream>
asio::awaitable<Result<std::string>> read_some_on(Stream& stream, Impl& impl) {
  if (!impl.stream_parser) {
    co_return make_error(Errc::kInvalidArgument, "no stream open");
  }
  auto& parser = *impl.stream_parser;
  while (!parser.is_done()) {
    parser.get().body().data = impl.chunk.data();
    parser.get().body().size = impl.chunk.size();
    auto [ec, n] = co_await http::async_read_some(stream, impl.buffer, parser,
                                                  asio::as_tuple(asio::use_awaitable));
    if (ec == http::error::need_buffer) {
      ec = {};
    }
    const std::size_t got = impl.chunk.size() - parser.get().body().size;
    if (got > 0) {
      co_return std::string(impl.chunk.data(), got);
    }
    if (ec) {
      impl.keep_alive = false;
      co_return io_error(impl.endpoint, "stream from", ec);
    }
  }
  impl.keep_alive = parser.get().keep_alive();
  co_return std::string();
}

template <class Stream>
asio::awaitable<Result<Response>> open_stream_on(Stream& stream, Impl& impl,
                                                 http::request<http::string_body> req) {
  impl.keep_alive = false;
  auto [wec, written] =
      co_await http::async_write(stream, req, asio::as_tuple(asio::use_awaitable));
  if (wec) {
    co_return io_error(impl.endpoint, "cannot send request to", wec);
  }
  impl.stream_parser.emplace();
  impl.stream_parser->header_limit(static_cast<std::uint32_t>(kMaxHeaderBytes));
  impl.stream_parser->body_limit(std::numeric_limits<std::uint64_t>::max());
  auto [rec, read] = co_await http::async_read_header(stream, impl.buffer, *impl.stream_parser,
                                                      asio::as_tuple(asio::use_awaitable));
  if (rec) {
    co_return io_error(impl.endpoint, "cannot read response from", rec);
  }
  const auto& head = impl.stream_parser->get();
  Response res;
  res.status = static_cast<int>(head.result_int());
  res.content_type = std::string(head[http::field::content_type]);
  res.headers = fields_of(head);
  if (res.ok()) {
    co_return res;
  }
  while (res.body.size() < kMaxErrorBody) {
    auto more = co_await read_some_on(stream, impl);
    if (!more || more->empty()) {
      break;
    }
    res.body += *more;
  }
  co_return res;
}

}  // namespace

std::string Endpoint::to_string() const {
  if (host.find(':') != std::string::npos) {
    return fmt::format("[{}]:{}", host, port);
  }
  return fmt::format("{}:{}", host, port);
}

Result<std::shared_ptr<ssl::context>> make_tls_context(const KubeConfig& config) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  error_code ec;
  if (!config.insecure_skip_tls_verify) {
    if (!config.ca.data.empty()) {
      ctx->add_certificate_authority(asio::buffer(config.ca.data), ec);
      if (ec) {
        return make_error(Errc::kInvalidArgument,
                          "certificate-authority: not a PEM certificate bundle: {}", ec.message());
      }
    } else if (!config.ca.path.empty()) {
      return make_error(Errc::kInvalidArgument, "certificate-authority {} was not loaded",
                        config.ca.path);
    } else {
      ctx->set_default_verify_paths(ec);
    }
  }
  if (!config.client_cert.empty()) {
    if (config.client_cert.data.empty() || config.client_key.data.empty()) {
      return make_error(Errc::kInvalidArgument, "client certificate or key was not loaded");
    }
    ctx->use_certificate_chain(asio::buffer(config.client_cert.data), ec);
    if (ec) {
      return make_error(Errc::kInvalidArgument, "client-certificate: not a PEM certificate: {}",
                        ec.message());
    }
    ctx->use_private_key(asio::buffer(config.client_key.data), ssl::context::pem, ec);
    if (ec) {
      return make_error(Errc::kInvalidArgument, "client-key: not a matching PEM key: {}",
                        ec.message());
    }
  }
  return ctx;
}

Connection::Connection(asio::any_io_executor executor, std::shared_ptr<ssl::context> tls)
    : impl_(std::make_unique<Impl>(std::move(executor), std::move(tls))) {}

Connection::~Connection() {
  close();
}

asio::awaitable<Result<void>> Connection::connect(Endpoint endpoint) {
  impl_->endpoint = endpoint;
  if (endpoint.tls && !impl_->tls) {
    co_return make_error(Errc::kInvalidArgument, "no TLS context for {}", endpoint.to_string());
  }
  std::vector<Tcp::endpoint> targets;
  error_code ec;
  const auto address = asio::ip::make_address(endpoint.host, ec);
  if (!ec) {
    targets.emplace_back(address, endpoint.port);
  } else {
    Tcp::resolver resolver(impl_->executor);
    auto [rec, results] = co_await resolver.async_resolve(
        endpoint.host, std::to_string(endpoint.port), asio::as_tuple(asio::use_awaitable));
    if (rec) {
      co_return make_error(Errc::kUnavailable, "cannot resolve {}: {}", endpoint.host,
                           rec.message());
    }
    for (const auto& r : results) {
      targets.push_back(r.endpoint());
    }
  }
  auto [cec, connected] =
      co_await asio::async_connect(impl_->lowest(), targets, asio::as_tuple(asio::use_awaitable));
  if (cec) {
    co_return make_error(Errc::kUnavailable, "cannot connect to {}: {}", endpoint.to_string(),
                         cec.message());
  }
  impl_->lowest().set_option(Tcp::no_delay(true), ec);
  if (!endpoint.tls) {
    co_return Result<void>();
  }
  SSL* handle = impl_->tls->native_handle();
  const std::string name = endpoint.verify_name.empty() ? endpoint.host : endpoint.verify_name;
  if (endpoint.verify) {
    impl_->tls->set_verify_mode(ssl::verify_peer);
    X509_VERIFY_PARAM* param = SSL_get0_param(handle);
    if (is_ip(name)) {
      X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str());
    } else {
      X509_VERIFY_PARAM_set1_host(param, name.c_str(), name.size());
    }
  } else {
    impl_->tls->set_verify_mode(ssl::verify_none);
  }
  if (!is_ip(name)) {
    SSL_set_tlsext_host_name(handle, name.c_str());
  }
  auto [hec] = co_await impl_->tls->async_handshake(ssl::stream_base::client,
                                                    asio::as_tuple(asio::use_awaitable));
  if (hec) {
    const long verify = SSL_get_verify_result(handle);
    if (endpoint.verify && verify != X509_V_OK) {
      co_return make_error(Errc::kAuthFailed, "TLS: the certificate of {} is not trusted: {}",
                           endpoint.to_string(), X509_verify_cert_error_string(verify));
    }
    co_return make_error(Errc::kUnavailable, "TLS handshake with {} failed: {}",
                         endpoint.to_string(), hec.message());
  }
  co_return Result<void>();
}

// The three calls below return the stream-specific coroutine directly: it owns its request,
// and the Connection outlives it (contract).
asio::awaitable<Result<Response>> Connection::round_trip(Method method, const std::string& target,
                                                         const Headers& headers, std::string body,
                                                         std::size_t max_body, bool* stale) {
  auto req = make_request(impl_->endpoint, method, target, headers, std::move(body));
  if (impl_->tls) {
    return round_trip_on(*impl_->tls, *impl_, std::move(req), max_body, stale);
  }
  return round_trip_on(impl_->socket, *impl_, std::move(req), max_body, stale);
}

asio::awaitable<Result<Response>> Connection::open_stream(Method method, const std::string& target,
                                                          const Headers& headers) {
  auto req = make_request(impl_->endpoint, method, target, headers, std::string());
  if (impl_->tls) {
    return open_stream_on(*impl_->tls, *impl_, std::move(req));
  }
  return open_stream_on(impl_->socket, *impl_, std::move(req));
}

asio::awaitable<Result<std::string>> Connection::read_some() {
  if (impl_->tls) {
    return read_some_on(*impl_->tls, *impl_);
  }
  return read_some_on(impl_->socket, *impl_);
}

bool Connection::reusable() const {
  return impl_->keep_alive && impl_->lowest().is_open();
}

void Connection::close() {
  error_code ec;
  impl_->keep_alive = false;
  impl_->lowest().shutdown(Tcp::socket::shutdown_both, ec);
  impl_->lowest().close(ec);
}

}  // namespace weft::kube::detail
