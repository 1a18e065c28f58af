// TcpTransport: the real Transport: TCP on port 6783 over IPv4 or IPv6, the handshake of
// router/handshake.hpp with a timeout, then SecureConn. Incoming connections pass a
// per-source token-bucket rate limit and a cap on concurrent handshakes before any crypto
// runs.
//
// Contract: constructed, used and destroyed on the control thread (the executor given).
// listen() binds and starts accepting; accept() yields authenticated incoming connections
// (failed incoming handshakes are logged and counted, never returned); dial() connects to
// "host", "host:port", "[v6]" or "[v6]:port" (default port 6783) with a connect timeout,
// then handshakes. close() stops listening, fails a pending accept() and closes incoming
// connections not claimed yet; it is called by the destructor. The Clock must outlive the
// executor's work. Counters are in stats().
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "common/clock.hpp"
#include "common/endpoint.hpp"
#include "common/result.hpp"
#include "router/handshake.hpp"
#include "router/message_conn.hpp"
#include "router/secure_conn.hpp"

namespace weft::router {

struct TcpTransportOptions {
  // Listen address: "::" (both families where the system allows), "0.0.0.0", or one
  // address. Port 0 picks a free port (tests); see local_endpoint().
  std::string listen_address = "::";
  std::uint16_t port = kDefaultPort;
  Clock::Duration connect_timeout = std::chrono::seconds(10);
  Clock::Duration handshake_timeout = std::chrono::seconds(10);
  // New incoming connections per second from one source address, and the burst allowed.
  double accept_rate = 2.0;
  double accept_burst = 10.0;
  std::size_t max_handshakes = 64;  // incoming handshakes in progress
  std::size_t max_unclaimed = 64;   // authenticated connections waiting for accept()
  SecureConnOptions connection;
};

// Token buckets keyed by source address: each key holds up to `burst` tokens and gains
// `rate` per second; a connection takes one. Memory is bounded: past `max_keys` the full
// (idle) buckets are dropped, and if that is not enough, all of them.
class RateLimiter {
 public:
  RateLimiter(double rate, double burst, std::size_t max_keys = 4096);
  bool allow(const std::string& key, Clock::TimePoint now);
  std::size_t keys() const { return buckets_.size(); }

 private:
  struct Bucket {
    double tokens = 0;
    Clock::TimePoint last;
  };
  double refill(Bucket& b, Clock::TimePoint now) const;

  double rate_;
  double burst_;
  std::size_t max_keys_;
  std::unordered_map<std::string, Bucket> buckets_;
};

class TcpTransport final : public Transport {
 public:
  TcpTransport(boost::asio::any_io_executor executor, Clock& clock,
               std::shared_ptr<const HandshakeConfig> config, TcpTransportOptions options = {});
  TcpTransport(const TcpTransport&) = delete;
  TcpTransport& operator=(const TcpTransport&) = delete;
  ~TcpTransport() override;

  // Binds the listen address and starts accepting. kInvalidArgument for a bad address,
  // the socket error (address in use, ...) otherwise.
  Result<void> listen();
  // The bound address (after listen()).
  Endpoint local_endpoint() const;

  boost::asio::awaitable<Result<std::unique_ptr<MessageConn>>> dial(std::string address) override;
  boost::asio::awaitable<Result<std::unique_ptr<MessageConn>>> accept() override;
  void close();

  const TransportStats& stats() const { return *stats_; }

  struct State;

 private:
  std::shared_ptr<TransportStats> stats_;
  std::shared_ptr<State> state_;
};

}  // namespace weft::router
