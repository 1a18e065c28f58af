// `weft launch`: argument handling, finding weftd (beside weft, then PATH), the foreground
// exec (through a fake exec), the systemd unit text (and `systemd-analyze verify` when it
// is installed), and --systemd against a fake systemctl: written, reloaded, enabled; a
// clear failure when systemd is not running or systemctl fails.
#include "cli/launch.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "cli/commands.hpp"
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

namespace weft::cli {
namespace {

namespace fs = std::filesystem;

TEST(LaunchArgs, OwnOptionsAndPassThrough) {
  auto o = parse_launch_args({"launch", "--password-file", "/p", "10.0.0.2", "--systemd"});
  ASSERT_TRUE(o) << o.error().message;
  EXPECT_TRUE(o->systemd);
  EXPECT_FALSE(o->no_start);
  EXPECT_EQ(o->unit_dir, "/etc/systemd/system");
  EXPECT_EQ(o->weftd_args, (std::vector<std::string>{"--password-file", "/p", "10.0.0.2"}));

  o = parse_launch_args(
      {"launch", "--systemd", "--unit-dir=/u", "--no-start", "--", "--systemd", "--no-start"});
  ASSERT_TRUE(o) << o.error().message;
  EXPECT_EQ(o->unit_dir, "/u");
  EXPECT_TRUE(o->no_start);
  EXPECT_EQ(o->weftd_args, (std::vector<std::string>{"--systemd", "--no-start"}));

  o = parse_launch_args({"launch", "--systemd", "--unit-dir", "/v"});
  ASSERT_TRUE(o);
  EXPECT_EQ(o->unit_dir, "/v");
  o = parse_launch_args({"launch"});
  ASSERT_TRUE(o);
  EXPECT_FALSE(o->systemd);
  EXPECT_TRUE(o->weftd_args.empty());

  for (const std::vector<std::string>& bad :
       std::vector<std::vector<std::string>>{{"launch", "--no-start"},
                                             {"launch", "--unit-dir", "/u"},
                                             {"launch", "--systemd", "--unit-dir"},
                                             {"launch", "--systemd", "--unit-dir="}}) {
    EXPECT_FALSE(parse_launch_args(bad)) << bad.back();
  }
}

TEST(LaunchUnit, QuotingForExecStart) {
  EXPECT_EQ(systemd_quote("--data-dir=/var/lib/weft"), "--data-dir=/var/lib/weft");
  EXPECT_EQ(systemd_quote("10.0.0.2:6783"), "10.0.0.2:6783");
  EXPECT_EQ(systemd_quote("[fd00::1]:6783"), "\"[fd00::1]:6783\"");
  EXPECT_EQ(systemd_quote("a b"), "\"a b\"");
  EXPECT_EQ(systemd_quote(""), "\"\"");
  EXPECT_EQ(systemd_quote("say \"hi\"\\"), "\"say \\\"hi\\\"\\\\\"");
  EXPECT_EQ(systemd_quote("100%"), "100%%");
  EXPECT_EQ(systemd_quote("$HOME x"), "\"$$HOME x\"");
  EXPECT_EQ(systemd_quote("a\nb"), "\"a\\nb\"");
}

TEST(LaunchUnit, TextHasTheServiceEssentials) {
  const std::string unit =
      systemd_unit("/usr/local/bin/weftd", {"--data-dir", "/var/lib/weft", "10.0.0.2"});
  for (const char* line : {"\n[Unit]\n", "\nDescription=Weft", "\nWants=network-online.target\n",
                           "\nAfter=network-online.target\n", "\n[Service]\n", "\nType=exec\n",
                           "\nExecStart=/usr/local/bin/weftd --data-dir /var/lib/weft 10.0.0.2\n",
                           "\nRestart=on-failure\n", "\nEnvironmentFile=-/etc/weft/weftd.env\n",
                           "\n[Install]\n", "\nWantedBy=multi-user.target\n"}) {
    EXPECT_NE(unit.find(line), std::string::npos) << line << "\n" << unit;
  }
  // Only the comment that says where the password goes mentions it.
  const auto hint = unit.find("# Secrets do not belong here: put WEFT_PASSWORD=...");
  ASSERT_NE(hint, std::string::npos) << unit;
  EXPECT_EQ(unit.find("PASSWORD", hint + 40), std::string::npos) << unit;
}

class LaunchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           fmt::format("weft-launch-{}-{}", ::getpid(),
                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "bin");
    fs::create_directories(dir_ / "path");
    fs::create_directories(dir_ / "run-systemd");
    env_.self_exe = (dir_ / "bin" / "weft").string();
    env_.path = "/nonexistent:" + (dir_ / "path").string();
    env_.systemd_runtime_dir = (dir_ / "run-systemd").string();
    env_.exec = [this](const std::string& program, const std::vector<std::string>& argv) {
      exec_program_ = program;
      exec_argv_ = argv;
      return std::string("fake exec");
    };
    env_.run = real_launch_env().run;
  }
  void TearDown() override { fs::remove_all(dir_); }

  void script(const fs::path& path, const std::string& body) {
    std::ofstream(path) << "#!/bin/sh\n" << body << "\n";
    ::chmod(path.c_str(), 0755);
  }
  int launch(std::vector<std::string> words) {
    out_.str("");
    err_.str("");
    words.insert(words.begin(), "launch");
    return run_launch(words, env_, out_, err_);
  }
  static std::string read(const fs::path& p) {
    std::ifstream in(p);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }

  fs::path dir_;
  LaunchEnv env_;
  std::string exec_program_;
  std::vector<std::string> exec_argv_;
  std::ostringstream out_, err_;
};

