// Tests of the simulated network's streams (tests/support/sim_stream.cpp) against the
// ByteStream contract: one round trip to connect, ordered bytes without loss under a lossy
// jittery link, the send window, partial reads, eof after close, breaks on partitions and
// blocks, refused and timed-out connects, cancellation. All on virtual time.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/error.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include "common/task_group.hpp"
#include "tests/support/sim_network.hpp"
#include "tests/support/virtual_clock.hpp"

namespace weft {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using test::HostId;
using test::link_profile;
using test::run_virtual;
using test::SimNetwork;
using test::StreamListener;

constexpr std::uint64_t kSeed = 77;
constexpr std::uint16_t kPort = 6783;

std::vector<std::uint8_t> bytes_of(std::string_view text) {
  return {text.begin(), text.end()};
}

struct Reader {
  std::vector<std::uint8_t> data;
  std::optional<Error> end;  // the error that stopped it
  std::size_t reads = 0;
};

// Reads with a `chunk`-byte buffer until an error (eof included).
asio::awaitable<void> read_until_error(ByteStream* stream, std::size_t chunk, Reader* out) {
  std::vector<std::uint8_t> buffer(chunk);
  for (;;) {
    const Result<std::size_t> n = co_await stream->read_some(buffer);
    if (!n) {
      out->end = n.error();
      co_return;
    }
    ++out->reads;
    out->data.insert(out->data.end(), buffer.begin(),
                     buffer.begin() + static_cast<std::ptrdiff_t>(*n));
  }
}

class SimStreamTest : public ::testing::Test {
 protected:
  struct Pair {
    std::unique_ptr<ByteStream> client;
    std::unique_ptr<ByteStream> server;
  };

  void SetUp() override {
    a_ = net_.add_host("a");
    b_ = net_.add_host("b");
    listener_ = net_.listen_stream(b_, kPort).value();
  }
  void TearDown() override {
    group_.cancel();
    settle();
    EXPECT_EQ(group_.size(), 0u);
    listener_.reset();
  }
  void settle() { clock_.run_until_idle(io_, 1h); }
  Endpoint v4(HostId host, std::uint16_t port) const { return {net_.ipv4(host), port}; }

  Pair connect_pair() {
    Pair p;
    p.client = run_virtual(io_, clock_, net_.connect_stream(a_, v4(b_, kPort))).value();
    p.server = run_virtual(io_, clock_, listener_->accept()).value();
    return p;
  }
  Result<void> write(ByteStream& stream, std::string_view text) {
    return run_virtual(io_, clock_, stream.write_all(bytes_of(text)));
  }
  Result<std::string> read(ByteStream& stream, std::size_t chunk) {
    std::vector<std::uint8_t> buffer(chunk);
    const Result<std::size_t> n = run_virtual(io_, clock_, stream.read_some(buffer));
    if (!n) {
      return n.error();
    }
    return std::string(buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(*n));
  }

  test::VirtualClock clock_;
  asio::io_context io_;
  SimNetwork net_{io_.get_executor(), clock_, kSeed};
  TaskGroup group_{io_.get_executor()};
  HostId a_{};
  HostId b_{};
  std::unique_ptr<StreamListener> listener_;
};

TEST_F(SimStreamTest, ConnectTakesOneRoundTripAndLargeWritesArriveInOrder) {
  // Loss and duplication do not apply to streams; jitter must not reorder them.
  net_.set_default_link(link_profile(5ms, 4ms, 0.3, 0.3));
  const auto t0 = clock_.now();
  auto client = run_virtual(io_, clock_, net_.connect_stream(a_, v4(b_, kPort))).value();
  EXPECT_GE(clock_.now() - t0, 10ms);
  EXPECT_LE(clock_.now() - t0, 18ms);
  EXPECT_EQ(client->local_endpoint().address(), net_.ipv4(a_));
  EXPECT_EQ(client->remote_endpoint(), v4(b_, kPort));
  auto server = run_virtual(io_, clock_, listener_->accept()).value();
  EXPECT_EQ(server->remote_endpoint(), client->local_endpoint());

  Reader reader;
  group_.spawn(read_until_error(server.get(), 1000, &reader), "read");
  std::vector<std::uint8_t> data(1 << 20);  // 4x the send window: the writer must wait
  for (std::size_t i = 0; i < data.size(); ++i) {
    data[i] = static_cast<std::uint8_t>(i * 7 % 251);
  }
  const Result<void> written = run_virtual(io_, clock_, client->write_all(data));
  ASSERT_TRUE(written) << written.error().to_string();
  client->close();
  settle();
  ASSERT_TRUE(reader.end.has_value());
  EXPECT_EQ(reader.end->code, asio::error::eof) << reader.end->to_string();
  EXPECT_TRUE(reader.data == data) << "received " << reader.data.size() << " bytes";
  EXPECT_GE(reader.reads, data.size() / 1000);
  EXPECT_EQ(net_.counters(b_).stream_bytes, data.size());
  EXPECT_EQ(net_.counters().streams_connected, 1u);
  EXPECT_EQ(net_.counters().dropped(), 0u);
}

TEST_F(SimStreamTest, ReadSomeReturnsWhatHasArrived) {
  net_.set_default_link(link_profile(1ms));
  Pair p = connect_pair();
  ASSERT_TRUE(write(*p.client, "hello"));
  settle();
  EXPECT_EQ(read(*p.server, 100).value(), "hello");
  ASSERT_TRUE(write(*p.client, "abc"));
  ASSERT_TRUE(write(*p.client, "def"));
  settle();
  EXPECT_EQ(read(*p.server, 4).value(), "abcd");
  EXPECT_EQ(read(*p.server, 4).value(), "ef");
  // And the other direction.
  ASSERT_TRUE(write(*p.server, "pong"));
  EXPECT_EQ(read(*p.client, 100).value(), "pong");
}

TEST_F(SimStreamTest, CloseGivesEofAfterTheData) {
  net_.set_default_link(link_profile(2ms));
  Pair p = connect_pair();
  ASSERT_TRUE(write(*p.client, "bye"));
  p.client->close();
  p.client->close();  // idempotent
  EXPECT_EQ(read(*p.server, 100).value(), "bye");
  const auto eof = read(*p.server, 100);
  ASSERT_FALSE(eof);
  EXPECT_EQ(eof.error().code, asio::error::eof);
  const auto late = write(*p.server, "anyone?");
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error().code, asio::error::connection_reset);
  const auto closed = read(*p.client, 100);
  ASSERT_FALSE(closed);
  EXPECT_EQ(closed.error().code, asio::error::bad_descriptor);
}

