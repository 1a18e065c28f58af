// SimNetwork's hosts, links, faults, event queue and datagrams; streams are in
// sim_stream.cpp. The design note is in sim_network.hpp.
#include "tests/support/sim_network.hpp"

#include <algorithm>
#include <deque>
#include <limits>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/ip/address_v4.hpp>
#include <boost/asio/ip/address_v6.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/assert.hpp>

#include "common/log.hpp"

namespace weft::test {

namespace asio = boost::asio;
namespace ip = boost::asio::ip;

namespace {

constexpr std::size_t kNoGroup = std::numeric_limits<std::size_t>::max();
const LinkProfile kLoopback{};

std::uint32_t index(HostId host) {
  return static_cast<std::uint32_t>(host);
}

std::pair<HostId, HostId> ordered(HostId a, HostId b) {
  return std::minmax(a, b);
}

}  // namespace

namespace sim_detail {

std::string endpoint_text(const Endpoint& endpoint) {
  const auto address = endpoint.address().to_string();
  if (endpoint.address().is_v6()) {
    return fmt::format("[{}]:{}", address, endpoint.port());
  }
  return fmt::format("{}:{}", address, endpoint.port());
}

Error closed_error(std::string_view what) {
  return make_error(asio::error::bad_descriptor, "simulated {} is closed", what);
}

Error cancelled_error(std::string_view what) {
  return make_error(Errc::kCancelled, "simulated {} cancelled", what);
}

}  // namespace sim_detail

using sim_detail::cancelled_error;
using sim_detail::closed_error;

SimWakeup::SimWakeup(const asio::any_io_executor& executor)
    : timer_(executor, asio::steady_timer::time_point::max()) {}

asio::awaitable<bool> SimWakeup::wait() {
  notified_ = false;
  timer_.expires_at(asio::steady_timer::time_point::max());
  co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
  const asio::cancellation_state state = co_await asio::this_coro::cancellation_state;
  const bool woken = notified_ && state.cancelled() == asio::cancellation_type::none;
  co_return woken;
}

void SimWakeup::notify() {
  notified_ = true;
  timer_.cancel();
}

// ---------------------------------------------------------------------------------------
// Datagrams.

class SimPacketConn final : public PacketConn {
 public:
  SimPacketConn(SimNetwork& network, HostId host, std::uint16_t port, Endpoint local)
      : network_(&network), host_(host), port_(port), local_(local), readable_(network.executor_) {}
  ~SimPacketConn() override { close(); }

  asio::awaitable<Result<std::size_t>> receive_batch(std::span<Datagram> out) override {
    BOOST_ASSERT(!out.empty());
    for (;;) {
      if (closed_) {
        co_return closed_error("packet connection");
      }
      if (!queue_.empty()) {
        std::size_t n = 0;
        for (; n < out.size() && !queue_.empty(); ++n) {
          out[n].peer = queue_.front().source;
          out[n].assign(queue_.front().bytes);
          queue_.pop_front();
        }
        co_return n;
      }
      if (!co_await readable_.wait()) {
        co_return cancelled_error("receive");
      }
    }
  }

  Result<std::size_t> send_batch(std::span<const Datagram> in) override {
    for (std::size_t i = 0; i < in.size(); ++i) {
      BOOST_ASSERT(in[i].size <= in[i].buffer.size());
      Error error;
      if (closed_) {
        error = closed_error("packet connection");
      } else if (in[i].size > kMaxDatagramSize) {
        error = make_error(Errc::kTooLarge, "datagram of {} bytes over {}", in[i].size,
                           kMaxDatagramSize);
      } else {
        network_->transmit(host_, port_, in[i]);
        continue;
      }
      if (i == 0) {
        return error;
      }
      return i;
    }
    return in.size();
  }

  Endpoint local_endpoint() const override { return local_; }

  void close() override {
    if (closed_) {
      return;
    }
    closed_ = true;
    queue_.clear();
    network_->conns_.erase({host_, port_});
    readable_.notify();
  }

  // Called by the network when a datagram arrives; false when the queue is full.
  bool deliver(const Endpoint& source, std::vector<std::uint8_t> bytes) {
    if (queue_.size() >= network_->options_.receive_queue_limit) {
      return false;
    }
    queue_.push_back(Queued{source, std::move(bytes)});
    readable_.notify();
    return true;
  }

 private:
  struct Queued {
    Endpoint source;
    std::vector<std::uint8_t> bytes;
  };

