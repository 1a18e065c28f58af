// The handshake (router/handshake.hpp) over in-memory stream pairs: successful cases,
// every rejection with its log line and counter, and every I/O step failing once.
#include "router/handshake.hpp"

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include "common/log.hpp"
#include "tests/support/failing_stream.hpp"

namespace weft::router {
namespace {

namespace asio = boost::asio;
using test::Fault;
using test::TestStream;

// Argon2 is deliberately slow: derive each test password once.
const SecretKey& password_key(const std::string& password) {
  static std::map<std::string, SecretKey> cache;
  auto it = cache.find(password);
  if (it == cache.end()) {
    it = cache.emplace(password, derive_password_key(password).value()).first;
  }
  return it->second;
}

std::shared_ptr<HandshakeConfig> config(std::uint64_t name, std::string nickname,
                                        std::optional<std::string> password = std::nullopt) {
  auto c = std::make_shared<HandshakeConfig>();
  c->name = PeerName{name};
  c->uid = random_u64() | 1;
  c->nickname = std::move(nickname);
  c->listen_port = static_cast<std::uint16_t>(6000 + name % 1000);
  if (password) {
    c->password_key = password_key(*password);
  }
  return c;
}

struct Outcome {
  std::optional<Result<Session>> dialer;
  std::optional<Result<Session>> acceptor;
  bool finished() const { return dialer && acceptor; }
};

// One side as a transport runs it: handshake, and close the stream when it failed.
asio::awaitable<Result<Session>> side(TestStream* stream, Role role,
                                      std::shared_ptr<const HandshakeConfig> cfg,
                                      std::shared_ptr<TransportStats> stats) {
  auto r = co_await run_handshake(*stream, role, cfg, stats);
  if (!r) {
    stream->close();
  }
  co_return r;
}

class HandshakeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    log::set_sink([this](std::string_view l) { lines_.emplace_back(l); });
  }
  void TearDown() override { log::set_sink(nullptr); }

  // Runs both handshakes on a fresh pair (or `pair`) until both finish (10 s real limit).
  Outcome run(std::shared_ptr<const HandshakeConfig> d, std::shared_ptr<const HandshakeConfig> a,
              test::TestStreamPair* pair = nullptr) {
    test::TestStreamPair local;
    if (pair == nullptr) {
      local = test::make_stream_pair(io_.get_executor());
      pair = &local;
    }
    Outcome out;
    asio::co_spawn(io_, side(pair->first.get(), Role::kDialer, d, dialer_stats_),
                   [&](std::exception_ptr e, Result<Session> r) {
                     ASSERT_FALSE(e);
                     out.dialer.emplace(std::move(r));
                   });
    asio::co_spawn(io_, side(pair->second.get(), Role::kAcceptor, a, acceptor_stats_),
                   [&](std::exception_ptr e, Result<Session> r) {
                     ASSERT_FALSE(e);
                     out.acceptor.emplace(std::move(r));
                   });
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    io_.restart();
    while (!out.finished() && std::chrono::steady_clock::now() < deadline) {
      io_.run_for(std::chrono::milliseconds(20));
      io_.restart();
    }
    EXPECT_TRUE(out.finished()) << "handshake hung";
    if (!out.finished()) {
      // Unblock and drain so that nothing refers to this frame's locals afterwards.
      pair->first->close();
      pair->second->close();
      io_.run_for(std::chrono::milliseconds(100));
    }
    return out;
  }

  std::size_t lines_with(std::string_view a, std::string_view b = {}) const {
    std::size_t n = 0;
    for (const auto& l : lines_) {
      n += l.find(a) != std::string::npos && l.find(b) != std::string::npos;
    }
    return n;
  }
  std::string all_lines() const {
    std::string s;
    for (const auto& l : lines_) {
      s += l;
    }
    return s;
  }

  asio::io_context io_;
  std::shared_ptr<TransportStats> dialer_stats_ = std::make_shared<TransportStats>();
  std::shared_ptr<TransportStats> acceptor_stats_ = std::make_shared<TransportStats>();
  std::vector<std::string> lines_;
};

