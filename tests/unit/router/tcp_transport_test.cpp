// TcpTransport (router/tcp_transport.hpp) over real loopback TCP, IPv4 and IPv6: dial and
// accept, message exchange, refused dials, wrong passwords, the incoming rate limit and the
// handshake timeout. Ports are picked by the kernel (port 0).
#include "router/tcp_transport.hpp"

#include <array>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

#include "common/log.hpp"
#include "tests/support/coro.hpp"

namespace weft::router {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace std::chrono_literals;

const SecretKey& password_key(const std::string& password) {
  static std::map<std::string, SecretKey> cache;
  auto it = cache.find(password);
  if (it == cache.end()) {
    it = cache.emplace(password, derive_password_key(password).value()).first;
  }
  return it->second;
}

std::string with_port(const std::string& host, std::uint16_t port) {
  return host.find(':') != std::string::npos ? fmt::format("[{}]:{}", host, port)
                                             : fmt::format("{}:{}", host, port);
}

class TcpTransportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    log::set_sink([this](std::string_view l) { lines_.emplace_back(l); });
  }
  void TearDown() override {
    conns_.clear();
    transports_.clear();
    io_.restart();
    io_.run_for(300ms);  // lets closing connections finish
    log::set_sink(nullptr);
  }

  TcpTransport& make(std::uint64_t name, const std::string& listen,
                     std::optional<std::string> password = std::nullopt,
                     TcpTransportOptions options = {}) {
    auto cfg = std::make_shared<HandshakeConfig>();
    cfg->name = PeerName{name};
    cfg->uid = random_u64() | 1;
    cfg->nickname = fmt::format("peer{}", name);
    if (password) {
      cfg->password_key = password_key(*password);
    }
    options.listen_address = listen;
    options.port = 0;
    transports_.push_back(std::make_unique<TcpTransport>(io_.get_executor(), clock_, cfg, options));
    TcpTransport& t = *transports_.back();
    auto r = t.listen();
    EXPECT_TRUE(r) << r.error().to_string();
    return t;
  }

  // Runs an awaitable on io_ with a real-time limit.
  template <class T>
  T run(asio::awaitable<T> task, std::chrono::milliseconds limit = 10s) {
    return test::run(io_, std::move(task), limit);
  }
  // Runs io_ until `done` or the limit.
  bool run_until(const std::function<bool()>& done, std::chrono::milliseconds limit = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    io_.restart();
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      io_.run_for(10ms);
      io_.restart();
    }
    return done();
  }

  std::size_t lines_with(std::string_view a, std::string_view b = {}) const {
    std::size_t n = 0;
    for (const auto& l : lines_) {
      n += l.find(a) != std::string::npos && l.find(b) != std::string::npos;
    }
    return n;
  }

  asio::io_context io_;
  SteadyClock clock_;
  std::vector<std::unique_ptr<TcpTransport>> transports_;
  std::vector<std::unique_ptr<MessageConn>> conns_;
  std::vector<std::string> lines_;
};

// a dials b at `host`; both exchange a message each way over the resulting connection.
asio::awaitable<void> dial_and_talk(TcpTransport* a, TcpTransport* b, std::string address,
                                    std::vector<std::unique_ptr<MessageConn>>* keep) {
  auto out = co_await a->dial(address);
  EXPECT_TRUE(out) << out.error().to_string();
  if (!out) {
    co_return;
  }
  auto in = co_await b->accept();
  EXPECT_TRUE(in) << in.error().to_string();
  if (!in) {
    co_return;
  }
  EXPECT_TRUE((*out)->outbound());
  EXPECT_FALSE((*in)->outbound());
  EXPECT_TRUE((*out)->send({'p', 'i', 'n', 'g'}));
  auto m1 = co_await (*in)->receive();
  EXPECT_TRUE(m1 && *m1 == std::vector<std::uint8_t>({'p', 'i', 'n', 'g'}));
  const std::vector<std::uint8_t> big(1 << 20, 0x5a);
  EXPECT_TRUE((*in)->send(big));
  auto m2 = co_await (*out)->receive();
  EXPECT_TRUE(m2 && *m2 == big);
  keep->push_back(std::move(*out));
  keep->push_back(std::move(*in));
}

