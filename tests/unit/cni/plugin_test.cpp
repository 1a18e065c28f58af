#include "cni/plugin.hpp"

#include <filesystem>
#include <fstream>
#include <map>

#include <gtest/gtest.h>

#include "cni/delegate.hpp"
#include "cni/weftd_client.hpp"
#include <sys/stat.h>
#include <unistd.h>

namespace weft::cni {
namespace {

using nlohmann::json;

PluginOutput run(std::map<std::string, std::string> vars, std::string_view config) {
  return run_plugin_from(
      [&](const char* name) -> std::optional<std::string_view> {
        auto it = vars.find(name);
        if (it == vars.end())
          return std::nullopt;
        return std::string_view(it->second);
      },
      config);
}

json error_of(const PluginOutput& out) {
  EXPECT_NE(out.exit_code, 0);
  return json::parse(out.stdout_text);
}

constexpr std::string_view kNoDaemon =
    R"({"cniVersion":"1.1.0","name":"n","type":"weft-cni","socket":"/nonexistent/weft.sock"})";

TEST(CniPlugin, VersionAnswersTheSupportedVersions) {
  auto out = run({{"CNI_COMMAND", "VERSION"}}, R"({"cniVersion":"0.4.0"})");
  ASSERT_EQ(out.exit_code, 0);
  json doc = json::parse(out.stdout_text);
  EXPECT_EQ(doc["cniVersion"], "0.4.0");
  EXPECT_EQ(doc["supportedVersions"], json::parse(R"(["0.3.0","0.3.1","0.4.0","1.0.0","1.1.0"])"));
}

TEST(CniPlugin, StatusWithoutWeftdIsCode50) {
  json e = error_of(run({{"CNI_COMMAND", "STATUS"}}, kNoDaemon));
  EXPECT_EQ(e["code"], kCodeNotAvailable);
  EXPECT_EQ(e["cniVersion"], "1.1.0");
  EXPECT_NE(e["details"].get<std::string>().find("/nonexistent/weft.sock"), std::string::npos);
}

TEST(CniPlugin, AddWithoutTheNetnsIsCode3) {
  json e = error_of(run({{"CNI_COMMAND", "ADD"},
                         {"CNI_CONTAINERID", "c1"},
                         {"CNI_NETNS", "/nonexistent/netns"},
                         {"CNI_IFNAME", "eth0"}},
                        kNoDaemon));
  EXPECT_EQ(e["code"], kCodeUnknownContainer);
}

TEST(CniPlugin, DelWithoutWeftdAsksToRetry) {
  // Nothing local to undo (no netns, no veth); the addresses cannot be released: code 11.
  json e = error_of(
      run({{"CNI_COMMAND", "DEL"}, {"CNI_CONTAINERID", "c1"}, {"CNI_IFNAME", "eth0"}}, kNoDaemon));
  EXPECT_EQ(e["code"], kCodeTryAgainLater);
}

TEST(CniPlugin, GcWithoutWeftdIsCode11) {
  json e = error_of(run({{"CNI_COMMAND", "GC"}, {"CNI_PATH", "/usr/lib/cni"}}, kNoDaemon));
  EXPECT_EQ(e["code"], kCodeTryAgainLater);
}

TEST(CniPlugin, BadEnvironmentEchoesTheConfigVersion) {
  json e = error_of(run({{"CNI_COMMAND", "ADD"}}, R"({"cniVersion":"0.3.1"})"));
  EXPECT_EQ(e["code"], kCodeInvalidEnvironment);
  EXPECT_EQ(e["cniVersion"], "0.3.1");
}

TEST(CniPlugin, HostIfnameIsStableAndShort) {
  const std::string a = host_ifname_for("abc", "eth0");
  EXPECT_EQ(a, host_ifname_for("abc", "eth0"));
  EXPECT_NE(a, host_ifname_for("abc", "eth1"));
  EXPECT_NE(a, host_ifname_for("abce", "th0"));
  EXPECT_EQ(a.size(), 15u);
  EXPECT_EQ(a.rfind("vethwc", 0), 0u);
}

class DelegateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("weft-cni-delegate-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void script(const std::string& name, const std::string& body) {
    const auto path = dir_ / name;
    std::ofstream(path) << "#!/bin/sh\n" << body << "\n";
    ::chmod(path.c_str(), 0755);
  }
  std::filesystem::path dir_;
};

TEST_F(DelegateTest, RunsThePluginWithConfigOnStdinAndCommandInEnv) {
  // Echoes stdin back inside a result, with the command it saw.
  script(
      "echo-ipam",
      R"(cfg=$(cat); printf '{"ips":[{"address":"198.19.0.7/16"}],"dns":{"domain":"%s"},"cfg":%s}' "$CNI_COMMAND" "$cfg")");
  auto out = run_delegate("echo-ipam", "ADD", R"({"x":1})", "/nonexistent:" + dir_.string());
  ASSERT_TRUE(out) << out.error().msg << out.error().details;
  EXPECT_EQ((*out)["dns"]["domain"], "ADD");
  EXPECT_EQ((*out)["cfg"]["x"], 1);
}

TEST_F(DelegateTest, PassesTheDelegatesErrorObjectOn) {
  script(
      "failing",
      R"(cat >/dev/null; echo '{"cniVersion":"1.0.0","code":7,"msg":"bad range","details":"x"}'; exit 1)");
  auto out = run_delegate("failing", "ADD", "{}", dir_.string());
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().code, 7);
  EXPECT_NE(out.error().msg.find("bad range"), std::string::npos);
  script("crashing", "cat >/dev/null; exit 3");
  auto crashed = run_delegate("crashing", "DEL", "{}", dir_.string());
  ASSERT_FALSE(crashed);
  EXPECT_EQ(crashed.error().code, kCodeDelegateFailed);
}

TEST_F(DelegateTest, MissingOrUnsafeTypesAreConfigErrors) {
  EXPECT_EQ(find_plugin("nope", dir_.string()).error().code, kCodeInvalidConfig);
  EXPECT_EQ(find_plugin("../bin/sh", "/usr").error().code, kCodeInvalidConfig);
  script("ok", "true");
  EXPECT_EQ(*find_plugin("ok", dir_.string()), (dir_ / "ok").string());
}

}  // namespace
}  // namespace weft::cni
