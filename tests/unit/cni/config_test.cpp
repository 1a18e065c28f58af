#include "cni/config.hpp"

#include <map>

#include <gtest/gtest.h>

namespace weft::cni {
namespace {

CniResult<CniEnv> env_of(std::map<std::string, std::string> vars) {
  return parse_env([&](const char* name) -> std::optional<std::string_view> {
    auto it = vars.find(name);
    if (it == vars.end())
      return std::nullopt;
    return std::string_view(it->second);
  });
}

std::map<std::string, std::string> add_env() {
  return {{"CNI_COMMAND", "ADD"},
          {"CNI_CONTAINERID", "c0ffee.1_a-b"},
          {"CNI_NETNS", "/run/netns/x"},
          {"CNI_IFNAME", "eth0"},
          {"CNI_ARGS", "IgnoreUnknown=1;K8S_POD_NAME=web-0"},
          {"CNI_PATH", "/opt/cni/bin:/usr/lib/cni"}};
}

TEST(CniEnv, ParsesEveryVariable) {
  auto env = env_of(add_env());
  ASSERT_TRUE(env) << env.error().msg;
  EXPECT_EQ(env->command, Command::kAdd);
  EXPECT_EQ(env->container_id, "c0ffee.1_a-b");
  EXPECT_EQ(env->netns, "/run/netns/x");
  EXPECT_EQ(env->ifname, "eth0");
  ASSERT_EQ(env->args.size(), 2u);
  EXPECT_EQ(env->args[1].first, "K8S_POD_NAME");
  EXPECT_EQ(env->args[1].second, "web-0");
  EXPECT_EQ(env->path, "/opt/cni/bin:/usr/lib/cni");
}

TEST(CniEnv, NamesTheBadVariableWithCode4) {
  struct Case {
    const char* var;
    std::optional<std::string> value;
  };
  for (const Case& c :
       {Case{"CNI_COMMAND", std::nullopt}, Case{"CNI_COMMAND", "ATTACH"},
        Case{"CNI_CONTAINERID", std::nullopt}, Case{"CNI_CONTAINERID", "-x"},
        Case{"CNI_CONTAINERID", "a/b"}, Case{"CNI_IFNAME", std::nullopt},
        Case{"CNI_IFNAME", "a-very-long-name0"}, Case{"CNI_IFNAME", "a/b"},
        Case{"CNI_IFNAME", ".."}, Case{"CNI_NETNS", std::nullopt}, Case{"CNI_ARGS", "novalue"}}) {
    auto vars = add_env();
    if (c.value) {
      vars[c.var] = *c.value;
    } else {
      vars.erase(c.var);
    }
    auto env = env_of(vars);
    ASSERT_FALSE(env) << c.var;
    EXPECT_EQ(env.error().code, kCodeInvalidEnvironment) << c.var;
    EXPECT_NE(env.error().msg.find(c.var), std::string::npos) << env.error().msg;
  }
}

TEST(CniEnv, DelNeedsNoNetnsAndStatusNeedsNoContainer) {
  auto vars = add_env();
  vars["CNI_COMMAND"] = "DEL";
  vars.erase("CNI_NETNS");
  EXPECT_TRUE(env_of(vars));
  for (const char* cmd : {"STATUS", "GC", "VERSION"}) {
    auto env = env_of({{"CNI_COMMAND", cmd}});
    ASSERT_TRUE(env) << cmd;
  }
}

constexpr std::string_view kFull = R"({
  "cniVersion": "1.1.0", "name": "weft", "type": "weft-cni",
  "socket": "/run/x.sock", "bridge": "br0", "mtu": 1400, "hairpinMode": true,
  "families": ["ipv6"], "defaultRoute": false,
  "cni.dev/valid-attachments": [{"containerID": "b", "ifname": "eth0"},
                                {"containerID": "a", "ifname": "eth1"}]
})";

TEST(CniConfig, ReadsWeftKeys) {
  auto conf = parse_config(kFull, Command::kGc);
  ASSERT_TRUE(conf) << conf.error().msg << " " << conf.error().details;
  EXPECT_EQ(conf->version, SpecVersion::k110);
  EXPECT_EQ(conf->name, "weft");
  EXPECT_EQ(conf->socket, "/run/x.sock");
  EXPECT_EQ(conf->bridge, "br0");
  EXPECT_EQ(conf->mtu, 1400u);
  EXPECT_TRUE(conf->hairpin);
  EXPECT_FALSE(conf->default_route);
  EXPECT_EQ(conf->families, std::vector<IpFamily>{IpFamily::kV6});
  ASSERT_EQ(conf->valid_attachments.size(), 2u);
  EXPECT_EQ(conf->valid_attachments[0].container_id, "a");  // sorted
  EXPECT_FALSE(conf->ipam_only);
  EXPECT_TRUE(conf->ipam_type.empty());
}

TEST(CniConfig, DefaultsAreWeftdsAllocatorAndTheWeftBridge) {
  auto conf = parse_config(R"({"cniVersion":"1.0.0","name":"n","type":"weft-cni"})", Command::kAdd);
  ASSERT_TRUE(conf);
  EXPECT_EQ(conf->socket, kDefaultSocket);
  EXPECT_EQ(conf->bridge, "weft");
  EXPECT_FALSE(conf->mtu);
  EXPECT_FALSE(conf->hairpin);
  EXPECT_TRUE(conf->default_route);
  EXPECT_TRUE(conf->families.empty());
}

