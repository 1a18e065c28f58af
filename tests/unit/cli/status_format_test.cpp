// `weft status` rendering of /report: weave-like text, robust to missing keys.
#include "cli/status_format.hpp"

#include <sstream>

#include <gtest/gtest.h>

#include "cli/commands.hpp"

namespace weft::cli {
namespace {

using nlohmann::json;

json sample_report() {
  return json::parse(R"({
    "version": "0.1.0",
    "router": {
      "name": "0a:00:00:00:00:01", "nickname": "h1", "encryption": "enabled",
      "protocol_version": 1, "peer_discovery": true, "targets": ["198.18.0.2"],
      "trusted_subnets": [],
      "peers": [
        {"name": "0a:00:00:00:00:01", "nickname": "h1", "connections": [
          {"name": "0a:00:00:00:00:02", "nickname": "h2", "address": "198.18.0.2:6783",
           "outbound": true, "established": true}]},
        {"name": "0a:00:00:00:00:02", "nickname": "h2", "connections": [
          {"name": "0a:00:00:00:00:01", "nickname": "h1", "address": "198.18.0.1:6783",
           "outbound": false, "established": true}]}
      ],
      "connections": [
        {"address": "198.18.0.2:6783", "outbound": true, "state": "established",
         "info": "", "datapath": "none", "encrypted": true,
         "peer": {"name": "0a:00:00:00:00:02", "nickname": "h2"}},
        {"address": "198.18.0.9:6783", "outbound": true, "state": "failed",
         "info": "connection refused", "datapath": "none", "encrypted": false}
      ]
    }
  })");
}

TEST(StatusFormat, SummaryLikeWeaveStatus) {
  const std::string text = format_status(sample_report());
  EXPECT_NE(text.find("Name: 0a:00:00:00:00:01(h1)"), std::string::npos) << text;
  EXPECT_NE(text.find("Encryption: enabled"), std::string::npos) << text;
  EXPECT_NE(text.find("Connections: 2 (1 established, 1 failed)"), std::string::npos) << text;
  EXPECT_NE(text.find("Peers: 2 (with 2 established connections)"), std::string::npos) << text;
  EXPECT_NE(text.find("Targets: 1"), std::string::npos) << text;
}

TEST(StatusFormat, PeersAndConnections) {
  const std::string peers = format_peers(sample_report());
  EXPECT_NE(peers.find("0a:00:00:00:00:02(h2)\n   <- 198.18.0.1:6783"), std::string::npos) << peers;
  const std::string conns = format_connections(sample_report());
  EXPECT_NE(conns.find("-> 198.18.0.2:6783"), std::string::npos) << conns;
  EXPECT_NE(conns.find("established  none encrypted 0a:00:00:00:00:02(h2)"), std::string::npos)
      << conns;
  EXPECT_NE(conns.find("failed       connection refused"), std::string::npos) << conns;
}

TEST(StatusFormat, MissingOrMistypedKeysRenderAsQuestionMarks) {
  for (const char* text : {"{}", "[]", "null", R"({"router": 5})",
                           R"({"router": {"peers": 3, "connections": [1, "x", {}]}})"}) {
    const json j = json::parse(text);
    EXPECT_NO_THROW({
      (void)format_status(j);
      (void)format_peers(j);
      (void)format_connections(j);
    }) << text;
  }
  EXPECT_NE(format_status(json::object()).find("Name: ?(?)"), std::string::npos);
}

TEST(Cli, UsageErrorsAndNoDaemon) {
  std::ostringstream out;
  std::ostringstream err;
  EXPECT_EQ(run_cli({}, out, err), kExitUsage);
  EXPECT_EQ(run_cli({"frobnicate"}, out, err), kExitUsage);
  EXPECT_EQ(run_cli({"status", "bogus"}, out, err), kExitUsage);
  EXPECT_EQ(run_cli({"connect"}, out, err), kExitUsage);
  err.str("");
  // Nothing listens on this unix socket path: a clear message and exit code 1.
  EXPECT_EQ(run_cli({"--status-addr", "/nonexistent/weft-test.sock", "status"}, out, err),
            kExitFailure);
  EXPECT_NE(err.str().find("cannot reach weftd at /nonexistent/weft-test.sock: is it running? ("),
            std::string::npos)
      << err.str();
  err.str("");
  EXPECT_EQ(run_cli({"--api-socket=/nonexistent/weft-test.sock", "connect", "h"}, out, err),
            kExitFailure);
  EXPECT_NE(err.str().find("cannot reach weftd at /nonexistent/weft-test.sock: is it running? ("),
            std::string::npos)
      << err.str();
}

}  // namespace
}  // namespace weft::cli
