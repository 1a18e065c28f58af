// `weft status ipam` rendering and the usage/exit codes of `weft ip` and `weft rmpeer`.
#include <sstream>

#include <gtest/gtest.h>

#include "cli/commands.hpp"
#include "cli/status_format.hpp"

namespace weft::cli {
namespace {

using nlohmann::json;

json ipam_report() {
  return json::parse(R"({
    "router": {"peers": [
      {"name": "0a:00:00:00:00:01", "nickname": "h1"},
      {"name": "0a:00:00:00:00:02", "nickname": "h2"}]},
    "ipam": {
      "peer": "0a:00:00:00:00:01", "ready": true, "bootstrap": "done", "allocations": 7,
      "stray": 0,
      "rings": [
        {"family": "ipv4", "range": "198.19.0.0/24", "id": "00000000000000ab", "entries": 3,
         "free_here": "120",
         "peers": [
           {"name": "0a:00:00:00:00:01", "owned": "128", "share": 0.5, "free": 120,
            "reachable": true},
           {"name": "0a:00:00:00:00:02", "owned": "64", "share": 0.25, "free": 64,
            "reachable": true},
           {"name": "0a:00:00:00:00:03", "owned": "64", "share": 0.25, "free": 64,
            "reachable": false}]},
        {"family": "ipv6", "range": "fd00:19::/120", "id": "00000000000000cd", "entries": 0,
         "free_here": "0", "peers": []}
      ]}
  })");
}

TEST(IpamStatusFormat, PeersWithShareAndReachability) {
  const std::string text = format_ipam(ipam_report());
  EXPECT_NE(text.find("IPAM: ready (bootstrap done), peer 0a:00:00:00:00:01, 7 allocations here\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("ipv4 198.19.0.0/24 (ring 00000000000000ab, 120 free here)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("0a:00:00:00:00:01(h1)"), std::string::npos) << text;
  EXPECT_NE(text.find("128 addresses ( 50.0% of range) reachable"), std::string::npos) << text;
  EXPECT_NE(text.find("0a:00:00:00:00:02(h2)"), std::string::npos) << text;
  // A peer gone from the topology has no nickname, and is unreachable.
  EXPECT_NE(text.find("0a:00:00:00:00:03 "), std::string::npos) << text;
  EXPECT_NE(text.find("64 addresses ( 25.0% of range) unreachable!"), std::string::npos) << text;
  EXPECT_NE(text.find("ipv6 fd00:19::/120"), std::string::npos) << text;
  EXPECT_NE(text.find("no peer owns any of it yet"), std::string::npos) << text;
}

TEST(IpamStatusFormat, DisabledOrMalformed) {
  EXPECT_NE(format_ipam(json::parse(R"({"ipam": null})")).find("IPAM: disabled"),
            std::string::npos);
  const std::string text = format_ipam(json::parse(R"({"ipam": {"ready": "yes",
      "rings": [{"peers": [{"name": 5, "share": "x"}, 7]}]}})"));
  EXPECT_NE(text.find("IPAM: not ready (bootstrap ?)"), std::string::npos) << text;
  EXPECT_NE(text.find("? addresses (    ?% of range) unreachable!"), std::string::npos) << text;
}

TEST(IpamStatusFormat, StrayAddressesAreShown) {
  json r = ipam_report();
  r["ipam"]["stray"] = 2;
  EXPECT_NE(format_ipam(r).find("2 stray"), std::string::npos);
}

struct CliRun {
  int code;
  std::string out, err;
};
CliRun run(std::vector<std::string> args) {
  std::ostringstream out, err;
  std::vector<std::string> all = {"--api-socket", "/nonexistent/weft-test.sock"};
  all.insert(all.end(), args.begin(), args.end());
  const int code = run_cli(all, out, err);
  return {code, out.str(), err.str()};
}

TEST(IpamCli, UsageErrorsExitTwo) {
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"ip"},
           {"ip", "bogus"},
           {"ip", "alloc"},
           {"ip", "alloc", "c1", "--family", "ipv5"},
           {"ip", "alloc", "c1", "--frobnicate", "x"},
           {"ip", "alloc", "c1", "--ifname"},
           {"ip", "alloc", "c1", "not-a-cidr"},
           {"ip", "alloc", "c/1"},
           {"ip", "alloc", "c1", "10.0.0.0/8", "extra"},
           {"ip", "claim", "c1"},
           {"ip", "claim", "c1", "10.0.0.300/24"},
           {"ip", "release"},
           {"ip", "release", "c1", "nonsense"},
           {"ip", "lookup"},
           {"ip", "lookup", "a", "b"},
           {"ip", "list", "x"},
           {"rmpeer"},
           {"rmpeer", "a", "b"},
           {"rmpeer", "../ip"},
           {"status", "ipam", "x"},
       }) {
    const CliRun r = run(args);
    EXPECT_EQ(r.code, kExitUsage) << args.size() << " " << args.back() << ": " << r.err;
    EXPECT_NE(r.err.find("usage"), std::string::npos) << r.err;
  }
}

TEST(IpamCli, UnreachableWeftdExitsOneWithAClearMessage) {
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"ip", "alloc", "c1", "--family", "ipv4", "--ifname", "eth1"},
           {"ip", "alloc", "c1", "10.32.1.0/24"},
           {"ip", "claim", "c1", "10.32.0.9/12"},
           {"ip", "release", "c1", "10.32.0.9"},
           {"ip", "lookup", "c1"},
           {"ip", "list"},
           {"rmpeer", "0a:00:00:00:00:03"},
       }) {
    const CliRun r = run(args);
    EXPECT_EQ(r.code, kExitFailure) << args[1] << ": " << r.err;
    EXPECT_NE(r.err.find("cannot reach weftd at /nonexistent/weft-test.sock: is it running?"),
              std::string::npos)
        << r.err;
  }
}

TEST(IpamCli, UsageListsTheIpamCommands) {
  const std::string usage = cli_usage();
  for (const char* s : {"status [peers|connections|ipam]", "ip alloc ID", "ip claim ID",
                        "ip release ID", "ip lookup ID", "ip list", "rmpeer PEER-NAME"}) {
    EXPECT_NE(usage.find(s), std::string::npos) << s << "\n" << usage;
  }
}

}  // namespace
}  // namespace weft::cli
