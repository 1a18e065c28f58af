// A node's NetworkPolicy summary (weftd/policy_summary.hpp) and where /report shows it: the
// poll transitions (running, not running, bad answer; the last data kept and aged), the
// JSON and its round trip at millisecond precision, and the report's "policy" objects for
// this node and per peer (router.peers[].policy, only for the peer's current launch).
#include "weftd/policy_summary.hpp"

#include <gtest/gtest.h>

#include "weftd/report.hpp"

namespace weft::weftd {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using router::PeerName;

NpcStatus npc_status() {
  NpcStatus s;
  s.node = "h1";
  s.counts.synced = true;
  s.counts.policies = 2;
  s.counts.local_pods = 4;
  s.counts.isolated_ingress = 3;
  s.counts.isolated_egress = 1;
  s.counts.blocked_ingress = {5, 1, 0, 0};
  s.counts.blocked_egress = {0, 0, 0, 2};
  s.recent_blocks = {{0.5, "blocked ingress TCP a -> b (policy namespace x)"},
                     {12.25, "blocked egress UDP b -> c (policy namespace x)"}};
  return s;
}

// A summary of a weft-npc that never answered.
PolicySummary failed(NpcState state, std::string error) {
  PolicySummary s;
  s.state = state;
  s.error = std::move(error);
  return s;
}

const Clock::TimePoint kT0 = Clock::TimePoint{} + 1000s;

TEST(PolicySummary, PollTransitionsKeepTheLastData) {
  PolicySummary s;
  EXPECT_EQ(s.state, NpcState::kNotRunning);
  s = after_poll(s, npc_status(), kT0);
  EXPECT_EQ(s.state, NpcState::kRunning);
  EXPECT_EQ(s.error, "");
  EXPECT_EQ(s.data_at, kT0);
  EXPECT_EQ(s.counts.policies, 2u);
  ASSERT_EQ(s.recent_blocks.size(), 2u);
  EXPECT_EQ(s.recent_blocks[1].when, kT0 - 12250ms);

  const Result<NpcStatus> refused =
      make_error(Errc::kUnavailable, "cannot connect to 127.0.0.1:6781: Connection refused");
  PolicySummary down = after_poll(s, refused, kT0 + 3s);
  EXPECT_EQ(down.state, NpcState::kNotRunning);
  EXPECT_EQ(down.error, "cannot connect to 127.0.0.1:6781: Connection refused");
  EXPECT_EQ(down.data_at, kT0);  // the last data, from then
  EXPECT_EQ(down.counts, s.counts);
  EXPECT_EQ(after_poll(s, Result<NpcStatus>(make_error(Errc::kTimeout, "t")), kT0).state,
            NpcState::kNotRunning);

  const Result<NpcStatus> garbage = make_error(Errc::kMalformed, "weft-npc status: invalid JSON");
  PolicySummary bad = after_poll(down, garbage, kT0 + 6s);
  EXPECT_EQ(bad.state, NpcState::kBadAnswer);
  EXPECT_EQ(bad.error, "weft-npc status: invalid JSON");

  PolicySummary back = after_poll(bad, npc_status(), kT0 + 9s);
  EXPECT_EQ(back.state, NpcState::kRunning);
  EXPECT_EQ(back.error, "");
  EXPECT_EQ(back.data_at, kT0 + 9s);
}

TEST(PolicySummary, SameContentIgnoresTimes) {
  const PolicySummary a = after_poll({}, npc_status(), kT0);
  const PolicySummary b = after_poll({}, npc_status(), kT0 + 3s);
  EXPECT_NE(a, b);
  EXPECT_TRUE(same_content(a, b));
  NpcStatus more = npc_status();
  more.counts.blocked_ingress[0] += 1;
  EXPECT_FALSE(same_content(a, after_poll({}, more, kT0)));
  more = npc_status();
  more.recent_blocks[0].line = "blocked ingress TCP a -> d (policy namespace x)";
  EXPECT_FALSE(same_content(a, after_poll({}, more, kT0)));
  EXPECT_FALSE(
      same_content(a, after_poll(a, Result<NpcStatus>(make_error(Errc::kTimeout, "t")), kT0)));
}

TEST(PolicySummary, JsonShowsCountsTotalsAndAges) {
  const PolicySummary s = after_poll({}, npc_status(), kT0);
  json j = policy_json(s, kT0 + 2s);
  EXPECT_EQ(j["state"], "running");
  EXPECT_FALSE(j.contains("error"));
  EXPECT_FALSE(j.contains("data_age_seconds"));
  EXPECT_EQ(j["policies"], 2);
  EXPECT_EQ(j["local_pods"], 4);
  EXPECT_EQ(j["isolated_pods"], (json{{"ingress", 3}, {"egress", 1}}));
  EXPECT_EQ(j["blocked"]["ingress"]["tcp"], 5);
  EXPECT_EQ(j["blocked_total"], (json{{"ingress", 6}, {"egress", 2}}));
  ASSERT_EQ(j["recent_blocks"].size(), 2u);
  EXPECT_DOUBLE_EQ(j["recent_blocks"][0]["age_seconds"].get<double>(), 2.5);
  EXPECT_DOUBLE_EQ(j["recent_blocks"][1]["age_seconds"].get<double>(), 14.25);

  const PolicySummary down =
      after_poll(s, Result<NpcStatus>(make_error(Errc::kUnavailable, "refused")), kT0 + 3s);
  j = policy_json(down, kT0 + 10s);
  EXPECT_EQ(j["state"], "not running");
  EXPECT_EQ(j["error"], "refused");
  EXPECT_DOUBLE_EQ(j["data_age_seconds"].get<double>(), 10.0);
  EXPECT_EQ(j["policies"], 2);

  j = policy_json(failed(NpcState::kNotRunning, "refused"), kT0);
  EXPECT_EQ(j, (json{{"state", "not running"}, {"error", "refused"}}));
}

TEST(PolicySummary, JsonRoundTripsAtTheSameInstant) {
  const PolicySummary running = after_poll({}, npc_status(), kT0);
  const PolicySummary stale =
      after_poll(running, Result<NpcStatus>(make_error(Errc::kMalformed, "bad")), kT0 + 3100ms);
  for (const PolicySummary& s : {running, stale, failed(NpcState::kNotRunning, "x")}) {
    const Clock::TimePoint now = kT0 + 4321ms;
    auto back = parse_policy_json(policy_json(s, now), now);
    ASSERT_TRUE(back) << back.error().message;
    if (s.state == NpcState::kRunning) {
      // A running summary's fetch time travels as "now" (its age is not shown).
      EXPECT_TRUE(same_content(*back, s));
      EXPECT_EQ(back->recent_blocks, s.recent_blocks);
    } else {
      EXPECT_EQ(*back, s);
    }
  }
}

TEST(PolicySummary, UntrustedJsonIsChecked) {
  const Clock::TimePoint now = kT0;
  const json good = policy_json(after_poll({}, npc_status(), now), now);
  for (const char* key : {"state", "policies", "blocked", "recent_blocks"}) {
    json bad = good;
    bad.erase(key);
    EXPECT_FALSE(parse_policy_json(bad, now)) << key;
  }
  json bad = good;
  bad["state"] = "sleeping";
  EXPECT_FALSE(parse_policy_json(bad, now));
  bad = policy_json(failed(NpcState::kBadAnswer, "x"), now);
  bad.erase("error");
  EXPECT_FALSE(parse_policy_json(bad, now));
  EXPECT_FALSE(parse_policy_json(json::array(), now));
}

// The report: this node's summary at "policy" (with the URL), each peer's at
// router.peers[].policy when its entry belongs to the peer's current launch.
TEST(PolicyReport, ShowsThisNodeAndEachPeer) {
  DaemonStatus status;
  status.now = kT0 + 1s;
  status.router.name = PeerName{1};
  router::PeerStatus self;
  self.name = PeerName{1};
  self.uid = 11;
  router::PeerStatus other = self;
  other.name = PeerName{2};
  other.uid = 22;
  router::PeerStatus restarted = self;
  restarted.name = PeerName{3};
  restarted.uid = 34;  // its entry is from uid 33
  status.router.peers = {self, other, restarted};

  EXPECT_FALSE(build_report(status).contains("policy"));  // not polled: no key

  const PolicySummary local = after_poll({}, npc_status(), kT0);
  status.policy = local;
  status.policy_url = "http://127.0.0.1:6781/status";
  status.policies[PeerName{1}] = {PeerName{1}, 11, 1, local};
  status.policies[PeerName{2}] = {PeerName{2}, 22, 4, failed(NpcState::kNotRunning, "refused")};
  status.policies[PeerName{3}] = {PeerName{3}, 33, 9, local};

  const json r = build_report(status);
  ASSERT_TRUE(r.contains("policy")) << r.dump();
  EXPECT_EQ(r["policy"]["state"], "running");
  EXPECT_EQ(r["policy"]["policies"], 2);
  EXPECT_EQ(r["policy"]["url"], "http://127.0.0.1:6781/status");
  EXPECT_DOUBLE_EQ(r["policy"]["recent_blocks"][0]["age_seconds"].get<double>(), 1.5);
  const json& peers = r["router"]["peers"];
  ASSERT_EQ(peers.size(), 3u);
  EXPECT_EQ(peers[0]["policy"]["isolated_pods"]["ingress"], 3);
  EXPECT_EQ(peers[1]["policy"], (json{{"state", "not running"}, {"error", "refused"}}));
  EXPECT_FALSE(peers[2].contains("policy")) << peers[2].dump();
}

}  // namespace
}  // namespace weft::weftd
