// ByteStream: a reliable, ordered byte stream (a TCP connection): the seam under the mesh's
// control connections. The real TCP connection (tcp_stream.hpp) and the test streams
// (tests/support/failing_stream.hpp) implement it; message framing lives above it.
//
// Contract:
// - Executor affinity: every call happens on the stream's executor; not thread-safe. One
//   reader coroutine and one writer coroutine at a time (a read and a write may be pending
//   together).
// - Ownership: buffers passed to read_some()/write_all() must stay valid until the operation
//   completes; the stream must outlive its pending operations (close() it, let them finish,
//   then destroy it). Destroying a stream closes it.
// - Errors: boost::asio::error::eof once the peer closed and every byte before its close
//   was read; boost::asio::error::connection_reset when the connection broke (reset, or
//   the network between the hosts failed) or a write finds the peer closed; after the local
//   close() (also for operations pending at that moment) boost::asio::error::bad_descriptor;
//   per-operation cancellation returns Errc::kCancelled. close() is idempotent.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include <boost/asio/awaitable.hpp>

#include "common/endpoint.hpp"
#include "common/result.hpp"

namespace weft {

class ByteStream {
 public:
  virtual ~ByteStream() = default;

  // Waits until at least one byte is available and returns how many were copied into out
  // (1..out.size(); out must not be empty).
  virtual boost::asio::awaitable<Result<std::size_t>> read_some(std::span<std::uint8_t> out) = 0;

  // Completes when every byte was handed to the connection (not when the peer read it);
  // waits while the connection's send window is full. On error, an unknown prefix was sent.
  virtual boost::asio::awaitable<Result<void>> write_all(std::span<const std::uint8_t> in) = 0;

  virtual Endpoint local_endpoint() const = 0;
  virtual Endpoint remote_endpoint() const = 0;

  // Closes both directions: the peer reads what was sent before, then eof. Idempotent.
  virtual void close() = 0;
};

}  // namespace weft