// The two sessions talk: what one side seals the other opens, both directions.
void expect_working_session(Session& d, Session& a) {
  EXPECT_EQ(d.transcript, a.transcript);
  const std::vector<std::uint8_t> msg = {1, 2, 3};
  std::vector<std::uint8_t> sealed;
  std::vector<std::uint8_t> opened;
  d.send.seal({}, msg, sealed);
  ASSERT_TRUE(a.receive.open({}, sealed, opened));
  EXPECT_EQ(opened, msg);
  sealed.clear();
  a.send.seal({}, msg, sealed);
  ASSERT_TRUE(d.receive.open({}, sealed, opened));
  EXPECT_EQ(d.send.counter(), 2u);  // confirm + one message
}

TEST_F(HandshakeTest, SucceedsWithoutPasswordAndReportsPeers) {
  auto d = config(0x0a0000000001, "dialer");
  auto a = config(0x0a0000000002, "acceptor");
  auto out = run(d, a);
  ASSERT_TRUE(out.finished());
  ASSERT_TRUE(*out.dialer) << out.dialer->error().to_string();
  ASSERT_TRUE(*out.acceptor) << out.acceptor->error().to_string();
  Session& ds = **out.dialer;
  Session& as = **out.acceptor;
  EXPECT_EQ(ds.peer.name, a->name);
  EXPECT_EQ(ds.peer.nickname, "acceptor");
  EXPECT_EQ(ds.peer.uid, a->uid);
  EXPECT_EQ(ds.peer.listen_port, a->listen_port);
  EXPECT_EQ(ds.peer.remote_address, "198.18.0.2:6783");
  EXPECT_EQ(as.peer.remote_address, "198.18.0.1:40212");
  EXPECT_EQ(as.peer.name, d->name);
  EXPECT_FALSE(ds.peer.encrypted);
  EXPECT_FALSE(ds.peer.static_key);
  EXPECT_EQ(ds.peer.protocol_version, 1u);
  expect_working_session(ds, as);
  EXPECT_EQ(dialer_stats_->handshakes_ok, 1u);
  EXPECT_EQ(acceptor_stats_->handshakes_ok, 1u);
  EXPECT_EQ(lines_with("handshake failed"), 0u) << all_lines();
}

TEST_F(HandshakeTest, SucceedsWithPasswordAndIsPasswordBound) {
  auto out = run(config(1, "d", "s3cret"), config(2, "a", "s3cret"));
  ASSERT_TRUE(out.finished());
  ASSERT_TRUE(*out.dialer && *out.acceptor);
  EXPECT_TRUE((*out.dialer)->peer.encrypted);
  EXPECT_TRUE((*out.acceptor)->peer.encrypted);
  expect_working_session(**out.dialer, **out.acceptor);
}

TEST_F(HandshakeTest, SucceedsWithStaticKeysAndTrustedLists) {
  auto d = config(1, "d", "pw");
  auto a = config(2, "a", "pw");
  d->static_key = generate_keypair();
  a->static_key = generate_keypair();
  d->trusted_keys = {a->static_key->public_key};
  a->trusted_keys = {generate_keypair().public_key, d->static_key->public_key};
  auto out = run(d, a);
  ASSERT_TRUE(out.finished());
  ASSERT_TRUE(*out.dialer) << out.dialer->error().to_string();
  ASSERT_TRUE(*out.acceptor) << out.acceptor->error().to_string();
  EXPECT_EQ((*out.dialer)->peer.static_key, a->static_key->public_key);
  EXPECT_EQ((*out.acceptor)->peer.static_key, d->static_key->public_key);
  expect_working_session(**out.dialer, **out.acceptor);
}

TEST_F(HandshakeTest, NegotiatesVersionOneWithAWiderPeer) {
  auto d = config(1, "d");
  d->max_version = 3;
  auto out = run(d, config(2, "a"));
  ASSERT_TRUE(out.finished());
  ASSERT_TRUE(*out.dialer && *out.acceptor);
  EXPECT_EQ((*out.dialer)->peer.protocol_version, 1u);
  EXPECT_EQ((*out.acceptor)->peer.protocol_version, 1u);
}

