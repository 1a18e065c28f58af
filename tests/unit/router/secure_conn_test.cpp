// SecureConn (router/secure_conn.hpp) over in-memory streams on virtual time: message flow,
// tampered/replayed/oversize frames, heartbeats and dead-peer detection, close.
#include "router/secure_conn.hpp"

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include "common/log.hpp"
#include "tests/support/failing_stream.hpp"
#include "tests/support/virtual_clock.hpp"

namespace weft::router {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

struct Received {
  std::vector<std::vector<std::uint8_t>> messages;
  std::optional<Error> error;
};

asio::awaitable<void> receive_all(SecureConn* conn, Received* out) {
  for (;;) {
    auto m = co_await conn->receive();
    if (!m) {
      out->error = m.error();
      co_return;
    }
    out->messages.push_back(std::move(*m));
  }
}

std::vector<std::uint8_t> pattern(std::size_t size, std::uint8_t seed) {
  std::vector<std::uint8_t> v(size);
  for (std::size_t i = 0; i < size; ++i) {
    v[i] = static_cast<std::uint8_t>(seed + i * 31 + (i >> 8));
  }
  return v;
}

class SecureConnTest : public ::testing::Test {
 protected:
  void SetUp() override {
    log::set_sink([this](std::string_view l) { lines_.emplace_back(l); });
  }
  void TearDown() override {
    a_.reset();
    b_.reset();
    clock_.run_until_idle(io_, 60s);  // lets the connection tasks finish
    log::set_sink(nullptr);
  }

  // Handshakes over a fresh stream pair and wraps both ends in SecureConns.
  void connect(SecureConnOptions options = {}) {
    auto pair = test::make_stream_pair(io_.get_executor());
    stream_a_ = pair.first.get();
    stream_b_ = pair.second.get();
    auto ca = std::make_shared<HandshakeConfig>();
    ca->name = PeerName{0xa};
    ca->uid = 1;
    ca->nickname = "a";
    auto cb = std::make_shared<HandshakeConfig>(*ca);
    cb->name = PeerName{0xb};
    cb->nickname = "b";
    std::optional<Result<Session>> sa;
    std::optional<Result<Session>> sb;
    asio::co_spawn(io_, run_handshake(*stream_a_, Role::kDialer, ca, stats_a_),
                   [&](std::exception_ptr, Result<Session> r) { sa.emplace(std::move(r)); });
    asio::co_spawn(io_, run_handshake(*stream_b_, Role::kAcceptor, cb, stats_b_),
                   [&](std::exception_ptr, Result<Session> r) { sb.emplace(std::move(r)); });
    ASSERT_TRUE(clock_.run_until(
        io_, [&] { return sa && sb; }, 1s));
    ASSERT_TRUE(*sa && *sb);
    a_ = std::make_unique<SecureConn>(io_.get_executor(), std::move(pair.first), std::move(**sa),
                                      true, clock_, stats_a_, options);
    b_ = std::make_unique<SecureConn>(io_.get_executor(), std::move(pair.second), std::move(**sb),
                                      false, clock_, stats_b_, options);
    asio::co_spawn(io_, receive_all(a_.get(), &got_a_), asio::detached);
    asio::co_spawn(io_, receive_all(b_.get(), &got_b_), asio::detached);
  }

  bool run_until(const std::function<bool()>& done, Clock::Duration limit = 10s) {
    return clock_.run_until(io_, done, limit);
  }
  // Lets exactly `d` of virtual time pass, running everything due.
  void pass(Clock::Duration d) {
    const auto end = clock_.now() + d;
    clock_.run_until(
        io_, [] { return false; }, d);
    clock_.advance_to(end);
    clock_.run_until(
        io_, [] { return false; }, 0s);
  }

  std::size_t lines_with(std::string_view text) const {
    std::size_t n = 0;
    for (const auto& l : lines_) {
      n += l.find(text) != std::string::npos;
    }
    return n;
  }

