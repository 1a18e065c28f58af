// Tests of the simulated network (tests/support/sim_network) that the mesh and IPAM
// simulations run on: latency, loss, duplication, partitions, the PacketConn contract
// (batches, close, cancellation) and the ByteStream contract (order, window, eof, breaks),
// all on virtual time. Every scenario is reproducible from its seed.
#include "tests/support/sim_network.hpp"

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/error.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include "common/task_group.hpp"
#include "tests/support/virtual_clock.hpp"

namespace weft {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using test::HostId;
using test::link_profile;
using test::LinkProfile;
using test::run_virtual;
using test::SimCounters;
using test::SimNetwork;

constexpr std::uint64_t kSeed = 20240917;

std::vector<std::uint8_t> bytes_of(std::string_view text) {
  return {text.begin(), text.end()};
}

std::string text_of(std::span<const std::uint8_t> bytes) {
  return {bytes.begin(), bytes.end()};
}

struct Arrival {
  Clock::TimePoint at;
  Endpoint from;
  std::vector<std::uint8_t> payload;
  bool operator==(const Arrival&) const = default;
};

// Receives until the connection fails; records every datagram with its arrival time.
asio::awaitable<void> collect(PacketConn* conn, Clock* clock, std::vector<Arrival>* out) {
  std::vector<Datagram> batch(4);
  for (;;) {
    const Result<std::size_t> n = co_await conn->receive_batch(batch);
    if (!n) {
      co_return;
    }
    for (std::size_t i = 0; i < *n; ++i) {
      const auto payload = batch[i].payload();
      out->push_back({clock->now(), batch[i].peer, {payload.begin(), payload.end()}});
    }
  }
}

void send_text(PacketConn& conn, Endpoint to, std::string_view text) {
  Datagram d;
  d.peer = to;
  d.assign(bytes_of(text));
  const Result<std::size_t> sent = conn.send_batch({&d, 1});
  ASSERT_TRUE(sent) << sent.error().to_string();
  EXPECT_EQ(*sent, 1u);
}

class SimNetworkTest : public ::testing::Test {
 protected:
  void settle() { clock_.run_until_idle(io_, 1h); }
  // Ends every task of the test's group (they must not outlive the connections).
  void stop_tasks() {
    group_.cancel();
    settle();
    EXPECT_EQ(group_.size(), 0u);
  }
  Endpoint v4(HostId host, std::uint16_t port) const { return {net_.ipv4(host), port}; }

