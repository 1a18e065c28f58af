// UdpBatchSocket: a non-blocking UDP socket that moves datagrams in batches with
// recvmmsg/sendmmsg, for datapath threads that poll their fds themselves (the sleeve). The
// unit is common/datagram.hpp.
//
// Design note: the datapath thread owns the socket and blocks in epoll, not in an
// io_context, so that crypto and I/O never touch the control thread. Batches amortise the
// system call (the main cost of a naive TAP<->UDP relay). UDP GSO/GRO would fit behind
// send()/receive() (one Datagram = one segment), not done yet. Datagrams go out with DF set
// (IP_PMTUDISC_DO): oversize ones fail locally or are dropped on the path, never
// fragmented, which is what the sleeve's PMTU probes rely on. A socket bound to [::] is
// dual-stack: IPv4 peers are passed in and reported as plain IPv4 endpoints.
//
// Contract: one thread uses a socket at a time (it keeps scratch arrays). Errors: open()
// fails with the errno mapped to Errc; receive() returns 0 when nothing is waiting.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "common/datagram.hpp"
#include "common/netns.hpp"

struct mmsghdr;
struct iovec;

namespace weft {

class UdpBatchSocket {
 public:
  static constexpr std::size_t kMaxBatch = 64;

  // Binds `local` inside `ns` (the socket is created on a thread that joined `ns` and stays
  // there). Port 0 picks a free port; see local_endpoint().
  static Result<UdpBatchSocket> open(const Netns& ns, const Endpoint& local);

  UdpBatchSocket(UdpBatchSocket&&) noexcept;
  UdpBatchSocket& operator=(UdpBatchSocket&&) noexcept;
  ~UdpBatchSocket();

  int fd() const { return fd_.get(); }
  Endpoint local_endpoint() const { return local_; }

  // Receives up to min(out.size(), kMaxBatch) datagrams without blocking; each buffer grows
  // to hold a full datagram. Returns how many (0: none waiting).
  Result<std::size_t> receive(std::span<Datagram> out);

  struct SendResult {
    std::size_t sent = 0;
    std::size_t dropped = 0;  // refused by the kernel (too big, unreachable, ...)
  };
  // Sends every datagram in order; waits (poll, up to `wait_ms` each time) while the socket
  // buffer is full; datagrams the kernel refuses are skipped and counted.
  SendResult send(std::span<const Datagram> in, int wait_ms = 100);

 private:
  struct Scratch;
  UdpBatchSocket(OwnedFd fd, int family, Endpoint local);

  OwnedFd fd_;
  int family_ = 0;
  Endpoint local_;
  std::unique_ptr<Scratch> scratch_;
};

}  // namespace weft
