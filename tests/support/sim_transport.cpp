#include "tests/support/sim_transport.hpp"

#include <algorithm>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

namespace weft::test {

namespace asio = boost::asio;
using router::MessageConn;
using router::PeerInfo;

// One connection: two ends, each with an inbox of (delivery time, message).
struct SimMeshLink {
  explicit SimMeshLink(const asio::any_io_executor& ex)
      : wake{asio::steady_timer(ex), asio::steady_timer(ex)} {
    for (auto& w : wake) {
      w.expires_at(asio::steady_timer::time_point::max());
    }
  }
  void close(const std::string& why) {
    if (!closed) {
      closed = true;
      reason = why;
    }
    for (auto& w : wake) {
      w.cancel();
    }
  }

  SimTransport* host[2] = {nullptr, nullptr};  // 0: dialler, 1: acceptor
  PeerInfo info[2];                            // what end i knows of the other
  std::deque<std::pair<Clock::TimePoint, std::vector<std::uint8_t>>> inbox[2];
  asio::steady_timer wake[2];
  bool closed = false;
  std::string reason;
};

class SimMeshConn final : public MessageConn {
 public:
  SimMeshConn(SimMeshNet& net, std::shared_ptr<SimMeshLink> link, int end)
      : net_(net), link_(std::move(link)), end_(end) {}
  ~SimMeshConn() override { link_->close("connection closed by peer"); }

  const PeerInfo& remote() const override { return link_->info[end_]; }
  bool outbound() const override { return end_ == 0; }

  asio::awaitable<Result<std::vector<std::uint8_t>>> receive() override {
    auto link = link_;
    auto& inbox = link->inbox[end_];
    for (;;) {
      if (link->closed) {
        co_return make_error(Errc::kUnavailable, "connection closed: {}", link->reason);
      }
      if (!inbox.empty()) {
        const auto now = net_.clock_.now();
        if (inbox.front().first <= now) {
          auto message = std::move(inbox.front().second);
          inbox.pop_front();
          co_return message;
        }
        if (!co_await net_.clock_.sleep_for(inbox.front().first - now)) {
          co_return make_error(Errc::kCancelled, "receive cancelled");
        }
        continue;
      }
      co_await link->wake[end_].async_wait(asio::as_tuple(asio::use_awaitable));
      const auto state = co_await asio::this_coro::cancellation_state;
      if (state.cancelled() != asio::cancellation_type::none) {
        co_return make_error(Errc::kCancelled, "receive cancelled");
      }
    }
  }

  Result<void> send(std::vector<std::uint8_t> message) override {
    if (link_->closed) {
      return make_error(Errc::kUnavailable, "connection closed: {}", link_->reason);
    }
    SimTransport& from = *link_->host[end_];
    SimTransport& to = *link_->host[1 - end_];
    ++from.stats_.messages_sent;
    from.stats_.bytes_sent += message.size();
    if (!net_.reachable(from, to) || net_.rng_.chance(net_.config_.loss)) {
      ++from.stats_.messages_lost;
      return {};
    }
    link_->inbox[1 - end_].emplace_back(net_.clock_.now() + net_.config_.latency,
                                        std::move(message));
    link_->wake[1 - end_].cancel();
    return {};
  }

  void close(std::string reason) override { link_->close(reason); }

