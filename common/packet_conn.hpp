// PacketConn: the datagram socket seam (the sleeve's UDP 6783, the mesh's UDP heartbeats),
// in the spirit of wireguard-go's conn.Bind: the real implementation (UDP with
// recvmmsg/sendmmsg, later) and the in-memory simulated network (tests/support/sim_network)
// implement it, and the code above it cannot tell them apart.
//
// Contract:
// - Executor affinity: every call happens on the executor the connection was created for
//   (one thread); no call is thread-safe. At most one receive_batch() is pending at a time;
//   send_batch() and close() may be called while it is pending.
// - Ownership: the caller owns the Datagram buffers in both directions; receive_batch()
//   keeps the span and writes into it until it completes, so the buffers must outlive the
//   operation. The connection must outlive its pending receive (close() it, let the
//   receive finish, then destroy it).
// - Datagrams: at most kMaxDatagramSize payload bytes. Delivery is best effort like UDP:
//   loss, duplication and reordering are possible.
// - Errors: a receive cancelled by per-operation cancellation (a TaskGroup, `op || timer`)
//   returns Errc::kCancelled. After close(), a pending receive completes and every later call
//   fails with boost::asio::error::bad_descriptor. close() is idempotent.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "common/endpoint.hpp"
#include "common/result.hpp"

namespace weft {

// Largest UDP payload over IPv4 (65535 - 20 IP - 8 UDP); also the bound over IPv6.
inline constexpr std::size_t kMaxDatagramSize = 65507;

// One datagram of a batch. `buffer` is storage, `size` how many of its bytes are the
// payload, so a batch reused across calls keeps its capacity: receive_batch() grows
// `buffer` when a datagram does not fit (never shrinks it) and sets `size`.
struct Datagram {
  Endpoint peer;  // destination when sending, source when received
  std::vector<std::uint8_t> buffer;
  std::size_t size = 0;

  std::span<const std::uint8_t> payload() const { return {buffer.data(), size}; }
  // Copies `bytes` into the buffer (reusing its capacity) and sets size.
  void assign(std::span<const std::uint8_t> bytes) {
    if (buffer.size() < bytes.size()) {
      buffer.resize(bytes.size());
    }
    std::copy(bytes.begin(), bytes.end(), buffer.begin());
    size = bytes.size();
  }
};

class PacketConn {
 public:
  virtual ~PacketConn() = default;

  // Waits until at least one datagram is available, then fills up to out.size() entries
  // (out must not be empty) and returns how many. Cancellable; see the contract above.
  virtual boost::asio::awaitable<Result<std::size_t>> receive_batch(std::span<Datagram> out) = 0;

  // Sends in order without blocking and returns how many datagrams were accepted (a
  // datagram lost in the network counts as accepted, as with UDP). Stops at the first one it
  // cannot accept; fails only when the first one cannot be (too large: Errc::kTooLarge;
  // closed: bad_descriptor).
  virtual Result<std::size_t> send_batch(std::span<const Datagram> in) = 0;

  virtual Endpoint local_endpoint() const = 0;

  // Stops receiving and sending; wakes a pending receive. Idempotent.
  virtual void close() = 0;
};

}  // namespace weft
