// The NetworkPolicy summaries' gossip channel (weftd/policy_channel.hpp): the merge is a
// lattice join (random entry sets merged in any order and repeatedly give one state), a
// node publishes a new version only when its summary's content changes, a restarted node
// publishes above its earlier launch's entry, garbage collection, anti-entropy digests, and
// the update encoding's round trip and refusals.
#include "weftd/policy_channel.hpp"

#include <algorithm>
#include <random>

#include <gtest/gtest.h>

#include "tests/support/virtual_clock.hpp"

namespace weft::weftd {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using router::PeerName;

class CountingSender final : public router::GossipSender {
 public:
  void changed(router::ChannelId channel) override {
    EXPECT_EQ(channel, router::kPolicyChannel);
    ++changes;
  }
  Result<void> unicast(router::ChannelId, PeerName, std::vector<std::uint8_t>) override {
    return {};
  }
  void broadcast(router::ChannelId, std::vector<std::uint8_t>) override {}
  int changes = 0;
};

PolicySummary summary(std::uint64_t policies, std::uint64_t blocked, Clock::TimePoint at) {
  NpcStatus s;
  s.counts.synced = true;
  s.counts.policies = policies;
  s.counts.blocked_ingress[0] = blocked;
  for (std::uint64_t i = 0; i < std::min<std::uint64_t>(blocked, 3); ++i) {
    s.recent_blocks.push_back(
        {static_cast<double>(i), "blocked ingress TCP 198.19.0." + std::to_string(i) + ":1 -> x"});
  }
  return after_poll({}, s, at);
}

// A summary of a weft-npc that never answered.
PolicySummary failed(NpcState state, std::string error) {
  PolicySummary s;
  s.state = state;
  s.error = std::move(error);
  return s;
}

std::vector<std::uint8_t> update_of(const std::vector<PolicyEntry>& entries, Clock::TimePoint now) {
  std::vector<const PolicyEntry*> ptrs;
  ptrs.reserve(entries.size());
  for (const auto& e : entries) {
    ptrs.push_back(&e);
  }
  return encode_policy_update(ptrs, now);
}

class PolicyChannelTest : public ::testing::Test {
 protected:
  test::VirtualClock clock_;
};

TEST_F(PolicyChannelTest, MergeIsAJoinWhateverTheOrder) {
  std::mt19937_64 rng(42);
  const Clock::TimePoint now = clock_.now();
  for (int round = 0; round < 50; ++round) {
    std::vector<PolicyEntry> entries;
    for (int i = 0; i < 12; ++i) {
      const auto peer = PeerName{2 + rng() % 4};
      // Times are the same for all: content, not times, is what may differ per stamp.
      const std::uint64_t uid = 1 + rng() % 2;
      const std::uint64_t version = 1 + rng() % 3;
      const std::uint64_t policies = rng() % 3;
      entries.push_back({peer, uid, version, summary(policies, rng() % 4, now)});
    }
    PolicyChannel reference(PeerName{1}, 1, clock_);
    for (const auto& e : entries) {
      ASSERT_TRUE(reference.on_update(PeerName{9}, update_of({e}, now)));
    }
    for (int order = 0; order < 5; ++order) {
      std::shuffle(entries.begin(), entries.end(), rng);
      PolicyChannel other(PeerName{1}, 1, clock_);
      // In pieces, some twice.
      for (std::size_t i = 0; i < entries.size(); i += 3) {
        const std::vector<PolicyEntry> piece(
            entries.begin() + static_cast<std::ptrdiff_t>(i),
            entries.begin() + static_cast<std::ptrdiff_t>(std::min(i + 3, entries.size())));
        ASSERT_TRUE(other.on_update(PeerName{9}, update_of(piece, now)));
        ASSERT_TRUE(other.on_update(PeerName{8}, update_of(piece, now)));
      }
      ASSERT_EQ(other.entries(), reference.entries()) << "round " << round;
    }
  }
}

TEST_F(PolicyChannelTest, PublishesANewVersionOnlyWhenTheContentChanges) {
  CountingSender sender;
  PolicyChannel a(PeerName{1}, 7, clock_);
  a.attach(sender);
  a.set_own(summary(2, 1, clock_.now()));
  EXPECT_EQ(sender.changes, 1);
  EXPECT_EQ(a.entries().at(PeerName{1}).version, 1u);
  clock_.advance(3s);
  a.set_own(summary(2, 1, clock_.now()));  // the same, later
  EXPECT_EQ(sender.changes, 1);
  EXPECT_EQ(a.entries().at(PeerName{1}).summary.data_at, clock_.now());
  a.set_own(summary(2, 2, clock_.now()));  // a new block
  EXPECT_EQ(sender.changes, 2);
  EXPECT_EQ(a.entries().at(PeerName{1}).version, 2u);

  // What it sends, another node merges; times are turned into the receiver's.
  PolicyChannel b(PeerName{2}, 8, clock_);
  clock_.advance(1s);  // ages are rendered at sending: the same instant here
  auto delta = a.take_delta();
  ASSERT_FALSE(delta.empty());
  EXPECT_TRUE(a.take_delta().empty());
  ASSERT_TRUE(b.on_update(PeerName{1}, delta));
  const PolicyEntry& got = b.entries().at(PeerName{1});
  EXPECT_EQ(got.uid, 7u);
  EXPECT_EQ(got.version, 2u);
  EXPECT_TRUE(same_content(got.summary, a.entries().at(PeerName{1}).summary));
  EXPECT_EQ(got.summary.recent_blocks, a.entries().at(PeerName{1}).summary.recent_blocks);
  EXPECT_FALSE(*b.on_update(PeerName{3}, delta));  // old news
}

TEST_F(PolicyChannelTest, ARestartedNodePublishesAboveItsEarlierLaunch) {
  CountingSender sender;
  PolicyChannel before(PeerName{1}, 100, clock_);
  for (int i = 0; i < 5; ++i) {
    before.set_own(summary(1, static_cast<std::uint64_t>(i), clock_.now()));
  }
  const auto old_update = before.take_delta();

  PolicyChannel after(PeerName{1}, 101, clock_);
  after.attach(sender);
  after.set_own(summary(1, 9, clock_.now()));
  EXPECT_EQ(after.entries().at(PeerName{1}).version, 1u);
  ASSERT_TRUE(after.on_update(PeerName{2}, old_update));
  const PolicyEntry& own = after.entries().at(PeerName{1});
  EXPECT_EQ(own.uid, 101u);  // ours is never replaced
  EXPECT_EQ(own.version, 6u);
  EXPECT_EQ(own.summary.counts.blocked_ingress[0], 9u);

  // A third node that had the old entry takes the new one.
  PolicyChannel third(PeerName{3}, 1, clock_);
  ASSERT_TRUE(third.on_update(PeerName{2}, old_update));
  ASSERT_TRUE(third.on_update(PeerName{1}, after.take_delta()));
  EXPECT_EQ(third.entries().at(PeerName{1}).uid, 101u);

  // Heard before its first summary: it starts above.
  PolicyChannel fresh(PeerName{1}, 102, clock_);
  EXPECT_FALSE(*fresh.on_update(PeerName{2}, old_update));
  fresh.set_own(summary(0, 0, clock_.now()));
  EXPECT_GT(fresh.entries().at(PeerName{1}).version, 5u);
}

TEST_F(PolicyChannelTest, RetainDropsPeersThatLeftOrRestarted) {
  PolicyChannel c(PeerName{1}, 1, clock_);
  c.set_own(summary(1, 0, clock_.now()));
  const auto now = clock_.now();
  ASSERT_TRUE(c.on_update(PeerName{2}, update_of({{PeerName{2}, 20, 1, summary(1, 0, now)},
                                                  {PeerName{3}, 30, 1, summary(1, 0, now)},
                                                  {PeerName{4}, 40, 1, summary(1, 0, now)}},
                                                 now)));
  c.retain([](PeerName p, std::uint64_t uid) {
    return (p == PeerName{2} && uid == 20) || (p == PeerName{3} && uid == 31);
  });
  std::vector<PeerName> left;
  for (const auto& [p, e] : c.entries()) {
    left.push_back(p);
  }
  EXPECT_EQ(left, (std::vector<PeerName>{PeerName{1}, PeerName{2}}));
}

TEST_F(PolicyChannelTest, DigestsAnswerWithWhatThePeerLacks) {
  PolicyChannel a(PeerName{1}, 1, clock_);
  PolicyChannel b(PeerName{2}, 2, clock_);
  a.set_own(summary(1, 1, clock_.now()));
  b.set_own(summary(2, 2, clock_.now()));
  auto answer = a.on_digest(PeerName{2}, b.digest());
  ASSERT_TRUE(answer);
  EXPECT_TRUE(answer->peer_has_newer);  // b has its own entry, which a lacks
  ASSERT_FALSE(answer->update.empty());
  ASSERT_TRUE(b.on_update(PeerName{1}, answer->update));
  auto back = b.on_digest(PeerName{1}, a.digest());
  ASSERT_TRUE(back);
  ASSERT_FALSE(back->update.empty());
  ASSERT_TRUE(a.on_update(PeerName{2}, back->update));
  EXPECT_EQ(a.entries().size(), 2u);
  auto settled = a.on_digest(PeerName{2}, b.digest());
  ASSERT_TRUE(settled);
  EXPECT_FALSE(settled->peer_has_newer);
  EXPECT_TRUE(settled->update.empty());
  EXPECT_FALSE(a.on_digest(PeerName{2}, std::vector<std::uint8_t>{1, 2, 3}));
}

TEST_F(PolicyChannelTest, UpdatesRoundTripAndBadOnesAreRefused) {
  const auto now = clock_.now() + 100s;
  const std::vector<PolicyEntry> entries = {
      {PeerName{2}, 5, 3, summary(2, 3, now - 4s)},
      {PeerName{3}, 6, 1, failed(NpcState::kNotRunning, "refused")}};
  auto parsed = parse_policy_update(update_of(entries, now), now);
  ASSERT_TRUE(parsed) << parsed.error().message;
  ASSERT_EQ(parsed->size(), 2u);
  EXPECT_TRUE(same_content((*parsed)[0].summary, entries[0].summary));
  EXPECT_EQ((*parsed)[1], entries[1]);

  auto refuse = [&](const std::string& text) {
    const std::vector<std::uint8_t> bytes(text.begin(), text.end());
    EXPECT_FALSE(parse_policy_update(bytes, now)) << text;
  };
  const auto encoded = update_of(entries, now);
  const json good = json::parse(std::string(encoded.begin(), encoded.end()));
  refuse("");
  refuse("not json");
  refuse("[]");
  refuse(R"({"entries": {}})");
  for (const char* key : {"peer", "uid", "version", "summary"}) {
    json bad = good;
    bad["entries"][0].erase(key);
    refuse(bad.dump());
  }
  json bad = good;
  bad["entries"][0]["peer"] = "00:00:00:00:00:00";
  refuse(bad.dump());
  bad = good;
  bad["entries"][0]["version"] = 0;
  refuse(bad.dump());
  bad = good;
  bad["entries"][0]["version"] = std::uint64_t{1} << 63;
  refuse(bad.dump());
  refuse(std::string(20, '[') + std::string(20, ']'));
}

}  // namespace
}  // namespace weft::weftd
