// Internal to weft_kube: one HTTP/1.1 connection to the API server (TLS or plain TCP) and the
// TLS context built from a KubeConfig. The Client keeps idle ones for keep-alive and gives
// one to each watch.
//
// Contract: one operation at a time, on the executor given at construction. No call throws
// except on cancellation (then the connection must be dropped). Errors: kUnavailable for
// connection failures (refused, reset, closed early), kAuthFailed for a server certificate
// that does not verify, kTooLarge, kMalformed for bytes that are not HTTP. Timeouts are the
// caller's (`op || timer`).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "common/http.hpp"
#include "common/result.hpp"
#include "kube/config.hpp"

namespace boost::asio::ssl {
class context;
}  // namespace boost::asio::ssl

namespace weft::kube::detail {

// Trust anchors, client certificate and protocol floor (TLS 1.2) for every connection of a
// client. kInvalidArgument naming the field when a PEM does not load.
Result<std::shared_ptr<boost::asio::ssl::context>> make_tls_context(const KubeConfig& config);

struct Endpoint {
  std::string host;  // name or IP literal (IPv6 without brackets)
  std::uint16_t port = 443;
  bool tls = true;
  bool verify = true;       // check the chain and the name
  std::string verify_name;  // name the certificate must carry (default: host); SNI when a name

  std::string to_string() const;  // "host:port", "[v6]:port"
};

class Connection {
 public:
  Connection(boost::asio::any_io_executor executor, std::shared_ptr<boost::asio::ssl::context> tls);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  // Resolves, connects and (for TLS) handshakes.
  boost::asio::awaitable<Result<void>> connect(Endpoint endpoint);

  // Sends a request and reads the whole response (body at most `max_body` bytes).
  // `stale` is set when the connection failed before any response byte arrived (a reused
  // keep-alive connection that the server had closed: safe to retry on a new one).
  // (Not coroutines: they return the stream's coroutine, which owns a copy of the request.)
  boost::asio::awaitable<Result<Response>> round_trip(Method method, const std::string& target,
                                                      const Headers& headers, std::string body,
                                                      std::size_t max_body, bool* stale);

  // Sends a request whose response body is a stream; returns the status and fields (for a
  // non-2xx status also the body, up to 1 MiB). Then read_some() until it returns "".
  boost::asio::awaitable<Result<Response>> open_stream(Method method, const std::string& target,
                                                       const Headers& headers);
  // The next bytes of the streamed body; "" once it has ended.
  boost::asio::awaitable<Result<std::string>> read_some();

  // The server allows another request on this connection.
  bool reusable() const;
  void close();

  struct Impl;  // the streams and parser state (connection.cpp)

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace weft::kube::detail
