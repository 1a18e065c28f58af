#include "policy/nflog_reader.hpp"

#include <array>
#include <cerrno>
#include <cstring>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/log.hpp"
#include <linux/netlink.h>
#include <sys/socket.h>
#include <unistd.h>

namespace weft::policy {

namespace asio = boost::asio;

struct NflogReader::State {
  explicit State(asio::any_io_executor executor) : descriptor(executor) {}
  asio::posix::stream_descriptor descriptor;
};

NflogReader::NflogReader(asio::any_io_executor executor, std::uint16_t group, Handler handler)
    : executor_(executor), group_(group), handler_(std::move(handler)), tasks_(executor) {}

NflogReader::~NflogReader() = default;

Result<void> NflogReader::open() {
  const int fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_NETFILTER);
  if (fd < 0) {
    if (errno == EPROTONOSUPPORT || errno == EAFNOSUPPORT) {
      return make_error(Errc::kUnsupported, "the kernel has no nfnetlink (NFLOG)");
    }
    return errno_error("NFLOG socket");
  }
  const int buffer = 4 * 1024 * 1024;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
  sockaddr_nl local{};
  local.nl_family = AF_NETLINK;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
    auto e = errno_error("NFLOG bind");
    ::close(fd);
    return e;
  }
  const auto request = nflog_bind_request(group_, 256, 1);
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (::sendto(fd, request.data(), request.size(), 0, reinterpret_cast<sockaddr*>(&kernel),
               sizeof kernel) < 0) {
    auto e = errno_error("NFLOG config");
    ::close(fd);
    return e;
  }
  // The kernel acknowledges the config request (an nlmsgerr with error 0) or refuses it.
  std::array<std::uint8_t, 1024> answer{};
  for (int tries = 0; tries < 100; ++tries) {
    const ssize_t n = ::recv(fd, answer.data(), answer.size(), 0);
    if (n < 0 && errno == EAGAIN) {
      ::usleep(1000);
      continue;
    }
    if (n >= static_cast<ssize_t>(sizeof(nlmsghdr) + sizeof(nlmsgerr))) {
      nlmsghdr h{};
      std::memcpy(&h, answer.data(), sizeof h);
      nlmsgerr err{};
      std::memcpy(&err, answer.data() + sizeof h, sizeof err);
      if (h.nlmsg_type == NLMSG_ERROR && err.error != 0) {
        ::close(fd);
        return make_error(err.error == -EBUSY ? Errc::kConflict : Errc::kIo, "NFLOG group {}: {}",
                          group_, std::strerror(-err.error));
      }
    }
    break;
  }
  state_ = std::make_unique<State>(executor_);
  state_->descriptor.assign(fd);
  return {};
}

void NflogReader::start() {
  if (state_) {
    tasks_.spawn(run(), "npc-nflog");
  }
}

asio::awaitable<void> NflogReader::stop() {
  tasks_.cancel();
  co_await tasks_.join();
  if (state_) {
    boost::system::error_code ignored;
    state_->descriptor.close(ignored);
  }
}

asio::awaitable<void> NflogReader::run() {
  std::vector<std::uint8_t> buffer(256 * 1024);
  for (;;) {
    auto [ec] = co_await state_->descriptor.async_wait(asio::posix::stream_descriptor::wait_read,
                                                       asio::as_tuple(asio::use_awaitable));
    if (ec) {
      co_return;
    }
    for (;;) {
      const ssize_t n = ::recv(state_->descriptor.native_handle(), buffer.data(), buffer.size(), 0);
      if (n < 0) {
        if (errno == ENOBUFS) {
          log::warn("weft-npc: NFLOG messages lost (socket buffer full)", {});
          continue;
        }
        break;  // EAGAIN: wait again
      }
      auto packets = parse_nflog({buffer.data(), static_cast<std::size_t>(n)});
      if (!packets) {
        ++malformed_;
        continue;
      }
      for (const auto& p : *packets) {
        handler_(p);
      }
    }
  }
}

}  // namespace weft::policy
