// ConnectionMaker: address normalization, backoff growth and jitter bounds, the connection
// limit for discovered targets, discovery on/off, forget, and the state machine.
#include "router/connection_maker.hpp"

#include <algorithm>

#include <gtest/gtest.h>

#include "common/rng.hpp"

namespace weft::router {
namespace {

using namespace std::chrono_literals;
using Time = Clock::TimePoint;

const Time kT0 = Time{} + 1000s;

TEST(ConnectionMaker, NormalizesAddresses) {
  EXPECT_EQ(*normalize_address("host", 6783), "host:6783");
  EXPECT_EQ(*normalize_address("10.0.0.1:99", 6783), "10.0.0.1:99");
  EXPECT_EQ(*normalize_address("[fd00::1]:5", 6783), "[fd00::1]:5");
  EXPECT_EQ(*normalize_address("[fd00::1]", 6783), "[fd00::1]:6783");
  EXPECT_EQ(*normalize_address("fd00::1", 6783), "[fd00::1]:6783");
  EXPECT_FALSE(normalize_address("[fd00::1", 6783));
  EXPECT_FALSE(normalize_address("host:0", 6783));
  EXPECT_FALSE(normalize_address("", 6783));
}

TEST(ConnectionMaker, BackoffGrowsExponentiallyWithBoundedJitter) {
  SeededRng rng(5);
  ConnectionMaker cm({.initial_backoff = 1s, .max_backoff = 120s}, rng);
  for (int attempts = 1; attempts <= 12; ++attempts) {
    const auto base =
        std::min<Clock::Duration>(Clock::Duration(1s) * (1LL << (attempts - 1)), 120s);
    Clock::Duration lo = Clock::Duration::max();
    Clock::Duration hi = Clock::Duration::zero();
    for (int i = 0; i < 1000; ++i) {
      const auto d = cm.backoff(attempts);
      ASSERT_GE(d, base / 2) << attempts;
      ASSERT_LE(d, base) << attempts;
      lo = std::min(lo, d);
      hi = std::max(hi, d);
    }
    // The jitter spreads over most of [base/2, base].
    EXPECT_LT(lo, base / 2 + base / 10) << attempts;
    EXPECT_GT(hi, base - base / 10) << attempts;
  }
}

TEST(ConnectionMaker, StatesFollowDialsAndConnections) {
  SeededRng rng(1);
  ConnectionMaker cm({.initial_backoff = 1s, .max_backoff = 8s}, rng);
  auto added = cm.add("10.0.0.2", kT0);
  ASSERT_TRUE(added);
  EXPECT_EQ(*added, "10.0.0.2:6783");
  EXPECT_EQ(cm.find(*added)->state, TargetState::kRetrying);
  EXPECT_EQ(cm.next_due(0), kT0);
  auto due = cm.take_due(kT0, 0);
  ASSERT_EQ(due, std::vector<std::string>{"10.0.0.2:6783"});
  EXPECT_EQ(cm.find(*added)->state, TargetState::kConnecting);
  EXPECT_TRUE(cm.take_due(kT0, 1).empty());  // not twice

  // Failures back off: 1, 2, 4, 8, 8 s (before jitter).
  Time now = kT0;
  for (int i = 1; i <= 5; ++i) {
    cm.dial_failed(*added, "connection refused", now);
    const Target* t = cm.find(*added);
    EXPECT_EQ(t->state, TargetState::kFailed);
    EXPECT_EQ(t->attempts, i);
    EXPECT_EQ(t->last_error, "connection refused");
    const auto base = std::min<Clock::Duration>(Clock::Duration(1s) * (1LL << (i - 1)), 8s);
    EXPECT_GE(t->next_try - now, base / 2);
    EXPECT_LE(t->next_try - now, base);
    EXPECT_TRUE(cm.take_due(t->next_try - 1ns, 0).empty());
    now = t->next_try;
    ASSERT_EQ(cm.take_due(now, 0).size(), 1u);
  }
  const PeerName peer{0x0a0b0c0d0e0fULL};
  cm.dial_succeeded(*added, peer);
  EXPECT_EQ(cm.find(*added)->state, TargetState::kPending);
  EXPECT_EQ(cm.find(*added)->attempts, 0);
  cm.peer_established(peer);
  EXPECT_EQ(cm.find(*added)->state, TargetState::kEstablished);
  EXPECT_FALSE(cm.next_due(0).has_value());
  cm.peer_lost(peer, "connection reset", now);
  const Target* t = cm.find(*added);
  EXPECT_EQ(t->state, TargetState::kRetrying);
  EXPECT_EQ(t->last_error, "connection reset");
  EXPECT_GE(t->next_try - now, 500ms);
  EXPECT_LE(t->next_try - now, 1s);
  // A connection to the same peer made by the other side also satisfies the target.
  cm.peer_established(peer);
  EXPECT_EQ(cm.find(*added)->state, TargetState::kEstablished);
}

TEST(ConnectionMaker, APeerThatReappearsIsRedialledSoonButKeepsItsFailureCount) {
  SeededRng rng(2);
  ConnectionMaker cm({.initial_backoff = 1s, .max_backoff = 2min}, rng);
  auto added = cm.add("[fd00:18::2]:6783", kT0);
  ASSERT_TRUE(added);
  const PeerName peer{0x0a0b0c0d0e0fULL};
  const PeerName other{0x010203040506ULL};
  ASSERT_EQ(cm.take_due(kT0, 0).size(), 1u);
  cm.dial_succeeded(*added, peer);
  cm.peer_established(peer);
  cm.peer_lost(peer, "connection reset", kT0);
  Time now = kT0;
  for (int i = 0; i < 8; ++i) {  // the peer is down: backoff grows towards 2 min
    now = cm.find(*added)->next_try;
    ASSERT_EQ(cm.take_due(now, 0).size(), 1u);
    cm.dial_failed(*added, "connection refused", now);
  }
  ASSERT_GE(cm.find(*added)->next_try - now, 30s);
  cm.peer_appeared(other, now);  // someone else: no change
  ASSERT_GE(cm.find(*added)->next_try - now, 30s);
  cm.peer_appeared(peer, now);
  const Target* t = cm.find(*added);
  EXPECT_LE(t->next_try - now, 1s);
  EXPECT_EQ(t->attempts, 8);
  EXPECT_EQ(t->state, TargetState::kFailed);
  // Established or connecting targets are left alone.
  ASSERT_EQ(cm.take_due(t->next_try, 0).size(), 1u);
  cm.peer_appeared(peer, t->next_try);
  EXPECT_EQ(cm.find(*added)->state, TargetState::kConnecting);
}

TEST(ConnectionMaker, PermanentFailuresAreNotRetried) {
  SeededRng rng(1);
  ConnectionMaker cm({}, rng);
  auto a = cm.add("10.0.0.1", kT0);
  cm.take_due(kT0, 0);
  cm.dial_failed(*a, "connected to ourselves", kT0, true);
  EXPECT_EQ(cm.find(*a)->state, TargetState::kFailed);
  EXPECT_TRUE(cm.take_due(kT0 + 1000h, 0).empty());
  // Asking again explicitly retries at once.
  cm.add("10.0.0.1", kT0 + 1s);
  EXPECT_EQ(cm.take_due(kT0 + 1s, 0).size(), 1u);
}

TEST(ConnectionMaker, DiscoveredTargetsRespectTheLimit) {
  SeededRng rng(3);
  ConnectionMaker cm({.conn_limit = 3, .discovery = true}, rng);
  cm.set_discovered(
      {"10.0.0.1:6783", "10.0.0.2:6783", "10.0.0.3:6783", "10.0.0.4:6783", "10.0.0.5:6783"}, kT0);
  EXPECT_EQ(cm.targets().size(), 5u);
  auto due = cm.take_due(kT0, 1);  // one connection open: two more allowed
  EXPECT_EQ(due.size(), 2u);
  EXPECT_TRUE(cm.take_due(kT0, 3).empty());
  EXPECT_FALSE(cm.next_due(3).has_value());
  // Explicit targets ignore the limit.
  cm.add("10.0.0.9", kT0);
  EXPECT_EQ(cm.take_due(kT0, 50), std::vector<std::string>{"10.0.0.9:6783"});
  // Dropping an address from discovery removes its idle target but keeps dials in flight
  // and explicit targets.
  cm.set_discovered({"10.0.0.5:6783"}, kT0);
  for (const auto& d : due) {
    EXPECT_NE(cm.find(d), nullptr);
  }
  EXPECT_NE(cm.find("10.0.0.5:6783"), nullptr);
  EXPECT_NE(cm.find("10.0.0.9:6783"), nullptr);
  EXPECT_EQ(cm.targets().size(), due.size() + 2);
}

TEST(ConnectionMaker, NoDiscoveryMeansOnlyExplicitTargets) {
  SeededRng rng(3);
  ConnectionMaker cm({.discovery = false}, rng);
  cm.set_discovered({"10.0.0.1:6783", "10.0.0.2:6783"}, kT0);
  EXPECT_TRUE(cm.targets().empty());
  cm.add("10.0.0.3", kT0);
  EXPECT_EQ(cm.take_due(kT0, 0).size(), 1u);
}

TEST(ConnectionMaker, ForgetRemovesTargetAndReportsItsPeer) {
  SeededRng rng(3);
  ConnectionMaker cm({}, rng);
  auto a = cm.add("[fd00::7]", kT0);
  ASSERT_TRUE(a);
  cm.take_due(kT0, 0);
  const PeerName peer{42};
  cm.dial_succeeded(*a, peer);
  auto gone = cm.forget("[fd00::7]:6783");
  EXPECT_TRUE(gone.found);
  EXPECT_EQ(gone.peer, peer);
  EXPECT_EQ(cm.find(*a), nullptr);
  EXPECT_FALSE(cm.forget("[fd00::7]").found);
  EXPECT_FALSE(cm.forget("not an address:").found);
}

TEST(ConnectionMaker, StateNames) {
  EXPECT_EQ(to_string(TargetState::kConnecting), "connecting");
  EXPECT_EQ(to_string(TargetState::kPending), "pending");
  EXPECT_EQ(to_string(TargetState::kEstablished), "established");
  EXPECT_EQ(to_string(TargetState::kRetrying), "retrying");
  EXPECT_EQ(to_string(TargetState::kFailed), "failed");
}

}  // namespace
}  // namespace weft::router
