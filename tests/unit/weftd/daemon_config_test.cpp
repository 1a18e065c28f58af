// weftd's flags: names and defaults are a contract with operators and scripts.
#include "weftd/daemon_config.hpp"

#include <map>

#include <gtest/gtest.h>

namespace weft::weftd {
namespace {

EnvLookup env_of(const std::map<std::string, std::string>& vars) {
  return [vars](std::string_view name) -> std::optional<std::string> {
    const auto it = vars.find(std::string(name));
    return it == vars.end() ? std::nullopt : std::optional<std::string>(it->second);
  };
}

TEST(DaemonConfig, DefaultsMatchTheDocumentedContract) {
  auto parsed = parse_daemon_args({}, env_of({}));
  ASSERT_TRUE(parsed) << parsed.error().to_string();
  const DaemonConfig& c = parsed->config;
  EXPECT_FALSE(c.name);
  EXPECT_EQ(c.port, 6783);
  EXPECT_EQ(c.conn_limit, 200);
  EXPECT_TRUE(c.discovery);
  EXPECT_EQ(c.data_dir, "/var/lib/weft");
  EXPECT_EQ(c.api_socket, "/run/weft/weft.sock");
  EXPECT_EQ(c.status_addr, "127.0.0.1:6784");
  EXPECT_TRUE(c.password.empty());
  EXPECT_TRUE(c.peers.empty());
}

TEST(DaemonConfig, ParsesEveryFlagInBothSpellings) {
  auto parsed = parse_daemon_args({"--name",
                                   "0a:bb:cc:dd:ee:01",
                                   "--nickname=h1",
                                   "--port",
                                   "7000",
                                   "--host",
                                   "::",
                                   "--password=s3cret",
                                   "--trusted-subnets",
                                   "198.18.0.0/16,fd00:18::/64",
                                   "--conn-limit",
                                   "5",
                                   "--no-discovery",
                                   "--data-dir",
                                   "/tmp/d",
                                   "--api-socket",
                                   "/tmp/d/s.sock",
                                   "--status-addr",
                                   "[::1]:7001",
                                   "--log-level",
                                   "debug",
                                   "198.18.0.2",
                                   "198.18.0.3:7000",
                                   "[fd00:18::4]:6783"},
                                  env_of({}));
  ASSERT_TRUE(parsed) << parsed.error().to_string();
  const DaemonConfig& c = parsed->config;
  ASSERT_TRUE(c.name);
  EXPECT_EQ(c.name->to_string(), "0a:bb:cc:dd:ee:01");
  EXPECT_EQ(c.nickname, "h1");
  EXPECT_EQ(c.port, 7000);
  EXPECT_EQ(c.host, "::");
  EXPECT_EQ(c.password, "s3cret");
  ASSERT_EQ(c.trusted_subnets.size(), 2u);
  EXPECT_EQ(c.conn_limit, 5);
  EXPECT_FALSE(c.discovery);
  EXPECT_EQ(c.data_dir, "/tmp/d");
  EXPECT_EQ(c.api_socket, "/tmp/d/s.sock");
  EXPECT_EQ(c.status_addr, "[::1]:7001");
  EXPECT_EQ(c.log_level, log::Level::kDebug);
  EXPECT_EQ(c.peers,
            (std::vector<std::string>{"198.18.0.2", "198.18.0.3:7000", "[fd00:18::4]:6783"}));
}

TEST(DaemonConfig, SecretsComeFromTheEnvironmentAndFlagsWin) {
  auto from_env = parse_daemon_args({}, env_of({{"WEFT_PASSWORD", "envpw"}}));
  ASSERT_TRUE(from_env);
  EXPECT_EQ(from_env->config.password, "envpw");
  auto flag_wins = parse_daemon_args({"--password", "flagpw"}, env_of({{"WEFT_PASSWORD", "e"}}));
  ASSERT_TRUE(flag_wins);
  EXPECT_EQ(flag_wins->config.password, "flagpw");
  auto keys = parse_daemon_args({}, env_of({{"WEFT_TRUSTED_KEYS", "a,b"}}));
  ASSERT_TRUE(keys);
  EXPECT_TRUE(keys->config.static_key);
  EXPECT_EQ(keys->config.trusted_keys.size(), 2u);
}

TEST(DaemonConfig, RejectsBadInputWithAClearMessage) {
  struct Case {
    std::vector<std::string> args;
    std::string fragment;
  };
  const Case cases[] = {
      {{"--port", "0"}, "--port"},
      {{"--port", "70000"}, "--port"},
      {{"--port"}, "needs a value"},
      {{"--conn-limit", "x"}, "--conn-limit"},
      {{"--name", "zz:bb:cc:dd:ee:ff"}, "invalid peer name"},
      {{"--name", "00:00:00:00:00:00"}, "reserved"},
      {{"--bogus"}, "unknown flag --bogus"},
      {{"--trusted-subnets", "10.0.0.1/8"}, "10.0.0.1/8"},
      {{"--status-addr", "127.0.0.1"}, "needs a port"},
      {{"--log-level", "loud"}, "--log-level"},
      {{"host:99999"}, "invalid port"},
      {{"[fd00::1"}, "missing ']'"},
  };
  for (const auto& c : cases) {
    auto parsed = parse_daemon_args(c.args, env_of({}));
    ASSERT_FALSE(parsed) << c.args[0];
    EXPECT_NE(parsed.error().message.find(c.fragment), std::string::npos) << parsed.error().message;
  }
}

TEST(DaemonConfig, DatapathAndIpallocInitAreParsedOnceIntoTypes) {
  auto parsed = parse_daemon_args({}, env_of({}));
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->config.datapath, datapath::DatapathMode::kAuto);
  EXPECT_EQ(parsed->config.ipalloc_init.mode, ipam::BootstrapConfig::Mode::kConsensus);
  EXPECT_EQ(parsed->config.ipalloc_init.initial_peers, 1u);

  parsed = parse_daemon_args(
      {"--datapath", "fastdp", "--ipalloc-init=consensus=2", "198.18.0.2", "198.18.0.3"},
      env_of({}));
  ASSERT_TRUE(parsed) << parsed.error().to_string();
  EXPECT_EQ(parsed->config.datapath, datapath::DatapathMode::kFastdp);
  EXPECT_EQ(parsed->config.ipalloc_init.quorum, 2u);
  EXPECT_EQ(parsed->config.ipalloc_init.initial_peers, 3u) << "counts the peers after the flag";

  parsed = parse_daemon_args({"--no-fastdp", "--ipalloc-init", "observer"}, env_of({}));
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->config.datapath, datapath::DatapathMode::kSleeve);
  EXPECT_EQ(parsed->config.ipalloc_init.mode, ipam::BootstrapConfig::Mode::kObserver);

  // A bad value is a usage error at once, not a failure after the daemon started.
  EXPECT_FALSE(parse_daemon_args({"--datapath", "vxlan"}, env_of({})));
  EXPECT_FALSE(parse_daemon_args({"--ipalloc-init", "paxos"}, env_of({})));
  EXPECT_FALSE(parse_daemon_args({"--ipalloc-init=consensus=1", "a", "b", "c"}, env_of({})));
}

}  // namespace
}  // namespace weft::weftd
