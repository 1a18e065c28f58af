#include "common/udp_batch.hpp"

#include <cerrno>
#include <cstring>
#include <memory>

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace weft {
namespace {

constexpr std::size_t kReceiveBuffer = 65536;
constexpr int kSocketBuffer = 4 << 20;

Endpoint unmapped(const Endpoint& ep) {
  if (ep.address().is_v6() && ep.address().to_v6().is_v4_mapped()) {
    return Endpoint(
        boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, ep.address().to_v6()),
        ep.port());
  }
  return ep;
}

// Writes `ep` as a sockaddr of `family` (IPv4 mapped into IPv6 for a dual-stack socket).
socklen_t to_sockaddr(const Endpoint& ep, int family, sockaddr_storage& ss) {
  Endpoint e = ep;
  if (family == AF_INET6 && e.address().is_v4()) {
    e = Endpoint(boost::asio::ip::make_address_v6(boost::asio::ip::v4_mapped, e.address().to_v4()),
                 e.port());
  }
  std::memcpy(&ss, e.data(), e.size());
  return static_cast<socklen_t>(e.size());
}

Endpoint from_sockaddr(const sockaddr_storage& ss, socklen_t len) {
  Endpoint e;
  std::memcpy(e.data(), &ss, std::min<std::size_t>(len, sizeof(ss)));
  e.resize(len);
  return unmapped(e);
}

}  // namespace

struct UdpBatchSocket::Scratch {
  mmsghdr msgs[kMaxBatch];
  iovec iovs[kMaxBatch];
  sockaddr_storage addrs[kMaxBatch];
};

UdpBatchSocket::UdpBatchSocket(OwnedFd fd, int family, Endpoint local)
    : fd_(std::move(fd)), family_(family), local_(local), scratch_(std::make_unique<Scratch>()) {}
UdpBatchSocket::UdpBatchSocket(UdpBatchSocket&&) noexcept = default;
UdpBatchSocket& UdpBatchSocket::operator=(UdpBatchSocket&&) noexcept = default;
UdpBatchSocket::~UdpBatchSocket() = default;

Result<UdpBatchSocket> UdpBatchSocket::open(const Netns& ns, const Endpoint& local) {
  const int family = local.address().is_v4() ? AF_INET : AF_INET6;
  return run_in_netns(ns, [&]() -> Result<UdpBatchSocket> {
    OwnedFd fd(::socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd) {
      return errno_error("udp socket");
    }
    const int zero = 0;
    const int one = 1;
    if (family == AF_INET6) {
      ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
      const int pmtu = IPV6_PMTUDISC_DO;
      ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_MTU_DISCOVER, &pmtu, sizeof pmtu);
    }
    // Also for the IPv4 half of a dual-stack socket.
    const int pmtu4 = IP_PMTUDISC_DO;
    ::setsockopt(fd.get(), IPPROTO_IP, IP_MTU_DISCOVER, &pmtu4, sizeof pmtu4);
    ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    // Large buffers ride out bursts of a whole batch; the FORCE variants (CAP_NET_ADMIN)
    // pass net.core.[rw]mem_max, which is small in a fresh namespace.
    if (::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUFFORCE, &kSocketBuffer, sizeof kSocketBuffer)) {
      ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &kSocketBuffer, sizeof kSocketBuffer);
    }
    if (::setsockopt(fd.get(), SOL_SOCKET, SO_SNDBUFFORCE, &kSocketBuffer, sizeof kSocketBuffer)) {
      ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDBUF, &kSocketBuffer, sizeof kSocketBuffer);
    }
    sockaddr_storage ss{};
    const socklen_t len = to_sockaddr(local, family, ss);
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0) {
      return errno_error(fmt::format("bind udp {}:{}", local.address().to_string(), local.port()));
    }
    sockaddr_storage bound{};
    socklen_t blen = sizeof bound;
    ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&bound), &blen);
    return UdpBatchSocket(std::move(fd), family, from_sockaddr(bound, blen));
  });
}

Result<std::size_t> UdpBatchSocket::receive(std::span<Datagram> out) {
  const std::size_t n = std::min(out.size(), kMaxBatch);
  Scratch& s = *scratch_;
  for (std::size_t i = 0; i < n; ++i) {
    if (out[i].buffer.size() < kReceiveBuffer) {
      out[i].buffer.resize(kReceiveBuffer);
    }
    s.iovs[i] = iovec{out[i].buffer.data(), out[i].buffer.size()};
    s.msgs[i] = mmsghdr{};
    s.msgs[i].msg_hdr.msg_name = &s.addrs[i];
    s.msgs[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
    s.msgs[i].msg_hdr.msg_iov = &s.iovs[i];
    s.msgs[i].msg_hdr.msg_iovlen = 1;
  }
  const int got = ::recvmmsg(fd_.get(), s.msgs, static_cast<unsigned>(n), MSG_DONTWAIT, nullptr);
  if (got < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
      return std::size_t{0};
    }
    return errno_error("recvmmsg");
  }
  for (int i = 0; i < got; ++i) {
    out[static_cast<std::size_t>(i)].size = s.msgs[i].msg_len;
    out[static_cast<std::size_t>(i)].peer =
        from_sockaddr(s.addrs[i], s.msgs[i].msg_hdr.msg_namelen);
  }
  return static_cast<std::size_t>(got);
}

UdpBatchSocket::SendResult UdpBatchSocket::send(std::span<const Datagram> in, int wait_ms) {
  SendResult r;
  Scratch& s = *scratch_;
  std::size_t done = 0;
  while (done < in.size()) {
    const std::size_t n = std::min(in.size() - done, kMaxBatch);
    for (std::size_t i = 0; i < n; ++i) {
      const Datagram& d = in[done + i];
      s.iovs[i] = iovec{const_cast<std::uint8_t*>(d.buffer.data()), d.size};
      s.msgs[i] = mmsghdr{};
      s.msgs[i].msg_hdr.msg_name = &s.addrs[i];
      s.msgs[i].msg_hdr.msg_namelen = to_sockaddr(d.peer, family_, s.addrs[i]);
      s.msgs[i].msg_hdr.msg_iov = &s.iovs[i];
      s.msgs[i].msg_hdr.msg_iovlen = 1;
    }
    const int sent = ::sendmmsg(fd_.get(), s.msgs, static_cast<unsigned>(n), MSG_DONTWAIT);
    if (sent > 0) {
      done += static_cast<std::size_t>(sent);
      r.sent += static_cast<std::size_t>(sent);
      continue;
    }
    if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)) {
      pollfd p{fd_.get(), POLLOUT, 0};
      if (::poll(&p, 1, wait_ms) > 0) {
        continue;
      }
    } else if (sent < 0 && errno == EINTR) {
      continue;
    }
    ++done;  // the first one was refused (EMSGSIZE, ENETUNREACH, ...) or we gave up waiting
    ++r.dropped;
  }
  return r;
}

}  // namespace weft
