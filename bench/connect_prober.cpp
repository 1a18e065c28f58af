#include "bench/connect_prober.hpp"

#include <cerrno>
#include <deque>
#include <future>

#include <boost/asio/ip/tcp.hpp>

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace weft::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct Attempt {
  int fd = -1;  // -1 once finished
  std::size_t target = 0;
  SteadyTime started;
};

// Closes with a reset, so that thousands of probes leave no TIME_WAIT behind.
void abort_close(int fd) {
  const linger reset{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
  ::close(fd);
}

// The attempts of one prober, on its thread.
class ProbeLoop {
 public:
  ProbeLoop(const std::vector<ProbeTarget>& targets, std::vector<AttemptTally>& tallies,
            std::atomic<bool>* connected)
      : tallies_(tallies), connected_(connected) {
    for (const auto& t : targets) {
      endpoints_.emplace_back(t.address.to_asio(), t.port);
    }
  }
  ~ProbeLoop() {
    for (auto& a : in_flight_) {
      if (a.fd >= 0) {
        abort_close(a.fd);
      }
    }
  }
  ProbeLoop(const ProbeLoop&) = delete;
  ProbeLoop& operator=(const ProbeLoop&) = delete;

  // One new attempt per target.
  void start_attempts(SteadyTime now) {
    for (std::size_t i = 0; i < endpoints_.size(); ++i) {
      const auto& e = endpoints_[i];
      const int fd =
          ::socket(e.protocol().family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
      ++tallies_[i].attempts;
      if (fd < 0) {
        ++tallies_[i].errors;
        continue;
      }
      in_flight_.push_back({fd, i, now});
      if (::connect(fd, e.data(), e.size()) == 0) {
        finish(in_flight_.back(), 0);
      } else if (errno != EINPROGRESS) {
        finish(in_flight_.back(), errno);
      }
    }
  }

  // Attempts started before `deadline` with no answer yet were dropped.
  void expire(SteadyTime deadline) {
    while (!in_flight_.empty() &&
           (in_flight_.front().fd < 0 || in_flight_.front().started <= deadline)) {
      if (in_flight_.front().fd >= 0) {
        ++tallies_[in_flight_.front().target].timed_out;
        abort_close(in_flight_.front().fd);
      }
      in_flight_.pop_front();
    }
  }

  // Collects answers until `until`.
  void wait(SteadyTime until) {
    fds_.clear();
    polled_.clear();
    for (auto& a : in_flight_) {
      if (a.fd >= 0) {
        fds_.push_back({a.fd, POLLOUT, 0});
        polled_.push_back(&a);
      }
    }
    const auto left =
        std::max<std::chrono::nanoseconds>(std::chrono::nanoseconds(0), until - Clock::now());
    const timespec ts{static_cast<time_t>(left.count() / 1'000'000'000),
                      static_cast<long>(left.count() % 1'000'000'000)};
    if (::ppoll(fds_.data(), fds_.size(), &ts, nullptr) <= 0) {
      return;
    }
    for (std::size_t i = 0; i < fds_.size(); ++i) {
      if (fds_[i].revents != 0) {
        int error = 0;
        socklen_t length = sizeof error;
        ::getsockopt(polled_[i]->fd, SOL_SOCKET, SO_ERROR, &error, &length);
        finish(*polled_[i], error);
      }
    }
  }

 private:
  void finish(Attempt& a, int error) {
    AttemptTally& t = tallies_[a.target];
    if (error == 0) {
      t.connected.push_back(a.started);
      connected_[a.target] = true;
    } else if (error == ECONNREFUSED) {
      ++t.refused;
    } else {
      ++t.errors;
    }
    abort_close(a.fd);
    a.fd = -1;
  }

  std::vector<boost::asio::ip::tcp::endpoint> endpoints_;
  std::vector<AttemptTally>& tallies_;
  std::atomic<bool>* connected_;
  std::deque<Attempt> in_flight_;  // in start order
  std::vector<pollfd> fds_;
  std::vector<Attempt*> polled_;
};

}  // namespace

ConnectProber::ConnectProber(std::vector<ProbeTarget> targets, ProbePace pace)
    : targets_(std::move(targets)),
      pace_(pace),
      tallies_(targets_.size()),
      connected_(std::make_unique<std::atomic<bool>[]>(targets_.size())) {}

ConnectProber::~ConnectProber() {
  stop();
}

Result<void> ConnectProber::start(const Netns& ns) {
  auto handle = ns.duplicate();
  if (!handle) {
    return handle.error();
  }
  // run_in_netns keeps this thread's namespace; the probe loop runs on the thread it joins.
  std::promise<Result<void>> joined;
  auto result = joined.get_future();
  thread_ = std::thread([this, owned = std::move(*handle), &joined] {
    auto ran = run_in_netns(owned, [this, &joined]() -> Result<void> {
      joined.set_value(Result<void>{});
      run();
      return {};
    });
    if (!ran) {
      joined.set_value(ran.error());
    }
  });
  return result.get();
}

bool ConnectProber::connected(std::size_t i) const {
  return connected_[i].load();
}

std::vector<AttemptTally> ConnectProber::stop() {
  stopping_ = true;
  if (thread_.joinable()) {
    thread_.join();
  }
  return tallies_;
}

void ConnectProber::run() {
  ProbeLoop loop(targets_, tallies_, connected_.get());
  auto next = Clock::now();
  while (!stopping_) {
    const auto now = Clock::now();
    if (now >= next) {
      loop.start_attempts(now);
      // A stall (the machine busy) skips the attempts it missed instead of bursting them.
      next = std::max(next + pace_.interval, now);
    }
    loop.expire(now - pace_.timeout);
    loop.wait(next);
  }
}

ProbeServer::~ProbeServer() {
  stop();
}

Result<void> ProbeServer::start(const Netns& ns, const std::vector<std::uint16_t>& ports) {
  // Sockets stay in the namespace they were made in: bind them there, serve from here.
  for (std::uint16_t port : ports) {
    auto bound = run_in_netns(ns, [port]() -> Result<OwnedFd> {
      OwnedFd fd(::socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP));
      const int off = 0;
      const int on = 1;
      ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
      ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
      sockaddr_in6 any{};
      any.sin6_family = AF_INET6;
      any.sin6_port = htons(port);
      any.sin6_addr = in6addr_any;
      if (!fd || ::bind(fd.get(), reinterpret_cast<sockaddr*>(&any), sizeof any) != 0 ||
          ::listen(fd.get(), 1024) != 0) {
        return errno_error(fmt::format("probe server: TCP port {}", port));
      }
      return fd;
    });
    if (!bound) {
      return bound.error();
    }
    listeners_.push_back(std::move(*bound));
  }
  thread_ = std::thread([this] {
    std::vector<pollfd> fds;
    for (const auto& l : listeners_) {
      fds.push_back({l.get(), POLLIN, 0});
    }
    while (!stopping_) {
      if (::poll(fds.data(), fds.size(), 50) <= 0) {
        continue;
      }
      for (const auto& p : fds) {
        int c = -1;
        while ((p.revents & POLLIN) != 0 && (c = ::accept4(p.fd, nullptr, nullptr, 0)) >= 0) {
          ::close(c);
        }
      }
    }
  });
  return {};
}

void ProbeServer::stop() {
  stopping_ = true;
  if (thread_.joinable()) {
    thread_.join();
  }
  listeners_.clear();
}

}  // namespace weft::bench