 private:
  SimMeshNet& net_;
  std::shared_ptr<SimMeshLink> link_;
  int end_;
};

SimTransport::SimTransport(SimMeshNet& net, std::string address, std::uint16_t port)
    : net_(net), address_(std::move(address)), port_(port), accept_wake_(net.executor_) {
  host_ = address_.substr(0, address_.rfind(':'));
  accept_wake_.expires_at(asio::steady_timer::time_point::max());
}

SimTransport::~SimTransport() = default;

void SimTransport::set_identity(router::PeerName name, std::string nickname, std::uint64_t uid) {
  name_ = name;
  nickname_ = std::move(nickname);
  uid_ = uid;
}

void SimTransport::set_up(bool up) {
  up_ = up;
  if (!up) {
    accept_queue_.clear();
    net_.close_host_links(*this, "host down");
  }
}

PeerInfo SimTransport::info() const {
  PeerInfo i;
  i.name = name_;
  i.nickname = nickname_;
  i.uid = uid_;
  i.listen_port = port_;
  i.protocol_version = 1;
  return i;
}

asio::awaitable<Result<std::unique_ptr<MessageConn>>> SimTransport::dial(std::string address) {
  ++stats_.dials;
  SimTransport* target = net_.find(address);
  const auto rtt = 2 * net_.config_.latency;
  if (target == nullptr || !up_) {
    co_await net_.clock_.sleep_for(rtt);
    co_return make_error(Errc::kUnavailable, "dial {}: no route to host", address);
  }
  if (!target->up_) {
    co_await net_.clock_.sleep_for(rtt);
    co_return make_error(Errc::kUnavailable, "dial {}: connection refused", address);
  }
  if (!net_.reachable(*this, *target)) {
    co_await net_.clock_.sleep_for(net_.config_.dial_timeout);
    co_return make_error(Errc::kTimeout, "dial {}: connect timed out", address);
  }
  if (!co_await net_.clock_.sleep_for(rtt)) {
    co_return make_error(Errc::kCancelled, "dial {}: cancelled", address);
  }
  if (!target->up_ || !up_ || !net_.reachable(*this, *target)) {
    co_return make_error(Errc::kUnavailable, "dial {}: connection refused", address);
  }
  auto link = std::make_shared<SimMeshLink>(net_.executor_);
  link->host[0] = this;
  link->host[1] = target;
  link->info[0] = target->info();
  link->info[0].remote_address = address;
  link->info[1] = info();
  link->info[1].remote_address = fmt::format("{}:{}", host_, net_.next_ephemeral_++);
  net_.register_link(link);
  target->accept_queue_.push_back(std::make_unique<SimMeshConn>(net_, link, 1));
  target->accept_wake_.cancel();
  co_return std::make_unique<SimMeshConn>(net_, link, 0);
}

asio::awaitable<Result<std::unique_ptr<MessageConn>>> SimTransport::accept() {
  for (;;) {
    if (!accept_queue_.empty()) {
      auto conn = std::move(accept_queue_.front());
      accept_queue_.pop_front();
      co_return conn;
    }
    co_await accept_wake_.async_wait(asio::as_tuple(asio::use_awaitable));
    const auto state = co_await asio::this_coro::cancellation_state;
    if (state.cancelled() != asio::cancellation_type::none) {
      co_return make_error(Errc::kCancelled, "accept cancelled");
    }
  }
}

SimMeshNet::SimMeshNet(asio::any_io_executor executor, Clock& clock, Rng& rng, SimMeshConfig config)
    : executor_(executor), clock_(clock), rng_(rng), config_(config), tasks_(executor) {}

SimMeshNet::~SimMeshNet() {
  for (auto& w : links_) {
    if (auto l = w.lock()) {
      l->close("network gone");
    }
  }
}

SimTransport& SimMeshNet::add_host(const std::string& address) {
  const auto colon = address.rfind(':');
  const auto port = static_cast<std::uint16_t>(std::stoi(address.substr(colon + 1)));
  auto [it, inserted] =
      hosts_.emplace(address, std::make_unique<SimTransport>(*this, address, port));
  return *it->second;
}

SimTransport* SimMeshNet::find(const std::string& address) const {
  auto it = hosts_.find(address);
  return it == hosts_.end() ? nullptr : it->second.get();
}

bool SimMeshNet::reachable(const SimTransport& a, const SimTransport& b) const {
  if (!a.up_ || !b.up_) {
    return false;
  }
  auto group = [&](const SimTransport& t) {
    auto it = group_.find(t.host_);
    return it == group_.end() ? 0 : it->second;
  };
  if (group(a) != group(b)) {
    return false;
  }
  return !blocked_.contains({std::min(a.host_, b.host_), std::max(a.host_, b.host_)});
}

void SimMeshNet::partition(const std::map<std::string, int>& group_of_host) {
  group_ = group_of_host;
  tasks_.spawn(keepalive_check(), "keepalive");
}

void SimMeshNet::heal() {
  group_.clear();
}

void SimMeshNet::block(const std::string& a, const std::string& b) {
  blocked_.insert({std::min(a, b), std::max(a, b)});
  tasks_.spawn(keepalive_check(), "keepalive");
}

void SimMeshNet::unblock(const std::string& a, const std::string& b) {
  blocked_.erase({std::min(a, b), std::max(a, b)});
}

asio::awaitable<void> SimMeshNet::keepalive_check() {
  co_await asio::this_coro::throw_if_cancelled(false);
  if (!co_await clock_.sleep_for(config_.keepalive_timeout)) {
    co_return;
  }
  for (auto& w : links_) {
    auto l = w.lock();
    if (l && !l->closed && !reachable(*l->host[0], *l->host[1])) {
      l->close("keepalive timeout");
    }
  }
}

void SimMeshNet::register_link(const std::shared_ptr<SimMeshLink>& link) {
  // Forget dead links now and then so the list stays proportional to the live ones.
  if (links_.size() >= gc_at_) {
    std::erase_if(links_, [](const std::weak_ptr<SimMeshLink>& w) {
      auto l = w.lock();
      return !l || l->closed;
    });
    gc_at_ = std::max<std::size_t>(64, 2 * links_.size());
  }
  links_.push_back(link);
}

void SimMeshNet::close_host_links(const SimTransport& host, const std::string& reason) {
  for (auto& w : links_) {
    auto l = w.lock();
    if (l && (l->host[0] == &host || l->host[1] == &host)) {
      l->close(reason);
    }
  }
}

std::size_t SimMeshNet::open_links() const {
  return static_cast<std::size_t>(std::count_if(links_.begin(), links_.end(), [](auto& w) {
    auto l = w.lock();
    return l && !l->closed;
  }));
}

SimMeshStats SimMeshNet::totals() const {
  SimMeshStats t;
  for (const auto& [address, h] : hosts_) {
    t.messages_sent += h->stats_.messages_sent;
    t.bytes_sent += h->stats_.bytes_sent;
    t.messages_lost += h->stats_.messages_lost;
    t.dials += h->stats_.dials;
  }
  return t;
}

}  // namespace weft::test
