// --help on every command (`weft CMD --help`, `weft CMD -h`, `weft help CMD`): exit 0 and a
// page that names every option; the overview lists every command; usage errors exit 2; every
// command that talks to weftd exits 1 with the same clear message when weftd is not there.
#include "cli/help.hpp"

#include <map>
#include <sstream>

#include <gtest/gtest.h>

#include "cli/commands.hpp"

namespace weft::cli {
namespace {

struct CliRun {
  int code;
  std::string out, err;
};

CliRun run(std::vector<std::string> args) {
  std::ostringstream out, err;
  std::vector<std::string> all = {"--api-socket", "/nonexistent/weft-test.sock", "--status-addr",
                                  "unix:/nonexistent/weft-status.sock"};
  all.insert(all.end(), args.begin(), args.end());
  const int code = run_cli(all, out, err);
  return {code, out.str(), err.str()};
}

// Every option and argument form each page must mention.
const std::map<std::string, std::vector<std::string>>& options_by_command() {
  static const std::map<std::string, std::vector<std::string>> m = {
      {"status", {"peers", "connections", "ipam"}},
      {"report", {}},
      {"ps", {"ID...", "--json"}},
      {"connect", {"--replace", "PEER..."}},
      {"forget", {"PEER..."}},
      {"expose", {"ADDRESS/PREFIX"}},
      {"hide", {"ADDRESS/PREFIX"}},
      {"rmpeer", {"PEER-NAME"}},
      {"ip", {"alloc", "claim", "release", "lookup", "list", "--family", "--ifname"}},
      {"launch", {"--systemd", "--unit-dir", "--no-start", "--", "WEFTD-FLAGS"}},
      {"version", {}},
      {"help", {"COMMAND"}},
  };
  return m;
}

TEST(CliHelp, EveryCommandHasAPageNamingEveryOption) {
  ASSERT_EQ(command_names().size(), options_by_command().size());
  for (const auto& command : command_names()) {
    ASSERT_TRUE(options_by_command().contains(command)) << command;
    const auto page = command_help(command);
    ASSERT_TRUE(page) << command;
    EXPECT_TRUE(page->starts_with("usage: weft " + command)) << *page;
    for (const auto& option : options_by_command().at(command)) {
      EXPECT_NE(page->find(option), std::string::npos) << command << " lacks " << option;
    }
    for (const char* global : {"--api-socket PATH", "--status-addr ADDR:PORT"}) {
      EXPECT_NE(page->find(global), std::string::npos) << command;
    }
  }
  EXPECT_FALSE(command_help("bogus"));
}

TEST(CliHelp, HelpFlagAndHelpCommandPrintThePageAndExitZero) {
  for (const auto& command : command_names()) {
    const std::string page = *command_help(command);
    for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
             {command, "--help"}, {command, "-h"}, {"help", command}}) {
      const CliRun r = run(args);
      EXPECT_EQ(r.code, kExitOk) << args[0] << " " << args[1] << ": " << r.err;
      EXPECT_EQ(r.out, page) << args[0] << " " << args[1];
      EXPECT_EQ(r.err, "");
    }
  }
  // Also after other arguments, and for subcommands.
  EXPECT_EQ(run({"ip", "alloc", "c1", "--help"}).out, *command_help("ip"));
  EXPECT_EQ(run({"launch", "--systemd", "--help"}).out, *command_help("launch"));
}

TEST(CliHelp, OverviewListsEveryCommand) {
  for (const auto& args : std::vector<std::vector<std::string>>{{"--help"}, {"-h"}, {"help"}}) {
    const CliRun r = run(args);
    EXPECT_EQ(r.code, kExitOk);
    EXPECT_EQ(r.out, general_usage());
  }
  const std::string overview = general_usage();
  for (const auto& command : command_names()) {
    EXPECT_NE(overview.find("  weft " + command), std::string::npos) << command;
  }
  EXPECT_EQ(cli_usage(), overview);
  const CliRun none = run({});
  EXPECT_EQ(none.code, kExitUsage);
  EXPECT_EQ(none.err, overview);
  const CliRun bogus = run({"help", "bogus"});
  EXPECT_EQ(bogus.code, kExitUsage);
  EXPECT_NE(bogus.err.find("no help for \"bogus\""), std::string::npos) << bogus.err;
}

TEST(CliHelp, UsageErrorsExitTwo) {
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"frobnicate"},
           {"status", "bogus"},
           {"report", "extra"},
           {"ps", "--bogus"},
           {"connect"},
           {"connect", "--frob", "h"},
           {"forget"},
           {"expose", "--frob"},
           {"launch", "--no-start"},
           {"launch", "--unit-dir", "/tmp"},
           {"launch", "--systemd", "--unit-dir"},
       }) {
    const CliRun r = run(args);
    EXPECT_EQ(r.code, kExitUsage) << args[0] << ": " << r.err;
    EXPECT_NE(r.err.find("usage"), std::string::npos) << r.err;
  }
}

TEST(CliHelp, EveryDaemonCommandExitsOneWithTheSameMessageWhenWeftdIsDown) {
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"status"},
           {"status", "peers"},
           {"status", "connections"},
           {"status", "ipam"},
           {"report"},
           {"ps"},
           {"ps", "--json", "abc"},
           {"connect", "h1"},
           {"forget", "h1"},
           {"expose"},
           {"expose", "198.19.0.1/16"},
           {"hide", "198.19.0.1/16"},
           {"rmpeer", "0a:00:00:00:00:03"},
           {"ip", "list"},
       }) {
    const CliRun r = run(args);
    EXPECT_EQ(r.code, kExitFailure) << args[0] << ": " << r.err;
    const bool status = args[0] == "status" || args[0] == "report" || args[0] == "ps";
    const std::string want =
        std::string("weft: cannot reach weftd at ") +
        (status ? "/nonexistent/weft-status.sock" : "/nonexistent/weft-test.sock") +
        ": is it running? (";
    EXPECT_TRUE(r.err.starts_with(want)) << args[0] << ": " << r.err;
    EXPECT_NE(r.err.find("No such file or directory"), std::string::npos) << r.err;
    EXPECT_EQ(r.out, "");
  }
}

}  // namespace
}  // namespace weft::cli