TEST(CniConfig, EveryVersionParsesAndOthersAreIncompatible) {
  for (const char* v : {"0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"}) {
    auto conf = parse_config(
        fmt::format(R"({{"cniVersion":"{}","name":"n","type":"weft-cni"}})", v), Command::kAdd);
    ASSERT_TRUE(conf) << v;
    EXPECT_EQ(to_string(conf->version), v);
  }
  for (const char* v : {"0.1.0", "0.2.0", "2.0.0", ""}) {
    auto conf = parse_config(
        fmt::format(R"({{"cniVersion":"{}","name":"n","type":"weft-cni"}})", v), Command::kAdd);
    ASSERT_FALSE(conf) << v;
    EXPECT_EQ(conf.error().code, kCodeIncompatibleVersion) << v;
  }
}

TEST(CniConfig, OperationsNeedTheirVersion) {
  const auto text = [](const char* v) {
    return fmt::format(R"({{"cniVersion":"{}","name":"n","type":"weft-cni"}})", v);
  };
  EXPECT_EQ(parse_config(text("0.3.1"), Command::kCheck).error().code, kCodeIncompatibleVersion);
  EXPECT_TRUE(parse_config(text("0.4.0"), Command::kCheck));
  EXPECT_EQ(parse_config(text("1.0.0"), Command::kStatus).error().code, kCodeIncompatibleVersion);
  EXPECT_EQ(parse_config(text("1.0.0"), Command::kGc).error().code, kCodeIncompatibleVersion);
  EXPECT_TRUE(parse_config(text("1.1.0"), Command::kStatus));
  // VERSION takes anything, even nothing.
  EXPECT_TRUE(parse_config("", Command::kVersion));
  EXPECT_TRUE(parse_config(R"({"cniVersion":"9.9.9"})", Command::kVersion));
}

TEST(CniConfig, BadValuesAreCode7AndBadJsonCode6) {
  EXPECT_EQ(parse_config("{", Command::kAdd).error().code, kCodeDecodeFailure);
  EXPECT_EQ(parse_config("[1]", Command::kAdd).error().code, kCodeDecodeFailure);
  for (const char* extra :
       {R"("mtu": 10)", R"("mtu": "1400")", R"("hairpinMode": "yes")", R"("families": ["ipv5"])",
        R"("families": [])", R"("socket": 3)", R"("bridge": "")", R"("ipam": [])", R"("ipam": {})",
        R"("prevResult": 1)", R"("cni.dev/valid-attachments": [{"ifname": "x"}])"}) {
    auto conf = parse_config(
        fmt::format(R"({{"cniVersion":"1.1.0","name":"n","type":"weft-cni",{}}})", extra),
        Command::kAdd);
    ASSERT_FALSE(conf) << extra;
    EXPECT_EQ(conf.error().code, kCodeInvalidConfig) << extra;
  }
  auto other = parse_config(R"({"cniVersion":"1.0.0","name":"n","type":"bridge"})", Command::kAdd);
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().code, kCodeUnsupportedField);
}

TEST(CniConfig, DelegatedIpamAndIpamOnlyMode) {
  auto delegated = parse_config(
      R"({"cniVersion":"1.0.0","name":"n","type":"weft-cni","ipam":{"type":"host-local","ranges":[]}})",
      Command::kAdd);
  ASSERT_TRUE(delegated);
  EXPECT_EQ(delegated->ipam_type, "host-local");
  EXPECT_FALSE(delegated->ipam_only);

  auto own = parse_config(
      R"({"cniVersion":"1.0.0","name":"n","type":"weft-cni","ipam":{"type":"weft-ipam"}})",
      Command::kAdd);
  ASSERT_TRUE(own);
  EXPECT_TRUE(own->ipam_type.empty());  // weftd allocates, in process

  auto ipam_only = parse_config(
      R"({"cniVersion":"0.4.0","name":"n","type":"bridge","bridge":"cni0",
          "ipam":{"type":"weft-ipam","socket":"/s","families":["ipv4"],
                  "routes":[{"dst":"0.0.0.0/0"}]}})",
      Command::kAdd);
  ASSERT_TRUE(ipam_only) << ipam_only.error().details;
  EXPECT_TRUE(ipam_only->ipam_only);
  EXPECT_EQ(ipam_only->socket, "/s");
  EXPECT_EQ(ipam_only->bridge, "weft");  // the bridge plugin's key is not ours
  EXPECT_EQ(ipam_only->families, std::vector<IpFamily>{IpFamily::kV4});
  ASSERT_EQ(ipam_only->ipam_routes.size(), 1u);
}

TEST(CniConfig, PeekVersionForErrorObjects) {
  EXPECT_EQ(peek_version(R"({"cniVersion":"0.4.0","mtu":"x"})"), "0.4.0");
  EXPECT_EQ(peek_version("not json"), "");
}

}  // namespace
}  // namespace weft::cni