TEST_F(HandshakeTest, RejectsVersionMismatchOnBothSides) {
  auto d = config(1, "d");
  d->min_version = 2;
  d->max_version = 3;
  auto out = run(d, config(2, "a"));
  ASSERT_TRUE(out.finished());
  ASSERT_FALSE(*out.dialer);
  ASSERT_FALSE(*out.acceptor);
  EXPECT_EQ(out.dialer->error().code, make_error_code(Errc::kUnsupported));
  EXPECT_EQ(out.acceptor->error().code, make_error_code(Errc::kUnsupported));
  EXPECT_EQ(lines_with("handshake failed",
                       "no common protocol version: we speak 1..1, peer "
                       "speaks 2..3"),
            1u)
      << all_lines();
  EXPECT_EQ(dialer_stats_->handshake_failed_version, 1u);
  EXPECT_EQ(acceptor_stats_->handshake_failed_version, 1u);
}

TEST_F(HandshakeTest, RejectsWrongPasswordOnBothSidesWithAClearLine) {
  auto out = run(config(1, "d", "right"), config(2, "a", "wrong"));
  ASSERT_TRUE(out.finished());
  ASSERT_FALSE(*out.dialer);
  ASSERT_FALSE(*out.acceptor);
  EXPECT_EQ(out.dialer->error().code, make_error_code(Errc::kAuthFailed));
  EXPECT_EQ(out.acceptor->error().code, make_error_code(Errc::kAuthFailed));
  EXPECT_NE(out.dialer->error().message.find("the peer has a different password"),
            std::string::npos);
  // One line per side, naming the peer's address and name.
  EXPECT_EQ(lines_with("handshake failed", "has a different password"), 2u) << all_lines();
  EXPECT_EQ(lines_with("peer=198.18.0.2:6783 name=00:00:00:00:00:02", "has a different password"),
            1u)
      << all_lines();
  EXPECT_EQ(lines_with("peer=198.18.0.1:40212 name=00:00:00:00:00:01", "has a different password"),
            1u)
      << all_lines();
  EXPECT_EQ(dialer_stats_->handshake_failed_auth, 1u);
  EXPECT_EQ(acceptor_stats_->handshake_failed_auth, 1u);
  EXPECT_EQ(dialer_stats_->handshakes_ok + acceptor_stats_->handshakes_ok, 0u);
}

TEST_F(HandshakeTest, RejectsPasswordOnOneSideOnlyWithAClearLine) {
  auto out = run(config(1, "d", "pw"), config(2, "a"));
  ASSERT_TRUE(out.finished());
  ASSERT_FALSE(*out.dialer);
  ASSERT_FALSE(*out.acceptor);
  EXPECT_EQ(lines_with("handshake failed", "peer has no password but we require one"), 1u)
      << all_lines();
  EXPECT_EQ(lines_with("handshake failed", "peer requires a password but we have none"), 1u)
      << all_lines();
  EXPECT_EQ(dialer_stats_->handshake_failed_auth, 1u);
  EXPECT_EQ(acceptor_stats_->handshake_failed_auth, 1u);
}

TEST_F(HandshakeTest, RejectsUntrustedKeyBeforeKeyConfirmation) {
  auto d = config(1, "d", "pw");
  auto a = config(2, "a", "pw");
  d->static_key = generate_keypair();
  a->static_key = generate_keypair();
  a->trusted_keys = {generate_keypair().public_key};
  auto out = run(d, a);
  ASSERT_TRUE(out.finished());
  ASSERT_FALSE(*out.acceptor);
  ASSERT_FALSE(*out.dialer);
  const std::string expected = "untrusted key " + key_to_base64(d->static_key->public_key);
  EXPECT_EQ(out.acceptor->error().code, make_error_code(Errc::kAuthFailed));
  EXPECT_EQ(lines_with("handshake failed", expected), 1u) << all_lines();
  EXPECT_EQ(acceptor_stats_->handshake_failed_untrusted, 1u);
  // Rejected before the acceptor sent its confirm: the dialer sees the connection close.
  EXPECT_EQ(dialer_stats_->handshake_failed_io, 1u);

  // A peer without any static key is untrusted too.
  d->static_key.reset();
  auto out2 = run(d, a);
  ASSERT_TRUE(out2.finished());
  ASSERT_FALSE(*out2.acceptor);
  EXPECT_EQ(lines_with("handshake failed", "it has no static key and we require one"), 1u)
      << all_lines();
  EXPECT_EQ(acceptor_stats_->handshake_failed_untrusted, 2u);
}