  SimNetwork* network_;
  HostId host_;
  std::uint16_t port_;
  Endpoint local_;
  std::deque<Queued> queue_;
  SimWakeup readable_;
  bool closed_ = false;
};

void SimNetwork::transmit(HostId from, std::uint16_t from_port, const Datagram& datagram) {
  count(from, &SimCounters::sent);
  count(from, &SimCounters::bytes_sent, datagram.size);
  const auto to = host_of(datagram.peer.address());
  const auto source = source_address(from, datagram.peer.address());
  if (!to || !source) {
    count(from, &SimCounters::dropped_no_route);
    return;
  }
  if (!reachable(from, *to)) {
    count(from, &SimCounters::dropped_partition);
    return;
  }
  const LinkProfile& profile = link(from, *to);
  if (profile.loss > 0 && rng_.chance(profile.loss)) {
    count(from, &SimCounters::dropped_loss);
    return;
  }
  int copies = 1;
  if (profile.duplicate > 0 && rng_.chance(profile.duplicate)) {
    count(from, &SimCounters::duplicated);
    copies = 2;
  }
  const auto payload = datagram.payload();
  for (int i = 0; i < copies; ++i) {
    schedule(
        sample_latency(from, *to),
        [this, from, src = Endpoint(*source, from_port), dst = *to, port = datagram.peer.port(),
         bytes = std::vector<std::uint8_t>(payload.begin(), payload.end())]() mutable {
          arrive(from, src, dst, port, std::move(bytes));
        });
  }
}

void SimNetwork::arrive(HostId from, Endpoint source, HostId to, std::uint16_t port,
                        std::vector<std::uint8_t> bytes) {
  const auto it = conns_.find({to, port});
  if (it == conns_.end()) {
    count(from, &SimCounters::dropped_no_listener);
    return;
  }
  const std::size_t n = bytes.size();
  if (!it->second->deliver(source, std::move(bytes))) {
    count(from, &SimCounters::dropped_queue_full);
    return;
  }
  count(to, &SimCounters::delivered);
  count(to, &SimCounters::bytes_delivered, n);
}

// ---------------------------------------------------------------------------------------
// Hosts, links, faults.

SimNetwork::SimNetwork(asio::any_io_executor executor, Clock& clock, std::uint64_t seed)
    : SimNetwork(std::move(executor), clock, seed, Options{}) {}

SimNetwork::SimNetwork(asio::any_io_executor executor, Clock& clock, std::uint64_t seed,
                       Options options)
    : executor_(executor), clock_(clock), rng_(seed), options_(options), wakers_(executor) {}

SimNetwork::~SimNetwork() {
  // Connections, listeners and streams point at the network: they must be gone first.
  BOOST_ASSERT(conns_.empty() && listeners_.empty() && live_stream_ends_ == 0);
  // Wakers still sleeping are cancelled by ~TaskGroup; one that already woke finds this
  // flag and returns without touching the network.
  *alive_ = false;
}

HostId SimNetwork::add_host(std::string name) {
  const auto n = static_cast<std::uint32_t>(hosts_.size()) + 1;
  BOOST_ASSERT(n < (1u << 17) - 1);  // 198.18.0.0/15
  const HostId id{n - 1};
  hosts_.emplace_back().name = std::move(name);
  const ip::address_v4 v4((198u << 24) | (18u << 16) | n);
  ip::address_v6::bytes_type v6{0xfd, 0x00, 0x00, 0x18};
  for (int i = 0; i < 4; ++i) {
    v6[15 - i] = static_cast<std::uint8_t>(n >> (8 * i));
  }
  const bool added = add_address(id, v4) && add_address(id, ip::address_v6(v6));
  BOOST_ASSERT_MSG(added, "an added address took a generated one");
  (void)added;
  return id;
}

Result<void> SimNetwork::add_address(HostId host, ip::address address) {
  if (!address_owner_.emplace(address, host).second) {
    return make_error(Errc::kAlreadyExists, "address {} already belongs to {}", address.to_string(),
                      name(address_owner_.at(address)));
  }
  host_at(host).addresses.push_back(address);
  return {};
}

const std::string& SimNetwork::name(HostId host) const {
  return host_at(host).name;
}

const std::vector<ip::address>& SimNetwork::addresses(HostId host) const {
  return host_at(host).addresses;
}

ip::address SimNetwork::ipv4(HostId host) const {
  for (const auto& a : host_at(host).addresses) {
    if (a.is_v4()) {
      return a;
    }
  }
  return {};
}

ip::address SimNetwork::ipv6(HostId host) const {
  for (const auto& a : host_at(host).addresses) {
    if (a.is_v6()) {
      return a;
    }
  }
  return {};
}

SimNetwork::Host& SimNetwork::host_at(HostId host) {
  BOOST_ASSERT(index(host) < hosts_.size());
  return hosts_[index(host)];
}

const SimNetwork::Host& SimNetwork::host_at(HostId host) const {
  BOOST_ASSERT(index(host) < hosts_.size());
  return hosts_[index(host)];
}

void SimNetwork::count(HostId host, std::uint64_t SimCounters::*field, std::uint64_t n) {
  counters_.*field += n;
  host_at(host).counters.*field += n;
}

std::optional<HostId> SimNetwork::host_of(const ip::address& address) const {
  const auto it = address_owner_.find(address);
  if (it == address_owner_.end()) {
    return std::nullopt;
  }
  return it->second;
}

std::optional<ip::address> SimNetwork::source_address(HostId host,
                                                      const ip::address& destination) const {
  for (const auto& a : host_at(host).addresses) {
    if (a.is_v4() == destination.is_v4()) {
      return a;
    }
  }
  return std::nullopt;
}

Result<std::uint16_t> SimNetwork::pick_port(HostId host, std::uint16_t port, bool stream) {
  const auto taken = [&](std::uint16_t p) {
    return stream ? listeners_.contains({host, p}) : conns_.contains({host, p});
  };
  if (port != 0) {
    if (taken(port)) {
      return make_error(Errc::kAlreadyExists, "port {} of {} is taken", port, name(host));
    }
    return port;
  }
  std::uint16_t& next = stream ? host_at(host).next_tcp_port : host_at(host).next_udp_port;
  for (int tries = 0; tries < 65536 - 49152; ++tries) {
    const std::uint16_t candidate = next;
    next = next == 65535 ? 49152 : static_cast<std::uint16_t>(next + 1);
    if (!taken(candidate)) {
      return candidate;
    }
  }
  return make_error(Errc::kExhausted, "no free port on {}", name(host));
}

Result<std::unique_ptr<PacketConn>> SimNetwork::bind(HostId host, std::uint16_t port) {
  auto picked = pick_port(host, port, false);
  if (!picked) {
    return picked.error();
  }
  auto conn = std::make_unique<SimPacketConn>(*this, host, *picked,
                                              Endpoint(host_at(host).addresses.front(), *picked));
  conns_[{host, *picked}] = conn.get();
  return std::unique_ptr<PacketConn>(std::move(conn));
}

void SimNetwork::set_link(HostId a, HostId b, const LinkProfile& profile) {
  links_[{a, b}] = profile;
  links_[{b, a}] = profile;
}

void SimNetwork::set_link_one_way(HostId from, HostId to, const LinkProfile& profile) {
  links_[{from, to}] = profile;
}

void SimNetwork::clear_link(HostId a, HostId b) {
  links_.erase({a, b});
  links_.erase({b, a});
}

const LinkProfile& SimNetwork::link(HostId from, HostId to) const {
  const auto it = links_.find({from, to});
  if (it != links_.end()) {
    return it->second;
  }
  return from == to ? kLoopback : default_link_;
}

Clock::Duration SimNetwork::sample_latency(HostId from, HostId to) {
  const LinkProfile& profile = link(from, to);
  Clock::Duration delay = profile.latency;
  if (profile.jitter > Clock::Duration::zero()) {
    delay += Clock::Duration(rng_.range(0, profile.jitter.count()));
  }
  return delay;
}

void SimNetwork::partition(const std::vector<std::vector<HostId>>& groups) {
  partitioned_ = true;
  group_of_.clear();
  for (std::size_t g = 0; g < groups.size(); ++g) {
    for (HostId h : groups[g]) {
      group_of_[h] = g;
    }
  }
  log::debug("sim network partitioned", {{"groups", groups.size()}});
  break_unreachable_streams();
}

void SimNetwork::block(HostId a, HostId b) {
  blocks_.insert(ordered(a, b));
  break_unreachable_streams();
}

void SimNetwork::unblock(HostId a, HostId b) {
  blocks_.erase(ordered(a, b));
}

void SimNetwork::heal() {
  partitioned_ = false;
  group_of_.clear();
  blocks_.clear();
  log::debug("sim network healed");
}

bool SimNetwork::reachable(HostId from, HostId to) const {
  if (from == to) {
    return true;
  }
  if (blocks_.contains(ordered(from, to))) {
    return false;
  }
  if (!partitioned_) {
    return true;
  }
  const auto group = [this](HostId h) {
    const auto it = group_of_.find(h);
    return it == group_of_.end() ? kNoGroup : it->second;
  };
  return group(from) == group(to);
}

// ---------------------------------------------------------------------------------------
// The event queue: deliveries ordered by (due time, order scheduled). One waker coroutine
// sleeps on the Clock per distinct due time; the first to wake delivers everything due.

void SimNetwork::schedule(Clock::Duration delay, std::function<void()> event) {
  schedule_at(clock_.now() + delay, std::move(event));
}

void SimNetwork::schedule_at(Clock::TimePoint at, std::function<void()> event) {
  events_.emplace(EventKey{at, event_seq_++}, std::move(event));
  if (waker_times_.insert(at).second) {
    wakers_.spawn(wake_at(alive_, &clock_, at, this), "sim-network-waker");
  }
}

asio::awaitable<void> SimNetwork::wake_at(std::shared_ptr<bool> alive, Clock* clock,
                                          Clock::TimePoint at, SimNetwork* network) {
  // Only ~SimNetwork cancels wakers, so `fired` is false only when the network is gone.
  const bool fired = co_await clock->sleep_for(at - clock->now());
  if (fired && *alive) {
    network->fire_due(at);
  }
}

void SimNetwork::fire_due(Clock::TimePoint at) {
  waker_times_.erase(at);
  const Clock::TimePoint now = clock_.now();
  while (!events_.empty() && events_.begin()->first.first <= now) {
    auto node = events_.extract(events_.begin());
    node.mapped()();
  }
}

}  // namespace weft::test