TEST_F(TcpTransportTest, DialAndExchangeMessagesOverIpv4AndIpv6) {
  for (const std::string host : {"127.0.0.1", "::1"}) {
    SCOPED_TRACE(host);
    const std::size_t first = transports_.size();
    TcpTransport& a = make(0x10 + first, host, "pw");
    TcpTransport& b = make(0x11 + first, host, "pw");
    ASSERT_NE(a.local_endpoint().port(), 0);
    run(dial_and_talk(&a, &b, with_port(host, b.local_endpoint().port()), &conns_));
    run(dial_and_talk(&b, &a, with_port(host, a.local_endpoint().port()), &conns_));
    ASSERT_EQ(conns_.size() % 4, 0u);
    ASSERT_GE(conns_.size(), 4u);
    const MessageConn& out = *conns_[conns_.size() - 4];
    EXPECT_EQ(out.remote().name, PeerName{0x11 + first});
    EXPECT_EQ(out.remote().remote_address, with_port(host, b.local_endpoint().port()));
    EXPECT_TRUE(out.remote().encrypted);
    EXPECT_EQ(out.remote().protocol_version, 1u);
    EXPECT_EQ(a.stats().handshakes_ok, 2u);
    EXPECT_EQ(b.stats().handshakes_ok, 2u);
  }
}

TEST_F(TcpTransportTest, DualStackListenerAcceptsIpv4) {
  TcpTransport& a = make(1, "::");
  TcpTransport& b = make(2, "127.0.0.1");
  run(dial_and_talk(&b, &a, with_port("127.0.0.1", a.local_endpoint().port()), &conns_));
  EXPECT_EQ(conns_.size(), 2u);
}

TEST_F(TcpTransportTest, DialToAClosedPortFailsClearly) {
  TcpTransport& a = make(1, "127.0.0.1");
  std::uint16_t port = 0;
  {
    tcp::acceptor probe(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    port = probe.local_endpoint().port();
  }  // closed again: nothing listens there now
  auto r = run(a.dial(with_port("127.0.0.1", port)));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, asio::error::connection_refused);
  EXPECT_EQ(r.error().message,
            fmt::format("cannot connect to 127.0.0.1:{}: Connection refused", port));
  EXPECT_EQ(a.stats().dials_failed, 1u);
  auto bad = run(a.dial("not an address"));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, make_error_code(Errc::kInvalidArgument));
}

TEST_F(TcpTransportTest, WrongPasswordFailsOnBothSides) {
  TcpTransport& a = make(1, "127.0.0.1", "right");
  TcpTransport& b = make(2, "127.0.0.1", "wrong");
  auto r = run(b.dial(with_port("127.0.0.1", a.local_endpoint().port())));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, make_error_code(Errc::kAuthFailed));
  ASSERT_TRUE(run_until([&] { return a.stats().handshake_failed_auth == 1; }));
  EXPECT_EQ(b.stats().handshake_failed_auth, 1u);
  EXPECT_EQ(a.stats().handshakes_ok + b.stats().handshakes_ok, 0u);
  EXPECT_EQ(lines_with("handshake failed", "the peer has a different password"), 2u);
}

