// weft-npc's /status as weftd reads it (weftd/npc_status.hpp): the body weft-npc renders
// (policy/npc_report.cpp) parses; missing or mistyped keys are errors that name the key;
// lists and texts are bounded; what parses encodes and parses back equal; the URL flag.
#include "weftd/npc_status.hpp"

#include <gtest/gtest.h>

namespace weft::weftd {
namespace {

using nlohmann::json;

// A body of the shape weft-npc's render_status produces.
json npc_body() {
  return json::parse(R"json({
    "node": "h1", "synced": true, "policies": 3, "local_pods": 5,
    "isolated_pods": {"ingress": 2, "egress": 1},
    "rule_groups": 2, "syncs": 7, "write_failures": 0, "heals": 0,
    "last_sync_seconds": 0.01, "pod_rules_seconds": {"last": 0.1, "count": 1, "mean": 0.1},
    "blocked": {"ingress": {"tcp": 4, "udp": 1, "sctp": 0, "other": 0},
                "egress": {"tcp": 0, "udp": 0, "sctp": 0, "other": 2}},
    "recent_blocks": [
      {"age_seconds": 1.5, "line": "blocked ingress TCP 198.19.0.3:40000 -> 198.19.0.2:80 (policy namespace x)"},
      {"age_seconds": 9.25, "line": "blocked egress ICMP 198.19.0.2 -> 198.19.0.9 (policy namespace x)"}],
    "rejected": {}, "resources": []})json");
}

TEST(NpcStatus, ParsesWeftNpcsStatus) {
  auto s = parse_npc_status(npc_body().dump());
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->node, "h1");
  EXPECT_TRUE(s->counts.synced);
  EXPECT_EQ(s->counts.policies, 3u);
  EXPECT_EQ(s->counts.local_pods, 5u);
  EXPECT_EQ(s->counts.isolated_ingress, 2u);
  EXPECT_EQ(s->counts.isolated_egress, 1u);
  EXPECT_EQ(s->counts.blocked_ingress, (BlockedByProtocol{4, 1, 0, 0}));
  EXPECT_EQ(s->counts.blocked_egress, (BlockedByProtocol{0, 0, 0, 2}));
  EXPECT_EQ(s->counts.last_error, "");
  ASSERT_EQ(s->recent_blocks.size(), 2u);
  EXPECT_EQ(s->recent_blocks[0].age_seconds, 1.5);
  EXPECT_EQ(s->recent_blocks[1].line,
            "blocked egress ICMP 198.19.0.2 -> 198.19.0.9 (policy namespace x)");
}

TEST(NpcStatus, EncodesAndParsesBackEqual) {
  json body = npc_body();
  body["last_error"] = "write failed: Operation not permitted";
  auto s = parse_npc_status(body.dump());
  ASSERT_TRUE(s);
  auto again = parse_npc_status(npc_status_json(*s).dump());
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(*again, *s);
}

TEST(NpcStatus, NotJsonIsAClearError) {
  for (const std::string body : {"", "<html>502 Bad Gateway</html>", "{\"synced\": tru", "[]"}) {
    auto s = parse_npc_status(body);
    ASSERT_FALSE(s) << body;
    EXPECT_EQ(s.error().code, make_error_code(Errc::kMalformed)) << body;
    EXPECT_NE(s.error().message.find("weft-npc status"), std::string::npos) << s.error().message;
  }
}

TEST(NpcStatus, MissingOrMistypedKeysAreNamed) {
  const std::vector<std::pair<json::json_pointer, std::string>> cases = {
      {json::json_pointer("/synced"), "\"synced\""},
      {json::json_pointer("/policies"), "\"policies\""},
      {json::json_pointer("/local_pods"), "\"local_pods\""},
      {json::json_pointer("/isolated_pods/egress"), "\"isolated_pods.egress\""},
      {json::json_pointer("/blocked/ingress"), "\"blocked.ingress\""},
      {json::json_pointer("/blocked/egress/sctp"), "\"blocked.egress.sctp\""},
      {json::json_pointer("/recent_blocks"), "\"recent_blocks\""},
  };
  for (const auto& [pointer, name] : cases) {
    json missing = npc_body();
    missing[pointer.parent_pointer()].erase(pointer.back());
    auto s = parse_npc_status(missing.dump());
    ASSERT_FALSE(s) << pointer.to_string();
    EXPECT_NE(s.error().message.find(name), std::string::npos) << s.error().message;

    json mistyped = npc_body();
    mistyped[pointer] = "7";
    EXPECT_FALSE(parse_npc_status(mistyped.dump())) << pointer.to_string();
  }
  json negative = npc_body();
  negative["policies"] = -1;
  EXPECT_FALSE(parse_npc_status(negative.dump()));
  json bad_age = npc_body();
  bad_age["recent_blocks"][0]["age_seconds"] = -3;
  EXPECT_FALSE(parse_npc_status(bad_age.dump()));
  json bad_line = npc_body();
  bad_line["recent_blocks"][1]["line"] = 5;
  EXPECT_FALSE(parse_npc_status(bad_line.dump()));
}

TEST(NpcStatus, ListsAndTextsAreBounded) {
  json body = npc_body();
  body["recent_blocks"] = json::array();
  for (int i = 0; i < 25; ++i) {
    // Multi-byte characters across the cut: it must not split one.
    body["recent_blocks"].push_back(
        {{"age_seconds", i}, {"line", std::to_string(i) + std::string(300, 'x') + "\u00e9"}});
  }
  body["last_error"] = std::string(kMaxTextBytes - 1, 'e') + "\u00e9\u00e9";
  auto s = parse_npc_status(body.dump());
  ASSERT_TRUE(s) << s.error().message;
  ASSERT_EQ(s->recent_blocks.size(), kMaxRecentBlocks);
  EXPECT_EQ(s->recent_blocks.front().line.substr(0, 2), "0x");  // newest first, kept
  for (const auto& b : s->recent_blocks) {
    EXPECT_LE(b.line.size(), kMaxTextBytes);
  }
  EXPECT_EQ(s->counts.last_error, std::string(kMaxTextBytes - 1, 'e'));
  // Still valid UTF-8: it serialises without a replacement handler.
  EXPECT_NO_THROW((void)npc_status_json(*s).dump());
}

TEST(NpcStatus, OversizedBodyIsRefused) {
  const std::string body = R"({"pad": ")" + std::string(kMaxNpcStatusBytes, 'x') + R"("})";
  auto s = parse_npc_status(body);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, make_error_code(Errc::kTooLarge));
}

TEST(NpcStatusUrl, SplitsTargetAndPath) {
  auto u = parse_npc_status_url("http://127.0.0.1:6781/status");
  ASSERT_TRUE(u) << u.error().message;
  EXPECT_EQ(*u, (NpcStatusUrl{"127.0.0.1:6781", "/status"}));
  u = parse_npc_status_url("http://[::1]:7000");
  ASSERT_TRUE(u) << u.error().message;
  EXPECT_EQ(*u, (NpcStatusUrl{"[::1]:7000", "/status"}));
  u = parse_npc_status_url("http://localhost:6781/npc/status?x=1");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->path, "/npc/status?x=1");
  for (const char* bad : {"", "127.0.0.1:6781/status", "https://127.0.0.1:6781/status",
                          "http://npc.example:6781/status", "http://127.0.0.1/status",
                          "http://unix:/run/npc.sock", "http://127.0.0.1:6781/a b"}) {
    EXPECT_FALSE(parse_npc_status_url(bad)) << bad;
  }
}

}  // namespace
}  // namespace weft::weftd
