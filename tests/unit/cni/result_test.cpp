#include <gtest/gtest.h>

#include "cni/cni_result.hpp"

namespace weft::cni {
namespace {

using nlohmann::json;

CniSuccess sample() {
  CniSuccess r;
  r.interfaces = {CniInterface{"vethwc123456789", "aa:bb:cc:00:00:01", "", std::nullopt},
                  CniInterface{"eth0", "aa:bb:cc:00:00:02", "/run/netns/c1", 1376u}};
  r.ips = {CniIp{*parse_host_cidr("10.32.0.5/12"), *parse_ip_address("10.32.0.1"), 1},
           CniIp{*parse_host_cidr("fd10:32::5/48"), *parse_ip_address("fd10:32::1"), 1}};
  r.routes = {CniRoute{*parse_cidr("0.0.0.0/0"), *parse_ip_address("10.32.0.1")},
              CniRoute{*parse_cidr("::/0"), *parse_ip_address("fd10:32::1")}};
  return r;
}

TEST(CniResult, VersionTagsBefore100) {
  for (SpecVersion v : {SpecVersion::k030, SpecVersion::k031, SpecVersion::k040}) {
    json out = render_success(sample(), v, to_string(v));
    EXPECT_EQ(out["cniVersion"], to_string(v));
    EXPECT_EQ(out["ips"][0]["version"], "4");
    EXPECT_EQ(out["ips"][1]["version"], "6");
    EXPECT_FALSE(out["interfaces"][1].contains("mtu"));
  }
  for (SpecVersion v : {SpecVersion::k100, SpecVersion::k110}) {
    json out = render_success(sample(), v, to_string(v));
    EXPECT_FALSE(out["ips"][0].contains("version"));
    EXPECT_EQ(out["interfaces"][1].contains("mtu"), v == SpecVersion::k110);
  }
}

TEST(CniResult, RendersTheSpecShape) {
  json out = render_success(sample(), SpecVersion::k110, "1.1.0");
  EXPECT_EQ(out["interfaces"][0]["name"], "vethwc123456789");
  EXPECT_FALSE(out["interfaces"][0].contains("sandbox"));
  EXPECT_EQ(out["interfaces"][1]["sandbox"], "/run/netns/c1");
  EXPECT_EQ(out["interfaces"][1]["mtu"], 1376);
  EXPECT_EQ(out["ips"][0]["address"], "10.32.0.5/12");
  EXPECT_EQ(out["ips"][0]["gateway"], "10.32.0.1");
  EXPECT_EQ(out["ips"][0]["interface"], 1);
  EXPECT_EQ(out["routes"][1]["dst"], "::/0");
  EXPECT_EQ(out["routes"][1]["gw"], "fd10:32::1");
  EXPECT_TRUE(out["dns"].is_object());
}

TEST(CniResult, RoundTripsThroughEveryVersion) {
  for (SpecVersion v : {SpecVersion::k030, SpecVersion::k031, SpecVersion::k040, SpecVersion::k100,
                        SpecVersion::k110}) {
    auto parsed = parse_success(render_success(sample(), v, to_string(v)));
    ASSERT_TRUE(parsed) << parsed.error().details;
    CniSuccess want = sample();
    if (v != SpecVersion::k110)
      want.interfaces[1].mtu.reset();
    EXPECT_EQ(*parsed, want) << to_string(v);
  }
}

TEST(CniResult, ParsesAnIpamResultAndKeepsDns) {
  auto parsed = parse_success(json::parse(R"({
    "cniVersion": "0.4.0",
    "ips": [{"version": "4", "address": "198.19.0.9/16", "gateway": "198.19.0.1"}],
    "routes": [{"dst": "0.0.0.0/0"}],
    "dns": {"nameservers": ["198.19.0.53"]}})"));
  ASSERT_TRUE(parsed);
  EXPECT_TRUE(parsed->interfaces.empty());
  EXPECT_FALSE(parsed->ips[0].interface);
  EXPECT_FALSE(parsed->routes[0].gw);
  EXPECT_EQ(parsed->dns["nameservers"][0], "198.19.0.53");
}

TEST(CniResult, BadResultsAreCode6) {
  for (const char* text :
       {R"([])", R"({"ips": {}})", R"({"ips": [{"address": "10.0.0.1"}]})",
        R"({"ips": [{"address": "10.0.0.1/8", "interface": 0}]})",
        R"({"ips": [{"address": "10.0.0.1/8", "gateway": "x"}]})",
        R"({"routes": [{"gw": "10.0.0.1"}]})", R"({"interfaces": [{"mac": "x"}]})"}) {
    auto parsed = parse_success(json::parse(text));
    ASSERT_FALSE(parsed) << text;
    EXPECT_EQ(parsed.error().code, kCodeDecodeFailure) << text;
  }
}

TEST(CniError, ObjectHasCodeMsgDetails) {
  json e = render_error("0.4.0", cni_error(kCodeTryAgainLater, "weftd is not ready yet", "503"));
  EXPECT_EQ(e, json::parse(R"({"cniVersion":"0.4.0","code":11,"msg":"weftd is not ready yet",
                               "details":"503"})"));
  EXPECT_EQ(render_error("", cni_error(kCodeInvalidConfig, "x"))["cniVersion"], "1.1.0");
  EXPECT_FALSE(render_error("1.0.0", cni_error(7, "x")).contains("details"));
  EXPECT_EQ(render_version("1.0.0")["supportedVersions"].size(), 5u);
}

}  // namespace
}  // namespace weft::cni
