// ContainerRecord: the PUT body parser (defaults, normalisation, every rejection with a
// message naming the field), the client's body and the list answer round-tripping, and the
// targets.
#include "api/containers.hpp"

#include <gtest/gtest.h>

namespace weft::api {
namespace {

using nlohmann::json;

constexpr const char* kFull = R"({"netns": "/proc/123/ns/net", "host_ifname": "vethwe1a2b3c4d",
  "mac": "AA:BB:CC:DD:EE:0F", "addresses": ["10.32.0.5/12", "fd10:32::5/48"], "source": "cni",
  "future_field": {"x": 1}})";

std::vector<Cidr> cidrs(std::initializer_list<const char*> texts) {
  std::vector<Cidr> out;
  for (const char* t : texts) {
    out.push_back(parse_host_cidr(t).value());
  }
  return out;
}

TEST(ContainerBody, FullBodyIsNormalised) {
  auto r = parse_container_body("abc", "eth0", kFull);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->id, "abc");
  EXPECT_EQ(r->ifname, "eth0");
  EXPECT_EQ(r->netns, "/proc/123/ns/net");
  EXPECT_EQ(r->host_ifname, "vethwe1a2b3c4d");
  EXPECT_EQ(r->mac, "aa:bb:cc:dd:ee:0f");
  EXPECT_EQ(r->addresses, cidrs({"10.32.0.5/12", "fd10:32::5/48"}));
  EXPECT_EQ(r->source, "cni");
  EXPECT_EQ(r->created, 0);
}

TEST(ContainerBody, MissingFieldsAreEmptyAndSourceDefaultsToApi) {
  for (const char* body : {"{}", R"({"netns": null, "addresses": null, "source": ""})"}) {
    auto r = parse_container_body("c1", "net1", body);
    ASSERT_TRUE(r) << body << ": " << r.error().to_string();
    EXPECT_EQ(r->netns, "");
    EXPECT_EQ(r->host_ifname, "");
    EXPECT_EQ(r->mac, "");
    EXPECT_TRUE(r->addresses.empty());
    EXPECT_EQ(r->source, "api");
  }
}

TEST(ContainerBody, RejectsWithAMessageNamingTheProblem) {
  struct Case {
    const char* id;
    const char* ifname;
    const char* body;
    const char* message;
  };
  for (const Case& c : std::vector<Case>{
           {"c", "eth0", "", "not JSON"},
           {"c", "eth0", "{", "not JSON"},
           {"c", "eth0", "[]", "JSON object"},
           {"c", "eth0", "\"x\"", "JSON object"},
           {"c", "eth0", R"({"netns": 5})", "\"netns\" must be a string"},
           {"c", "eth0", R"({"mac": "aa:bb:cc:dd:ee"})", "bad \"mac\""},
           {"c", "eth0", R"({"mac": true})", "\"mac\" must be a string"},
           {"c", "eth0", R"({"addresses": "10.0.0.1/8"})", "\"addresses\" must be an array"},
           {"c", "eth0", R"({"addresses": [1]})", "\"addresses\" must be an array"},
           {"c", "eth0", R"({"addresses": ["10.0.0.300/8"]})", "bad address \"10.0.0.300/8\""},
           {"c", "eth0", R"({"addresses": ["10.0.0.1"]})", "bad address"},
           {"c", "eth0", R"({"host_ifname": "a-name-that-is-too-long"})", "host_ifname"},
           {"c", "eth0", R"({"host_ifname": "a/b"})", "host_ifname"},
           {"c", "eth0", R"({"source": ["cni"]})", "\"source\" must be a string"},
           {"", "eth0", "{}", "empty container id"},
           {"a/b", "eth0", "{}", "container id must not contain '/'"},
           {"..", "eth0", "{}", "container id must not be"},
           {"c", "", "{}", "empty interface name"},
           {"c", "et/h0", "{}", "interface name must not contain '/'"},
       }) {
    auto r = parse_container_body(c.id, c.ifname, c.body);
    ASSERT_FALSE(r) << c.body;
    EXPECT_EQ(r.error().code, make_error_code(Errc::kInvalidArgument)) << c.body;
    EXPECT_NE(r.error().message.find(c.message), std::string::npos)
        << c.body << " -> " << r.error().message;
  }
}

TEST(ContainerBody, WhatAClientSendsParsesBackEqual) {
  ContainerRecord r{
      "a b",     "eth0", "/run/netns/x", "vethwc1", "02:00:00:00:00:01", cidrs({"10.32.0.5/12"}),
      "cni:weft"};
  EXPECT_EQ(parse_container_body(r.id, r.ifname, container_body(r)).value(), r);
  r.source = "api";
  r.addresses.clear();
  EXPECT_EQ(parse_container_body(r.id, r.ifname, container_body(r)).value(), r);
}

TEST(ContainerList, RoundTripsAndRefusesGarbage) {
  ContainerList list;
  auto a = parse_container_body("abc", "eth0", kFull).value();
  a.created = 1'700'000'000;
  list.containers.push_back({a, true});
  list.containers.push_back({parse_container_body("my id", "net1", "{}").value(), false});
  list.bridge = BridgeInfo{"weft", "02:00:00:00:00:01"};
  const json shown = to_json(list);
  EXPECT_EQ(shown["containers"][0]["addresses"], json({"10.32.0.5/12", "fd10:32::5/48"}));
  EXPECT_EQ(shown["containers"][0]["created"], 1'700'000'000);
  EXPECT_EQ(shown["containers"][1]["attached"], false);
  EXPECT_EQ(parse_container_list(shown.dump()).value(), list);
  list.bridge.reset();
  list.containers[1].attached.reset();
  EXPECT_EQ(parse_container_list(to_json(list).dump()).value(), list);

  for (const char* garbage : {"", "[]", "{}", R"({"containers": 5})", R"({"containers": [1]})",
                              R"({"containers": [{"id": "x"}]})",
                              R"({"containers": [{"id": "x", "ifname": "eth0", "mac": "zz"}]})"}) {
    auto r = parse_container_list(garbage);
    ASSERT_FALSE(r) << garbage;
  }
}

TEST(ContainerTargets, EncodeIdAndIfname) {
  EXPECT_EQ(container_target("a b/c", "eth0"), "/containers/a%20b%2Fc/eth0");
  EXPECT_EQ(container_target("x?"), "/containers/x%3F");
  EXPECT_EQ(containers_target(), "/containers");
}

}  // namespace
}  // namespace weft::api