  // Destroyed in reverse: group, network, io_context, clock; a test's connections (locals)
  // go before all of them.
  test::VirtualClock clock_;
  asio::io_context io_;
  SimNetwork net_{io_.get_executor(), clock_, kSeed};
  TaskGroup group_{io_.get_executor()};
};

TEST_F(SimNetworkTest, HostsGetDistinctAddressesAndPorts) {
  const HostId a = net_.add_host("a");
  const HostId b = net_.add_host("b");
  EXPECT_EQ(net_.ipv4(a).to_string(), "198.18.0.1");
  EXPECT_EQ(net_.ipv6(b).to_string(), "fd00:18::2");
  EXPECT_EQ(net_.name(b), "b");
  EXPECT_FALSE(net_.add_address(b, net_.ipv4(a)));
  ASSERT_TRUE(net_.add_address(b, asio::ip::make_address("198.18.9.9")));
  EXPECT_EQ(net_.addresses(b).size(), 3u);

  auto first = net_.bind(a, 0).value();
  auto second = net_.bind(a, 0).value();
  EXPECT_EQ(first->local_endpoint(), v4(a, 49152));
  EXPECT_EQ(second->local_endpoint().port(), 49153);
  auto fixed = net_.bind(a, 6783).value();
  const auto taken = net_.bind(a, 6783);
  ASSERT_FALSE(taken);
  EXPECT_EQ(taken.error().code, Errc::kAlreadyExists);
  EXPECT_TRUE(net_.bind(b, 6783));  // another host's port space
  fixed->close();
  EXPECT_TRUE(net_.bind(a, 6783)) << "close frees the port";
}

TEST_F(SimNetworkTest, DeliversAfterLatencyWithinJitter) {
  const HostId a = net_.add_host("a");
  const HostId b = net_.add_host("b");
  auto ca = net_.bind(a, 0).value();
  auto cb = net_.bind(b, 6783).value();
  std::vector<Arrival> arrivals;
  group_.spawn(collect(cb.get(), &clock_, &arrivals), "collect");

  net_.set_default_link(link_profile(10ms));
  const auto t0 = clock_.now();
  send_text(*ca, v4(b, 6783), "exact");
  settle();
  ASSERT_EQ(arrivals.size(), 1u);
  EXPECT_EQ(arrivals[0].at, t0 + 10ms);
  EXPECT_EQ(arrivals[0].from, ca->local_endpoint());
  EXPECT_EQ(text_of(arrivals[0].payload), "exact");

  // Jitter: each datagram's delay in [10ms, 12ms]; sent together, they arrive reordered.
  arrivals.clear();
  net_.set_default_link(link_profile(10ms, 2ms));
  const auto t1 = clock_.now();
  for (int i = 0; i < 100; ++i) {
    send_text(*ca, v4(b, 6783), std::to_string(i));
  }
  settle();
  ASSERT_EQ(arrivals.size(), 100u);
  bool reordered = false;
  for (std::size_t i = 0; i < arrivals.size(); ++i) {
    EXPECT_GE(arrivals[i].at, t1 + 10ms);
    EXPECT_LE(arrivals[i].at, t1 + 12ms);
    reordered = reordered || text_of(arrivals[i].payload) != std::to_string(i);
  }
  EXPECT_TRUE(reordered);
  EXPECT_EQ(net_.counters().sent, 101u);
  EXPECT_EQ(net_.counters().delivered, 101u);
  EXPECT_EQ(net_.counters(a).sent, 101u);
  EXPECT_EQ(net_.counters(b).delivered, 101u);
  EXPECT_EQ(net_.counters(b).bytes_delivered, net_.counters(a).bytes_sent);
  EXPECT_EQ(net_.in_flight(), 0u);
  stop_tasks();
}

// Sends `count` numbered datagrams to `to`, ten per batch, one batch per millisecond.
asio::awaitable<void> send_numbered(PacketConn* conn, Clock* clock, Endpoint to, int count) {
  std::vector<Datagram> batch(10);
  for (int i = 0; i < count;) {
    std::size_t n = 0;
    for (; n < batch.size() && i < count; ++n, ++i) {
      batch[n].peer = to;
      batch[n].assign(bytes_of(fmt::format("datagram {:05}", i)));
    }
    const Result<std::size_t> sent = conn->send_batch({batch.data(), n});
    EXPECT_TRUE(sent && *sent == n);
    co_await clock->sleep_for(1ms);
  }
}

struct LossyOutcome {
  SimCounters global;
  SimCounters sender;
  std::vector<Arrival> arrivals;
};

LossyOutcome run_lossy(std::uint64_t seed) {
  test::VirtualClock clock;
  asio::io_context io;
  LossyOutcome out;
  SimNetwork net(io.get_executor(), clock, seed);
  net.set_default_link(link_profile(5ms, 3ms, 0.1, 0.01));
  const HostId a = net.add_host("a");
  const HostId b = net.add_host("b");
  auto ca = net.bind(a, 0).value();
  auto cb = net.bind(b, 6783).value();
  TaskGroup group(io.get_executor());
  group.spawn(collect(cb.get(), &clock, &out.arrivals), "collect");
  group.spawn(send_numbered(ca.get(), &clock, {net.ipv4(b), 6783}, 10'000), "send");
  clock.run_until_idle(io, 1h);
  cb->close();
  clock.run_until_idle(io, 1h);
  EXPECT_EQ(group.size(), 0u);
  out.global = net.counters();
  out.sender = net.counters(a);
  return out;
}

TEST(SimNetworkLoss, TenPercentLossIsWithinToleranceAndReproducible) {
  const LossyOutcome first = run_lossy(kSeed);
  const SimCounters& c = first.global;
  EXPECT_EQ(c.sent, 10'000u);
  // Binomial(10000, 0.1): sd 30; 5 sd of tolerance.
  EXPECT_NEAR(static_cast<double>(c.dropped_loss), 1000.0, 150.0) << "seed " << kSeed;
  EXPECT_NEAR(static_cast<double>(c.duplicated), 90.0, 50.0) << "seed " << kSeed;
  EXPECT_EQ(c.delivered, c.sent - c.dropped_loss + c.duplicated);
  EXPECT_EQ(c.dropped(), c.dropped_loss);
  EXPECT_EQ(first.arrivals.size(), c.delivered);
  EXPECT_EQ(first.sender.dropped_loss, c.dropped_loss) << "drops are charged to the sender";

  const LossyOutcome again = run_lossy(kSeed);
  EXPECT_EQ(again.global, first.global);
  EXPECT_EQ(again.sender, first.sender);
  EXPECT_TRUE(again.arrivals == first.arrivals) << "same seed, different arrivals";

  const LossyOutcome other = run_lossy(kSeed + 1);
  EXPECT_FALSE(other.arrivals == first.arrivals) << "the seed does not matter";
}

TEST_F(SimNetworkTest, PartitionDropsAndHealRestores) {
  const HostId a = net_.add_host("a");
  const HostId b = net_.add_host("b");
  const HostId c = net_.add_host("c");
  std::vector<std::unique_ptr<PacketConn>> conns;
  std::vector<std::vector<Arrival>> got(3);
  for (HostId h : {a, b, c}) {
    conns.push_back(net_.bind(h, 6783).value());
  }
  for (std::size_t i = 0; i < 3; ++i) {
    group_.spawn(collect(conns[i].get(), &clock_, &got[i]), "collect");
  }
  net_.partition({{a}, {b, c}});
  EXPECT_FALSE(net_.reachable(a, b));
  EXPECT_TRUE(net_.reachable(b, c));
  send_text(*conns[0], v4(b, 6783), "a->b");
  send_text(*conns[0], v4(c, 6783), "a->c");
  send_text(*conns[1], v4(c, 6783), "b->c");
  settle();
  EXPECT_TRUE(got[1].empty());
  ASSERT_EQ(got[2].size(), 1u);
  EXPECT_EQ(text_of(got[2][0].payload), "b->c");
  EXPECT_EQ(net_.counters(a).dropped_partition, 2u);
  EXPECT_EQ(net_.counters().dropped_partition, 2u);

  net_.heal();
  send_text(*conns[0], v4(b, 6783), "healed");
  settle();
  ASSERT_EQ(got[1].size(), 1u);
  EXPECT_EQ(text_of(got[1][0].payload), "healed");
  stop_tasks();
}

TEST_F(SimNetworkTest, BlockDropsOnlyThatPairInBothDirections) {
  const HostId a = net_.add_host("a");
  const HostId b = net_.add_host("b");
  const HostId c = net_.add_host("c");
  std::vector<std::unique_ptr<PacketConn>> conns;
  std::vector<std::vector<Arrival>> got(3);
  for (HostId h : {a, b, c}) {
    conns.push_back(net_.bind(h, 6783).value());
  }
  for (std::size_t i = 0; i < 3; ++i) {
    group_.spawn(collect(conns[i].get(), &clock_, &got[i]), "collect");
  }
  net_.block(a, b);
  send_text(*conns[0], v4(b, 6783), "a->b");
  send_text(*conns[1], v4(a, 6783), "b->a");
  send_text(*conns[0], v4(c, 6783), "a->c");
  send_text(*conns[2], v4(b, 6783), "c->b");
  settle();
  EXPECT_TRUE(got[0].empty());
  ASSERT_EQ(got[1].size(), 1u);
  EXPECT_EQ(text_of(got[1][0].payload), "c->b");
  ASSERT_EQ(got[2].size(), 1u);
  EXPECT_EQ(net_.counters().dropped_partition, 2u);

  net_.unblock(b, a);
  send_text(*conns[0], v4(b, 6783), "unblocked");
  settle();
  ASSERT_EQ(got[1].size(), 2u);
  EXPECT_EQ(text_of(got[1][1].payload), "unblocked");
  stop_tasks();
}

TEST_F(SimNetworkTest, CountsNoRouteNoListenerAndQueueFull) {
  SimNetwork::Options options;
  options.receive_queue_limit = 4;
  SimNetwork small(io_.get_executor(), clock_, kSeed, options);
  const HostId a = small.add_host("a");
  const HostId b = small.add_host("b");
  auto ca = small.bind(a, 0).value();
  auto cb = small.bind(b, 6783).value();
  send_text(*ca, {asio::ip::make_address("203.0.113.1"), 6783}, "nowhere");
  send_text(*ca, {small.ipv4(b), 9}, "closed port");
  for (int i = 0; i < 10; ++i) {
    send_text(*ca, {small.ipv4(b), 6783}, std::to_string(i));
  }
  settle();
  const SimCounters& c = small.counters(a);
  EXPECT_EQ(c.sent, 12u);
  EXPECT_EQ(c.dropped_no_route, 1u);
  EXPECT_EQ(c.dropped_no_listener, 1u);
  EXPECT_EQ(c.dropped_queue_full, 6u);
  EXPECT_EQ(small.counters(b).delivered, 4u);

  // Everything queued comes back in one batch, in order.
  std::vector<Datagram> batch(8);
  const Result<std::size_t> n = run_virtual(io_, clock_, cb->receive_batch(batch));
  ASSERT_TRUE(n);
  ASSERT_EQ(*n, 4u);
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(text_of(batch[i].payload()), std::to_string(i));
    EXPECT_EQ(batch[i].peer, ca->local_endpoint());
  }
}

TEST_F(SimNetworkTest, ReceiveBatchReturnsQueuedDatagramsAndReusesBuffers) {
  const HostId a = net_.add_host("a");
  const HostId b = net_.add_host("b");
  auto ca = net_.bind(a, 0).value();
  auto cb = net_.bind(b, 6783).value();
  for (int i = 0; i < 5; ++i) {
    send_text(*ca, v4(b, 6783), std::string(static_cast<std::size_t>(i + 1), 'x'));
  }
  settle();
  std::vector<Datagram> batch(3);
  batch[0].buffer.resize(100);  // large enough already: must not shrink
  Result<std::size_t> n = run_virtual(io_, clock_, cb->receive_batch(batch));
  ASSERT_TRUE(n);
  ASSERT_EQ(*n, 3u);
  EXPECT_EQ(batch[0].buffer.size(), 100u);
  EXPECT_EQ(text_of(batch[0].payload()), "x");
  EXPECT_EQ(text_of(batch[2].payload()), "xxx");
  n = run_virtual(io_, clock_, cb->receive_batch(batch));
  ASSERT_TRUE(n);
  ASSERT_EQ(*n, 2u);
  EXPECT_EQ(text_of(batch[1].payload()), "xxxxx");

  Datagram huge;
  huge.peer = v4(b, 6783);
  huge.buffer.resize(kMaxDatagramSize + 1);
  huge.size = huge.buffer.size();
  const Result<std::size_t> rejected = ca->send_batch({&huge, 1});
  ASSERT_FALSE(rejected);
  EXPECT_EQ(rejected.error().code, Errc::kTooLarge);
}

// Runs one receive and stores its result.
asio::awaitable<void> receive_once(PacketConn* conn, std::optional<Result<std::size_t>>* out) {
  std::vector<Datagram> batch(2);
  out->emplace(co_await conn->receive_batch(batch));
}

TEST_F(SimNetworkTest, CloseWakesPendingReceiveWithError) {
  const HostId a = net_.add_host("a");
  auto conn = net_.bind(a, 0).value();
  std::optional<Result<std::size_t>> result;
  group_.spawn(receive_once(conn.get(), &result), "receive");
  settle();
  EXPECT_FALSE(result.has_value());
  conn->close();
  conn->close();  // idempotent
  settle();
  ASSERT_TRUE(result.has_value());
  ASSERT_FALSE(*result);
  EXPECT_EQ(result->error().code, asio::error::bad_descriptor);
  Datagram d;
  d.peer = v4(a, 1);
  const Result<std::size_t> sent = conn->send_batch({&d, 1});
  ASSERT_FALSE(sent);
  EXPECT_EQ(sent.error().code, asio::error::bad_descriptor);
  EXPECT_EQ(group_.size(), 0u);
}

TEST_F(SimNetworkTest, TaskGroupCancelEndsPendingReceive) {
  const HostId a = net_.add_host("a");
  auto conn = net_.bind(a, 6783).value();
  std::optional<Result<std::size_t>> result;
  group_.spawn(receive_once(conn.get(), &result), "receive");
  settle();
  group_.cancel();
  settle();
  ASSERT_TRUE(result.has_value());
  ASSERT_FALSE(*result);
  EXPECT_EQ(result->error().code, Errc::kCancelled);
  EXPECT_EQ(group_.size(), 0u);

  // The connection still works after a cancelled receive.
  send_text(*conn, v4(a, 6783), "self");
  result.reset();
  group_.spawn(receive_once(conn.get(), &result), "receive");
  settle();
  ASSERT_TRUE(result.has_value());
  ASSERT_TRUE(*result) << result->error().to_string();
  EXPECT_EQ(**result, 1u);
}

}  // namespace
}  // namespace weft