TEST_F(HandshakeTest, RejectsAPeerClaimingAStaticKeyItDoesNotHold) {
  for (bool impostor_dials : {true, false}) {
    SCOPED_TRACE(impostor_dials ? "impostor dials" : "impostor accepts");
    lines_.clear();
    const KeyPair victim = generate_keypair();
    auto impostor = config(1, "impostor");
    auto honest = config(2, "honest");
    honest->static_key = generate_keypair();
    honest->trusted_keys = {victim.public_key};
    // The impostor advertises the victim's public key with a secret key of its own.
    KeyPair fake = generate_keypair();
    fake.public_key = victim.public_key;
    impostor->static_key = fake;
    auto out = impostor_dials ? run(impostor, honest) : run(honest, impostor);
    ASSERT_TRUE(out.finished());
    ASSERT_FALSE(*out.acceptor);
    ASSERT_FALSE(*out.dialer);
    auto& honest_result = impostor_dials ? *out.acceptor : *out.dialer;
    EXPECT_EQ(honest_result.error().code, make_error_code(Errc::kAuthFailed));
    EXPECT_EQ(lines_with("handshake failed", "authentication failed (wrong password or key)"), 2u)
        << all_lines();
  }
  EXPECT_EQ(acceptor_stats_->handshake_failed_auth, 2u);
  EXPECT_EQ(dialer_stats_->handshake_failed_auth, 2u);
}

TEST_F(HandshakeTest, RejectsConnectionToSelf) {
  auto out = run(config(7, "me"), config(7, "me"));
  ASSERT_TRUE(out.finished());
  ASSERT_FALSE(*out.dialer);
  ASSERT_FALSE(*out.acceptor);
  EXPECT_EQ(out.dialer->error().code, make_error_code(Errc::kConflict));
  EXPECT_EQ(lines_with("handshake failed", "connection to self"), 2u) << all_lines();
  EXPECT_EQ(dialer_stats_->handshake_failed_self, 1u);
}

TEST_F(HandshakeTest, RejectsGarbageAsMalformed) {
  auto pair = test::make_stream_pair(io_.get_executor());
  const std::string http = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  pair.first->set_write_filter(
      [&](std::vector<std::uint8_t>& b) { b.assign(http.begin(), http.end()); });
  auto out = run(config(1, "d"), config(2, "a"), &pair);
  ASSERT_TRUE(out.finished());
  ASSERT_FALSE(*out.acceptor);
  EXPECT_EQ(out.acceptor->error().code, make_error_code(Errc::kMalformed));
  EXPECT_EQ(lines_with("handshake failed", "not a weft peer: bad magic 47455420"), 1u)
      << all_lines();
  EXPECT_EQ(acceptor_stats_->handshake_failed_malformed, 1u);
}

// Each end's operations in a successful handshake, and the index of its last write.
struct OpCounts {
  std::size_t dialer = 0;
  std::size_t acceptor = 0;
};

class HandshakeFaultTest : public HandshakeTest {
 protected:
  OpCounts count_ops() {
    auto pair = test::make_stream_pair(io_.get_executor());
    auto out = run(d_, a_, &pair);
    EXPECT_TRUE(out.finished() && *out.dialer && *out.acceptor);
    return {pair.first->operations(), pair.second->operations()};
  }

  // Makes operation n of one end fail with `fault`; returns the outcome.
  Outcome run_faulty(bool dialer_fails, std::size_t n, Fault fault) {
    auto pair = test::make_stream_pair(io_.get_executor());
    (dialer_fails ? pair.first : pair.second)->fail_at(n, fault);
    return run(d_, a_, &pair);
  }