TEST_F(SimStreamTest, PartitionBreaksBothEnds) {
  net_.set_default_link(link_profile(3ms));
  Pair p = connect_pair();
  Reader reader;
  group_.spawn(read_until_error(p.server.get(), 100, &reader), "read");
  settle();
  net_.partition({{a_}, {b_}});
  settle();
  ASSERT_TRUE(reader.end.has_value());
  EXPECT_EQ(reader.end->code, asio::error::connection_reset);
  const auto write_error = write(*p.client, "lost");
  ASSERT_FALSE(write_error);
  EXPECT_EQ(write_error.error().code, asio::error::connection_reset);
  const auto read_error = read(*p.client, 10);
  ASSERT_FALSE(read_error);
  EXPECT_EQ(read_error.error().code, asio::error::connection_reset);
  EXPECT_EQ(net_.counters().streams_broken, 1u);
  EXPECT_EQ(net_.counters(a_).streams_broken, 1u);
  EXPECT_EQ(net_.counters(b_).streams_broken, 1u);

  // A connect across the partition times out after connect_timeout.
  const auto t0 = clock_.now();
  const auto timed_out = run_virtual(io_, clock_, net_.connect_stream(a_, v4(b_, kPort)));
  ASSERT_FALSE(timed_out);
  EXPECT_EQ(timed_out.error().code, asio::error::timed_out);
  EXPECT_EQ(clock_.now() - t0, SimNetwork::Options{}.connect_timeout);

  net_.heal();
  Pair again = connect_pair();
  ASSERT_TRUE(write(*again.client, "back"));
  EXPECT_EQ(read(*again.server, 10).value(), "back");
}

TEST_F(SimStreamTest, BlockBreaksOnlyThatPair) {
  const HostId c = net_.add_host("c");
  Pair ab = connect_pair();
  auto cb = run_virtual(io_, clock_, net_.connect_stream(c, v4(b_, kPort))).value();
  auto bc = run_virtual(io_, clock_, listener_->accept()).value();
  net_.block(b_, a_);
  EXPECT_EQ(write(*ab.client, "x").error().code, asio::error::connection_reset);
  ASSERT_TRUE(write(*cb, "still"));
  EXPECT_EQ(read(*bc, 10).value(), "still");
  EXPECT_EQ(net_.counters().streams_broken, 1u);
  EXPECT_EQ(net_.counters(c).streams_broken, 0u);
}

TEST_F(SimStreamTest, ConnectFailsWithoutListenerOrRoute) {
  net_.set_default_link(link_profile(4ms));
  const auto t0 = clock_.now();
  const auto refused = run_virtual(io_, clock_, net_.connect_stream(a_, v4(b_, 1)));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, asio::error::connection_refused);
  EXPECT_EQ(clock_.now() - t0, 8ms);
  const auto unreachable = run_virtual(
      io_, clock_, net_.connect_stream(a_, {asio::ip::make_address("203.0.113.9"), kPort}));
  ASSERT_FALSE(unreachable);
  EXPECT_EQ(unreachable.error().code, asio::error::host_unreachable);
}

TEST_F(SimStreamTest, ClosingTheListenerResetsTheBacklog) {
  auto client = run_virtual(io_, clock_, net_.connect_stream(a_, v4(b_, kPort))).value();
  listener_->close();
  settle();
  const auto eof = read(*client, 10);
  ASSERT_FALSE(eof);
  EXPECT_EQ(eof.error().code, asio::error::eof);
  const auto accepted = run_virtual(io_, clock_, listener_->accept());
  ASSERT_FALSE(accepted);
  EXPECT_EQ(accepted.error().code, asio::error::bad_descriptor);
  EXPECT_TRUE(net_.listen_stream(b_, kPort)) << "close frees the port";
}

TEST_F(SimStreamTest, TaskGroupCancelEndsPendingReadAndStreamStaysUsable) {
  Pair p = connect_pair();
  Reader reader;
  group_.spawn(read_until_error(p.server.get(), 10, &reader), "read");
  settle();
  group_.cancel();
  settle();
  ASSERT_TRUE(reader.end.has_value());
  EXPECT_EQ(reader.end->code, Errc::kCancelled);
  ASSERT_TRUE(write(*p.client, "later"));
  EXPECT_EQ(read(*p.server, 10).value(), "later");
}

}  // namespace
}  // namespace weft
