#include "datapath/sleeve_datapath.hpp"

#include "common/log.hpp"
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

namespace weft::datapath {

Result<std::unique_ptr<SleeveDatapath>> SleeveDatapath::start(SleeveConfig config, OwnedFd tap_fd,
                                                              UdpBatchSocket udp) {
  WEFT_TRY(auto tap, TapBatch::attach(std::move(tap_fd)));
  OwnedFd wake(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!wake) {
    return errno_error("sleeve eventfd");
  }
  std::unique_ptr<SleeveDatapath> dp(
      new SleeveDatapath(config, std::move(tap), std::move(udp), std::move(wake)));
  dp->thread_ = std::thread([d = dp.get()] { d->run(); });
  return dp;
}

SleeveDatapath::SleeveDatapath(SleeveConfig config, TapBatch tap, UdpBatchSocket udp, OwnedFd wake)
    : engine_(config),
      tap_(std::move(tap)),
      udp_(std::move(udp)),
      tap_in_(kBatch),
      udp_in_(kBatch),
      clock_(config.clock),
      wake_(std::move(wake)),
      local_(udp_.local_endpoint()) {}

SleeveDatapath::~SleeveDatapath() {
  stop();
}

void SleeveDatapath::stop() {
  if (!stopping_.exchange(true)) {
    const std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wake_.get(), &one, sizeof one);
  }
  if (thread_.joinable()) {
    thread_.join();
  }
}

void SleeveDatapath::post(std::function<void(SleeveEngine&)> fn) {
  {
    std::lock_guard lock(mu_);
    posted_.push_back(std::move(fn));
  }
  const std::uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(wake_.get(), &one, sizeof one);
}

void SleeveDatapath::add_or_update_peer(SleeveSession session) {
  post([s = std::move(session)](SleeveEngine& e) {
    auto r = e.update_peer(s);
    if (!r && r.error().code == make_error_code(Errc::kNotFound)) {
      r = e.add_peer(s);
    }
    if (!r) {
      log::warn("sleeve peer rejected",
                {{"peer", fmt::format("{:012x}", s.peer)}, {"error", r.error().to_string()}});
    }
  });
}

void SleeveDatapath::remove_peer(std::uint64_t peer) {
  post([peer](SleeveEngine& e) { e.remove_peer(peer); });
}

void SleeveDatapath::set_routes(SleeveRoutes routes) {
  post([r = std::move(routes)](SleeveEngine& e) mutable { e.set_routes(std::move(r)); });
}

SleeveStats SleeveDatapath::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

std::vector<SleevePeerStatus> SleeveDatapath::peer_status() const {
  std::lock_guard lock(mu_);
  return status_;
}

void SleeveDatapath::run_posted() {
  std::uint64_t drained = 0;
  [[maybe_unused]] auto n = ::read(wake_.get(), &drained, sizeof drained);
  std::vector<std::function<void(SleeveEngine&)>> todo;
  {
    std::lock_guard lock(mu_);
    todo.swap(posted_);
  }
  for (auto& fn : todo) {
    fn(engine_);
  }
}

void SleeveDatapath::snapshot() {
  auto status = engine_.peer_status();
  std::lock_guard lock(mu_);
  stats_ = engine_.stats();
  status_ = std::move(status);
}

void SleeveDatapath::emit() {
  if (!out_.datagrams().empty()) {
    const auto sent = udp_.send(out_.datagrams());
    if (sent.dropped > 0) {
      engine_.count_send_drops(sent.dropped);
    }
  }
  if (!out_.frames().empty()) {
    tap_.write(out_.frames());
  }
  out_.clear();
}

bool SleeveDatapath::pump_tap() {
  auto got = tap_.read(tap_in_);
  if (!got || *got == 0) {
    return false;
  }
  frame_views_.clear();
  for (std::size_t i = 0; i < *got; ++i) {
    frame_views_.push_back(tap_in_[i].bytes());
  }
  engine_.handle_tap_frames(frame_views_, out_);
  emit();
  return *got == tap_in_.size();
}

bool SleeveDatapath::pump_udp() {
  auto got = udp_.receive(udp_in_);
  if (!got || *got == 0) {
    return false;
  }
  engine_.handle_datagrams(std::span<const Datagram>(udp_in_.data(), *got), out_);
  emit();
  return *got == udp_in_.size();
}

void SleeveDatapath::run() {
  OwnedFd ep(::epoll_create1(EPOLL_CLOEXEC));
  for (int fd : {tap_.fd(), udp_.fd(), wake_.get()}) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    ::epoll_ctl(ep.get(), EPOLL_CTL_ADD, fd, &ev);
  }
  auto last_tick = clock_->now() - std::chrono::seconds(1);
  auto last_snapshot = last_tick;
  while (!stopping_.load()) {
    epoll_event events[4];
    const int n = ::epoll_wait(ep.get(), events, 4, 100);
    bool wake = false;
    for (int i = 0; i < n; ++i) {
      wake = wake || events[i].data.fd == wake_.get();
    }
    if (wake) {
      run_posted();
    }
    // Alternate between both directions until neither has a full batch waiting, so that
    // one busy direction cannot starve the other.
    for (int round = 0; round < 64; ++round) {
      const bool more_tap = pump_tap();
      const bool more_udp = pump_udp();
      if (!more_tap && !more_udp) {
        break;
      }
    }
    const auto now = clock_->now();
    if (now - last_tick >= std::chrono::milliseconds(100)) {
      last_tick = now;
      engine_.tick(out_);
      emit();
    }
    if (now - last_snapshot >= std::chrono::milliseconds(100)) {
      last_snapshot = now;
      snapshot();
    }
  }
  snapshot();
}

}  // namespace weft::datapath