  std::shared_ptr<HandshakeConfig> d_ = config(1, "d", "pw");
  std::shared_ptr<HandshakeConfig> a_ = config(2, "a", "pw");
};

TEST_F(HandshakeFaultTest, EveryIoStepFailingOnceFailsCleanly) {
  d_->static_key = generate_keypair();
  a_->static_key = generate_keypair();
  const OpCounts ops = count_ops();
  // Hello write, hello header + body reads, confirm write, confirm header + body reads.
  ASSERT_GE(ops.dialer, 6u);
  ASSERT_GE(ops.acceptor, 6u);
  for (Fault fault : {Fault::kError, Fault::kEof}) {
    for (bool dialer_fails : {true, false}) {
      const std::size_t count = dialer_fails ? ops.dialer : ops.acceptor;
      for (std::size_t n = 1; n <= count; ++n) {
        SCOPED_TRACE(::testing::Message() << (dialer_fails ? "dialer" : "acceptor") << " operation "
                                          << n << " fault " << static_cast<int>(fault));
        auto out = run_faulty(dialer_fails, n, fault);
        ASSERT_TRUE(out.finished());
        auto& failing = dialer_fails ? *out.dialer : *out.acceptor;
        auto& other = dialer_fails ? *out.acceptor : *out.dialer;
        EXPECT_FALSE(failing) << "the failing side succeeded";
        // The other side fails too, unless the failing side had already sent its confirm
        // (its last write, operation count - 2): then the other side cannot know yet and
        // its connection will see eof on the first read.
        if (n <= count - 2) {
          EXPECT_FALSE(other) << "the other side succeeded";
        }
      }
    }
  }
}

TEST_F(HandshakeFaultTest, ShortReadsAtEveryStepStillSucceed) {
  const OpCounts ops = count_ops();
  for (bool dialer_short : {true, false}) {
    const std::size_t count = dialer_short ? ops.dialer : ops.acceptor;
    for (std::size_t n = 1; n <= count; ++n) {
      SCOPED_TRACE(::testing::Message()
                   << (dialer_short ? "dialer" : "acceptor") << " short read at operation " << n);
      auto pair = test::make_stream_pair(io_.get_executor());
      (dialer_short ? pair.first : pair.second)->fail_at(n, Fault::kShortRead);
      auto out = run(d_, a_, &pair);
      ASSERT_TRUE(out.finished());
      EXPECT_TRUE(*out.dialer);
      EXPECT_TRUE(*out.acceptor);
    }
  }
}

TEST_F(HandshakeFaultTest, EveryTruncationOfThePeersBytesFails) {
  // Record what an acceptor sends in a good handshake, then replay every prefix of it
  // (followed by eof) to a fresh dialer: the dialer must fail each time (the full replay
  // too: the recorded confirm belongs to another transcript).
  auto probe = test::make_stream_pair(io_.get_executor());
  ASSERT_TRUE(run(d_, a_, &probe).finished());
  std::vector<std::uint8_t> recorded;
  for (const auto& w : probe.second->writes()) {
    recorded.insert(recorded.end(), w.begin(), w.end());
  }
  ASSERT_GT(recorded.size(), kHelloHeaderSize + kHelloMinBody);
  for (std::size_t k = 0; k <= recorded.size(); ++k) {
    auto pair = test::make_stream_pair(io_.get_executor());
    pair.second->inject(std::span(recorded).first(k));
    pair.second->close_write();
    std::optional<Result<Session>> r;
    asio::co_spawn(io_, run_handshake(*pair.first, Role::kDialer, d_, dialer_stats_),
                   [&](std::exception_ptr e, Result<Session> v) {
                     ASSERT_FALSE(e);
                     r.emplace(std::move(v));
                   });
    io_.restart();
    io_.run_for(std::chrono::seconds(5));
    ASSERT_TRUE(r) << "dialer hung with " << k << " bytes";
    EXPECT_FALSE(*r) << "dialer succeeded with " << k << " of " << recorded.size() << " bytes";
  }
  EXPECT_EQ(dialer_stats_->handshakes_ok, 1u);  // the probe only
}

}  // namespace
}  // namespace weft::router