TEST_F(LaunchTest, ForegroundExecsWeftdBesideWeftWithTheFlags) {
  script(dir_ / "bin" / "weftd", "exit 0");
  script(dir_ / "path" / "weftd", "exit 0");
  EXPECT_EQ(launch({"--nickname", "h1", "--", "--help"}), kExitFailure);  // the fake exec fails
  EXPECT_EQ(exec_program_, (dir_ / "bin" / "weftd").string());
  EXPECT_EQ(exec_argv_, (std::vector<std::string>{exec_program_, "--nickname", "h1", "--help"}));
  EXPECT_NE(err_.str().find("cannot run " + exec_program_ + ": fake exec"), std::string::npos)
      << err_.str();
}

TEST_F(LaunchTest, FindsWeftdOnPathOrSaysItCannot) {
  EXPECT_EQ(launch({}), kExitFailure);
  EXPECT_NE(err_.str().find("cannot find weftd next to " + env_.self_exe + " or on PATH"),
            std::string::npos)
      << err_.str();
  EXPECT_TRUE(exec_program_.empty());
  std::ofstream(dir_ / "path" / "weftd") << "not executable";
  EXPECT_EQ(launch({}), kExitFailure);
  EXPECT_TRUE(exec_program_.empty());
  script(dir_ / "path" / "weftd", "exit 0");
  EXPECT_EQ(launch({"--no-ipam"}), kExitFailure);
  EXPECT_EQ(exec_program_, (dir_ / "path" / "weftd").string());
  EXPECT_TRUE(fs::path(exec_program_).is_absolute());
}

TEST_F(LaunchTest, SystemdNoStartOnlyWritesTheUnit) {
  script(dir_ / "bin" / "weftd", "exit 0");
  EXPECT_EQ(launch({"--systemd", "--unit-dir", (dir_ / "units").string(), "--no-start",
                    "--password-file", "/etc/weft/pw", "198.18.0.1"}),
            kExitOk)
      << err_.str();
  const std::string unit = read(dir_ / "units" / "weftd.service");
  EXPECT_NE(unit.find("\nExecStart=" + (dir_ / "bin" / "weftd").string() +
                      " --password-file /etc/weft/pw 198.18.0.1\n"),
            std::string::npos)
      << unit;
  EXPECT_EQ(fs::status(dir_ / "units" / "weftd.service").permissions() & fs::perms::all,
            fs::perms(0644));
  EXPECT_NE(out_.str().find("systemctl enable --now weftd.service"), std::string::npos);
  EXPECT_TRUE(exec_program_.empty());
}

TEST_F(LaunchTest, SystemdReloadsAndEnablesThroughSystemctl) {
  script(dir_ / "bin" / "weftd", "exit 0");
  const fs::path log = dir_ / "systemctl.log";
  script(dir_ / "path" / "systemctl", "echo \"$@\" >> " + log.string());
  EXPECT_EQ(launch({"--systemd", "--unit-dir", (dir_ / "units").string()}), kExitOk) << err_.str();
  EXPECT_TRUE(fs::exists(dir_ / "units" / "weftd.service"));
  EXPECT_EQ(read(log), "daemon-reload\nenable --now weftd.service\n");
  EXPECT_NE(out_.str().find("weftd.service enabled and started"), std::string::npos);
}

TEST_F(LaunchTest, SystemdFailuresAreClearAndLeaveTheUnit) {
  script(dir_ / "bin" / "weftd", "exit 0");
  const std::string units = (dir_ / "units").string();
  // No systemctl on PATH.
  EXPECT_EQ(launch({"--systemd", "--unit-dir", units}), kExitFailure);
  EXPECT_NE(err_.str().find("systemctl is not installed"), std::string::npos) << err_.str();
  EXPECT_TRUE(fs::exists(dir_ / "units" / "weftd.service"));
  // systemctl present, systemd not running.
  script(dir_ / "path" / "systemctl", "exit 3");
  env_.systemd_runtime_dir = (dir_ / "nonexistent").string();
  EXPECT_EQ(launch({"--systemd", "--unit-dir", units}), kExitFailure);
  EXPECT_NE(err_.str().find("systemd is not running on this host"), std::string::npos)
      << err_.str();
  EXPECT_NE(err_.str().find(units + "/weftd.service was written but not started"),
            std::string::npos)
      << err_.str();
  // systemctl fails.
  env_.systemd_runtime_dir = (dir_ / "run-systemd").string();
  EXPECT_EQ(launch({"--systemd", "--unit-dir", units}), kExitFailure);
  EXPECT_NE(err_.str().find("`systemctl daemon-reload` failed (exit 3)"), std::string::npos)
      << err_.str();
}

TEST_F(LaunchTest, SystemdAnalyzeAcceptsTheUnit) {
  const std::string analyze = find_program("systemd-analyze", "", "/usr/bin:/bin");
  if (analyze.empty()) {
    GTEST_SKIP() << "systemd-analyze is not installed";
  }
  // ExecStart must name an existing executable: use /bin/true in place of weftd.
  const fs::path unit = dir_ / "weftd.service";
  std::ofstream(unit) << systemd_unit("/bin/true", {"--data-dir", "/var/lib/weft", "a b"});
  const std::string command = fmt::format("{} verify --man=no {} > {} 2>&1", analyze, unit.string(),
                                          (dir_ / "verify.log").string());
  const int status = std::system(command.c_str());
  const std::string output = read(dir_ / "verify.log");
  EXPECT_EQ(status, 0) << output;
  EXPECT_EQ(output.find("weftd.service:"), std::string::npos) << "warnings: " << output;
}

}  // namespace
}  // namespace weft::cli
