// SecureConn: the MessageConn of an established session: sealed, length-prefixed frames
// (protocol.hpp section 4) over a ByteStream, with a send queue drained by a writer
// coroutine, a reader coroutine that opens frames into a receive queue, and heartbeats.
//
// Contract: created and used on the control thread (the executor it is given); see
// MessageConn for receive()/send()/close(). Any frame that fails to open (tampered,
// replayed, reordered, wrong key), an oversize or malformed frame, a broken stream or a
// peer silent for heartbeat_misses intervals closes the connection, is logged once with
// the peer, and is counted in the shared TransportStats. Destroying the object closes the
// connection; its coroutines finish in the background and own the stream until then. The
// Clock must outlive the executor's work (it is the process clock, or a test's clock).
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include "common/byte_stream.hpp"
#include "common/clock.hpp"
#include "router/handshake.hpp"
#include "router/message_conn.hpp"

namespace weft::router {

// Wakes the one coroutine waiting on it (a condition variable for one executor). Waiters
// re-check their condition after every wake-up, and check their cancellation state.
class Wakeup {
 public:
  explicit Wakeup(const boost::asio::any_io_executor& executor);
  boost::asio::awaitable<void> wait();
  void notify();

 private:
  boost::asio::steady_timer timer_;
};

struct SecureConnOptions {
  // A side that sent nothing for about an interval sends a heartbeat; a peer silent for
  // heartbeat_misses intervals is declared dead.
  Clock::Duration heartbeat_interval = std::chrono::seconds(10);
  int heartbeat_misses = 3;
  // send() fails once this many bytes wait in the send queue (a stuck peer).
  std::size_t max_send_queue = 4 * MessageConn::kMaxMessageSize;
  // The reader stops reading while this many received bytes wait for receive().
  std::size_t max_receive_queue = 2 * MessageConn::kMaxMessageSize;
  // How long close() waits for the Close frame to be written before cutting the stream.
  Clock::Duration close_linger = std::chrono::seconds(2);
};

class SecureConn final : public MessageConn {
 public:
  // Takes the stream and the session from a successful handshake and starts the
  // connection's coroutines on `executor`.
  SecureConn(boost::asio::any_io_executor executor, std::unique_ptr<ByteStream> stream,
             Session session, bool outbound, Clock& clock, std::shared_ptr<TransportStats> stats,
             SecureConnOptions options = {});
  SecureConn(const SecureConn&) = delete;
  SecureConn& operator=(const SecureConn&) = delete;
  ~SecureConn() override;

  const PeerInfo& remote() const override;
  bool outbound() const override;
  boost::asio::awaitable<Result<std::vector<std::uint8_t>>> receive() override;
  Result<void> send(std::vector<std::uint8_t> message) override;
  void close(std::string reason) override;

  // True once the connection is closed for any reason; why() then says why.
  bool closed() const;
  std::string why() const;

  struct State;

 private:
  std::shared_ptr<State> state_;
};

// Makes `reason` fit a Close frame: at most kMaxCloseReason bytes of printable UTF-8
// (control characters become spaces; cut at a character boundary).
std::string sanitize_close_reason(std::string_view reason);

}  // namespace weft::router