TEST_F(TcpTransportTest, RateLimiterRefusesABurstOfIncomingConnections) {
  TcpTransportOptions options;
  options.accept_rate = 0.001;  // practically no refill during the test
  options.accept_burst = 3;
  options.handshake_timeout = 30s;
  TcpTransport& a = make(1, "127.0.0.1", std::nullopt, options);
  std::vector<tcp::socket> sockets;
  for (int i = 0; i < 10; ++i) {
    sockets.emplace_back(io_);
    sockets.back().connect(
        tcp::endpoint(asio::ip::make_address("127.0.0.1"), a.local_endpoint().port()));
  }
  ASSERT_TRUE(run_until([&] { return a.stats().accepts == 10; }));
  EXPECT_EQ(a.stats().accepts_rate_limited, 7u);
  // The refused ones were closed at once (eof or reset); the others got a hello and wait.
  int closed = 0;
  for (auto& s : sockets) {
    s.non_blocking(true);
    std::array<std::uint8_t, 512> buf{};
    std::size_t got = 0;
    boost::system::error_code ec;
    for (int k = 0; k < 400; ++k) {
      got += s.read_some(asio::buffer(buf), ec);
      if (ec != asio::error::would_block || got > 0) {
        break;
      }
      run_until([] { return false; }, 5ms);
    }
    closed += got == 0 && (ec == asio::error::eof || ec == asio::error::connection_reset);
  }
  EXPECT_EQ(closed, 7);
}

TEST_F(TcpTransportTest, SilentIncomingConnectionTimesOut) {
  TcpTransportOptions options;
  options.handshake_timeout = 200ms;
  TcpTransport& a = make(1, "127.0.0.1", std::nullopt, options);
  tcp::socket s(io_);
  s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), a.local_endpoint().port()));
  ASSERT_TRUE(run_until([&] { return a.stats().handshake_failed_timeout == 1; }));
  EXPECT_EQ(a.stats().handshakes_failed(), 1u);  // counted once, as a timeout
  EXPECT_EQ(lines_with("handshake failed", "timed out after 200 ms"), 1u);
}

TEST_F(TcpTransportTest, CloseFailsPendingAcceptAndListenRejectsBadAddresses) {
  TcpTransport& a = make(1, "127.0.0.1");
  TcpTransportOptions options;
  options.listen_address = "nonsense";
  auto t = std::make_unique<TcpTransport>(io_.get_executor(), clock_,
                                          std::make_shared<HandshakeConfig>(), options);
  auto bad = t->listen();
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, make_error_code(Errc::kInvalidArgument));
  auto accept_then_close =
      [](TcpTransport* tr) -> asio::awaitable<Result<std::unique_ptr<MessageConn>>> {
    co_return co_await tr->accept();
  };
  std::optional<Result<std::unique_ptr<MessageConn>>> got;
  asio::co_spawn(io_, accept_then_close(&a),
                 [&](std::exception_ptr, Result<std::unique_ptr<MessageConn>> r) {
                   got.emplace(std::move(r));
                 });
  run_until([] { return false; }, 20ms);
  EXPECT_FALSE(got);
  a.close();
  ASSERT_TRUE(run_until([&] { return got.has_value(); }));
  EXPECT_FALSE(*got);
}

TEST(RateLimiter, AllowsTheBurstThenTheRate) {
  RateLimiter limiter(2.0, 3.0);
  Clock::TimePoint t{};
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(limiter.allow("a", t));
  }
  EXPECT_FALSE(limiter.allow("a", t));
  EXPECT_TRUE(limiter.allow("b", t));  // per source
  t += 500ms;                          // one token back
  EXPECT_TRUE(limiter.allow("a", t));
  EXPECT_FALSE(limiter.allow("a", t));
  t += std::chrono::hours(1);  // never more than the burst
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(limiter.allow("a", t));
  }
  EXPECT_FALSE(limiter.allow("a", t));
}

TEST(RateLimiter, BoundsItsMemory) {
  RateLimiter limiter(1.0, 2.0, 100);
  Clock::TimePoint t{};
  for (int i = 0; i < 1000; ++i) {
    limiter.allow(std::to_string(i), t);
  }
  EXPECT_LE(limiter.keys(), 100u);
}

}  // namespace
}  // namespace weft::router
