// `weft launch` in the foreground on a bare host (a lab namespace): weft becomes weftd (same
// PID), `weft status` answers, SIGTERM to that PID stops it cleanly; a bad weftd flag comes
// back as weftd's exit code. And with no weftd at all, every command exits non-zero with the
// clear message.
#include <filesystem>

#include <gtest/gtest.h>

#include "tests/support/netns_fixture.hpp"
#include "tests/support/process.hpp"
#include "tests/support/weft_lab.hpp"
#include <fmt/format.h>
#include <unistd.h>

namespace weft::test {
namespace {

using namespace std::chrono_literals;

TEST(CliLaunchNetnsTest, ForegroundLaunchBecomesWeftd) {
  WEFT_REQUIRE_ROOT();
  WeftLab lab;
  ASSERT_EQ(lab.error(), "");
  auto host = lab.add_host("h1", {"198.18.0.1/24"});
  ASSERT_TRUE(host) << host.error().to_string();
  WeftHost& h1 = **host;
  const std::string log = lab.dir() + "/launch.log";
  auto child = ChildProcess::spawn(
      {weft_bin_dir() + "/weft", "launch", "--nickname", "launched", "--data-dir", h1.data_dir(),
       "--api-socket", h1.api_socket(), "--no-discovery"},
      {h1.netns(), log, {}});
  ASSERT_TRUE(child) << child.error().to_string();
  const std::string gap = eventually(
      [&] {
        const CommandResult status = h1.weft("status");
        return status.ok() ? "" : status.out;
      },
      20s);
  ASSERT_EQ(gap, "") << gap;
  const CommandResult status = h1.weft("status");
  EXPECT_NE(status.out.find("(launched)"), std::string::npos) << status.out;
  // The process we started is weftd now (exec, not a child of weft).
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink(fmt::format("/proc/{}/exe", child->pid()), ec);
  EXPECT_EQ(exe.filename(), "weftd") << exe;
  EXPECT_EQ(child->stop(10s), 0) << "a clean SIGTERM shutdown";
  const CommandResult down = h1.weft("status");
  EXPECT_EQ(down.exit_status, 1) << down.out;

  // A flag weftd refuses: its usage error is the launch's exit code.
  auto bad = ChildProcess::spawn({weft_bin_dir() + "/weft", "launch", "--no-such-flag"},
                                 {h1.netns(), log, {}});
  ASSERT_TRUE(bad) << bad.error().to_string();
  const auto code = bad->wait(20s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 2);
}

TEST(CliLaunchNetnsTest, NoDaemonMeansExitOneAndAClearMessage) {
  WEFT_REQUIRE_ROOT();
  WeftLab lab;
  ASSERT_EQ(lab.error(), "");
  auto host = lab.add_host("h1", {"198.18.0.1/24"});
  ASSERT_TRUE(host) << host.error().to_string();
  WeftHost& h1 = **host;
  for (const char* command :
       {"status", "status peers", "status connections", "status ipam", "report", "ps"}) {
    const CommandResult r = h1.weft(command);
    EXPECT_EQ(r.exit_status, 1) << command << ": " << r.out;
    EXPECT_TRUE(r.out.starts_with("weft: cannot reach weftd at 127.0.0.1:6784: is it running? ("))
        << command << ": " << r.out;
  }
  for (const char* command : {"connect 198.18.0.2", "forget 198.18.0.2", "expose 198.19.0.1/16",
                              "hide 198.19.0.1/16", "rmpeer 0a:00:00:00:00:01", "ip list"}) {
    const CommandResult r = h1.weft(command);
    EXPECT_EQ(r.exit_status, 1) << command << ": " << r.out;
    EXPECT_TRUE(r.out.starts_with(
        fmt::format("weft: cannot reach weftd at {}: is it running? (", h1.api_socket())))
        << command << ": " << r.out;
  }
}

}  // namespace
}  // namespace weft::test