  asio::io_context io_;
  test::VirtualClock clock_;
  std::shared_ptr<TransportStats> stats_a_ = std::make_shared<TransportStats>();
  std::shared_ptr<TransportStats> stats_b_ = std::make_shared<TransportStats>();
  test::TestStream* stream_a_ = nullptr;  // owned by a_
  test::TestStream* stream_b_ = nullptr;  // owned by b_
  std::unique_ptr<SecureConn> a_;
  std::unique_ptr<SecureConn> b_;
  Received got_a_;
  Received got_b_;
  std::vector<std::string> lines_;
};

TEST_F(SecureConnTest, MessagesFlowBothWaysInOrderIncludingLargeOnes) {
  connect();
  ASSERT_TRUE(a_->outbound());
  ASSERT_FALSE(b_->outbound());
  EXPECT_EQ(a_->remote().name, PeerName{0xb});
  std::vector<std::vector<std::uint8_t>> to_b;
  std::vector<std::vector<std::uint8_t>> to_a;
  for (std::size_t size : {std::size_t{0}, std::size_t{1}, std::size_t{100}, std::size_t{65536},
                           std::size_t{1} << 20, MessageConn::kMaxMessageSize}) {
    to_b.push_back(pattern(size, static_cast<std::uint8_t>(size)));
  }
  for (int i = 0; i < 200; ++i) {
    to_b.push_back(pattern(static_cast<std::size_t>(i), static_cast<std::uint8_t>(i)));
    to_a.push_back(pattern(static_cast<std::size_t>(i) * 3, static_cast<std::uint8_t>(i + 1)));
  }
  for (const auto& m : to_b) {
    ASSERT_TRUE(a_->send(m));
  }
  for (const auto& m : to_a) {
    ASSERT_TRUE(b_->send(m));
  }
  ASSERT_TRUE(run_until([&] {
    return got_b_.messages.size() == to_b.size() && got_a_.messages.size() == to_a.size();
  }));
  EXPECT_TRUE(got_b_.messages == to_b);
  EXPECT_TRUE(got_a_.messages == to_a);
  EXPECT_FALSE(got_a_.error || got_b_.error);
  EXPECT_EQ(stats_a_->frames_sealed, to_b.size());
  EXPECT_EQ(stats_b_->frames_opened, to_b.size());
  EXPECT_EQ(stats_a_->frame_auth_failures + stats_b_->frame_auth_failures, 0u);
}

TEST_F(SecureConnTest, TamperedFrameClosesTheConnectionAndIsCounted) {
  connect();
  ASSERT_TRUE(a_->send(pattern(50, 1)));
  ASSERT_TRUE(run_until([&] { return got_b_.messages.size() == 1; }));
  // Flip one ciphertext byte of the next frame on the wire.
  stream_a_->set_write_filter(
      [](std::vector<std::uint8_t>& b) { b[kFrameHeaderSize + 5] ^= 0x01; });
  ASSERT_TRUE(a_->send(pattern(50, 2)));
  ASSERT_TRUE(run_until([&] { return got_b_.error.has_value() && got_a_.error.has_value(); }));
  EXPECT_EQ(got_b_.messages.size(), 1u);
  EXPECT_EQ(got_b_.error->code, make_error_code(Errc::kAuthFailed));
  EXPECT_EQ(stats_b_->frame_auth_failures, 1u);
  EXPECT_EQ(lines_with("closing connection: message failed authentication (tampered or replayed)"),
            1u);
  EXPECT_TRUE(b_->closed());
  EXPECT_TRUE(a_->closed());  // the stream was closed under it
  EXPECT_FALSE(b_->send(pattern(3, 3)));
}

TEST_F(SecureConnTest, ReplayedFrameClosesTheConnectionAndIsCounted) {
  connect();
  ASSERT_TRUE(a_->send(pattern(80, 7)));
  ASSERT_TRUE(run_until([&] { return got_b_.messages.size() == 1; }));
  const std::vector<std::uint8_t> captured = stream_a_->writes().back();
  stream_a_->inject(captured);
  ASSERT_TRUE(run_until([&] { return got_b_.error.has_value(); }));
  EXPECT_EQ(got_b_.messages.size(), 1u);
  EXPECT_EQ(got_b_.error->code, make_error_code(Errc::kAuthFailed));
  EXPECT_EQ(stats_b_->frame_auth_failures, 1u);
  EXPECT_EQ(lines_with("message failed authentication (tampered or replayed)"), 1u);
}

TEST_F(SecureConnTest, DroppedFrameMakesTheNextOneFail) {
  connect();
  stream_a_->set_write_filter([](std::vector<std::uint8_t>& b) { b.clear(); });
  ASSERT_TRUE(a_->send(pattern(10, 1)));
  ASSERT_TRUE(run_until([&] { return stream_a_->writes().size() >= 3; }));
  stream_a_->set_write_filter(nullptr);
  ASSERT_TRUE(a_->send(pattern(10, 2)));
  ASSERT_TRUE(run_until([&] { return got_b_.error.has_value(); }));
  EXPECT_TRUE(got_b_.messages.empty());
  EXPECT_EQ(stats_b_->frame_auth_failures, 1u);
}

TEST_F(SecureConnTest, OversizeLengthPrefixClosesAndIsCounted) {
  connect();
  const auto header = encode_frame_header(static_cast<std::uint32_t>(kMaxFrameCiphertext + 1));
  stream_a_->inject(header);
  ASSERT_TRUE(run_until([&] { return got_b_.error.has_value(); }));
  EXPECT_EQ(got_b_.error->code, make_error_code(Errc::kTooLarge));
  EXPECT_EQ(stats_b_->frame_oversize, 1u);
  EXPECT_EQ(stats_b_->bytes_in, 0u);  // nothing was read past the header
  EXPECT_EQ(lines_with("closing connection: bad frame length"), 1u);
}

TEST_F(SecureConnTest, UndersizeLengthPrefixClosesAsMalformed) {
  connect();
  stream_a_->inject(encode_frame_header(3));
  ASSERT_TRUE(run_until([&] { return got_b_.error.has_value(); }));
  EXPECT_EQ(got_b_.error->code, make_error_code(Errc::kMalformed));
  EXPECT_EQ(stats_b_->frame_malformed, 1u);
}

TEST_F(SecureConnTest, HeartbeatsKeepAnIdleConnectionAlive) {
  SecureConnOptions options;
  options.heartbeat_interval = 1s;
  options.heartbeat_misses = 3;
  connect(options);
  const auto start = clock_.now();
  EXPECT_FALSE(run_until([&] { return a_->closed() || b_->closed(); }, 120s));
  EXPECT_GE(clock_.now() - start, 119s);
  EXPECT_FALSE(a_->closed());
  EXPECT_FALSE(b_->closed());
  EXPECT_GE(stats_a_->heartbeats_sent, 100u);
  EXPECT_GE(stats_b_->heartbeats_sent, 100u);
  EXPECT_EQ(stats_a_->heartbeat_timeouts + stats_b_->heartbeat_timeouts, 0u);
  // Traffic replaces heartbeats: a side that keeps sending sends none.
  const auto hb_before = stats_a_->heartbeats_sent;
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(a_->send(pattern(4, 1)));
    pass(400ms);
  }
  EXPECT_EQ(stats_a_->heartbeats_sent, hb_before);
}

TEST_F(SecureConnTest, SilentPeerIsDetectedAfterTheConfiguredMisses) {
  SecureConnOptions options;
  options.heartbeat_interval = 1s;
  options.heartbeat_misses = 3;
  connect(options);
  pass(10s);
  ASSERT_FALSE(b_->closed());
  // a's frames stop arriving (a hung peer or a black-holed path).
  stream_a_->set_write_filter([](std::vector<std::uint8_t>& b) { b.clear(); });
  const auto start = clock_.now();
  ASSERT_TRUE(run_until([&] { return b_->closed(); }, 30s));
  const auto took = clock_.now() - start;
  EXPECT_GE(took, 2s);
  EXPECT_LE(took, 4s);
  EXPECT_EQ(stats_b_->heartbeat_timeouts, 1u);
  ASSERT_TRUE(run_until([&] { return got_b_.error.has_value(); }));
  EXPECT_EQ(got_b_.error->code, make_error_code(Errc::kTimeout));
  EXPECT_EQ(lines_with("closing connection: peer silent"), 1u);
}

TEST_F(SecureConnTest, CloseSendsItsReasonToThePeer) {
  connect();
  ASSERT_TRUE(a_->send(pattern(10, 1)));
  a_->close("shutting down\nnow");
  ASSERT_TRUE(run_until([&] { return got_a_.error && got_b_.error; }));
  EXPECT_EQ(got_a_.error->code, make_error_code(Errc::kCancelled));
  EXPECT_EQ(got_a_.error->message, "connection closed: shutting down\nnow");
  EXPECT_EQ(got_b_.error->message, "peer closed the connection: shutting down now");
  EXPECT_TRUE(got_b_.messages.empty());  // what was queued at close() is dropped
  a_->close("again");                    // idempotent
  EXPECT_FALSE(a_->send(pattern(1, 1)));
}

TEST_F(SecureConnTest, SendEnforcesSizeAndQueueLimits) {
  SecureConnOptions options;
  options.max_send_queue = 1000;
  connect(options);
  auto big = a_->send(std::vector<std::uint8_t>(MessageConn::kMaxMessageSize + 1));
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error().code, make_error_code(Errc::kTooLarge));
  ASSERT_TRUE(a_->send(pattern(600, 1)));
  auto full = a_->send(pattern(600, 2));
  ASSERT_FALSE(full);
  EXPECT_EQ(full.error().code, make_error_code(Errc::kExhausted));
  ASSERT_TRUE(run_until([&] { return got_b_.messages.size() == 1; }));
  EXPECT_TRUE(a_->send(pattern(600, 3)));  // drained: room again
}

TEST(SanitizeCloseReason, KeepsPrintableUtf8WithinTheLimit) {
  EXPECT_EQ(sanitize_close_reason("a\tb\xc3\xa9"), "a b\xc3\xa9");
  EXPECT_EQ(sanitize_close_reason("\xff"), " ");
  const std::string long_reason(1000, 'x');
  EXPECT_EQ(sanitize_close_reason(long_reason).size(), kMaxCloseReason);
  std::string euros;
  for (int i = 0; i < 100; ++i) {
    euros += "\xe2\x82\xac";
  }
  const std::string cut = sanitize_close_reason(euros);
  EXPECT_LE(cut.size(), kMaxCloseReason);
  EXPECT_EQ(cut.size() % 3, 0u);
}

}  // namespace
}  // namespace weft::router
