#include "policy/decode.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "policy/compiler.hpp"
#include "policy/selector.hpp"

namespace weft::policy {
namespace {

using nlohmann::json;

json policy_json(json spec) {
  return {{"apiVersion", "networking.k8s.io/v1"},
          {"kind", "NetworkPolicy"},
          {"metadata", {{"name", "np"}, {"namespace", "x"}}},
          {"spec", std::move(spec)}};
}

TEST(PolicyDecode, PodWithPortsAndDualStackAddresses) {
  auto pod = decode_pod(json::parse(R"({
    "metadata": {"name": "a", "namespace": "x", "uid": "u1", "labels": {"pod": "a"}},
    "spec": {"nodeName": "n1", "containers": [
      {"name": "c80", "ports": [{"name": "serve-80-tcp", "containerPort": 80},
                                {"name": "serve-80-udp", "containerPort": 80, "protocol": "UDP"}]},
      {"name": "c81", "ports": [{"containerPort": 81, "protocol": "SCTP"}]}]},
    "status": {"phase": "Running", "podIP": "198.19.0.5",
               "podIPs": [{"ip": "198.19.0.5"}, {"ip": "fd00:19::5"}]}})"));
  ASSERT_TRUE(pod) << pod.error().message;
  EXPECT_EQ(pod->key(), "x/a");
  EXPECT_EQ(pod->node_name, "n1");
  ASSERT_EQ(pod->ports.size(), 3U);
  EXPECT_EQ(pod->ports[1].protocol, Protocol::kUdp);
  EXPECT_EQ(pod->ports[2].name, "");
  ASSERT_EQ(pod->addresses.size(), 2U);
  EXPECT_EQ(pod->addresses[1].to_string(), "fd00:19::5");
  EXPECT_FALSE(pod->terminated);
}

TEST(PolicyDecode, PodDefaultsAndTerminalPhases) {
  auto pod = decode_pod(json::parse(
      R"({"metadata": {"name": "a"}, "status": {"phase": "Failed", "podIP": "198.19.0.9"}})"));
  ASSERT_TRUE(pod);
  EXPECT_EQ(pod->namespace_name, "default");
  EXPECT_TRUE(pod->terminated);
  EXPECT_FALSE(is_selectable(*pod));
}

TEST(PolicyDecode, PodErrorsNameTheField) {
  auto bad = decode_pod(json::parse(
      R"({"metadata": {"name": "a"}, "spec": {"containers": [{"ports": [{"containerPort": 70000}]}]}})"));
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("spec.containers[0].ports[0].containerPort"),
            std::string::npos)
      << bad.error().message;
  EXPECT_FALSE(decode_pod(json::parse(R"({"metadata": {}})")));
  EXPECT_FALSE(decode_pod(json::parse(R"([1])")));
  EXPECT_FALSE(decode_pod(json::parse(
      R"({"metadata": {"name": "a"}, "status": {"podIPs": [{"ip": "1.2.3.4"}, {"ip": "1.2.3.5"}]}})")));
  EXPECT_FALSE(decode_pod(json::parse(R"({"metadata": {"name": "a", "labels": {"k": 1}}})")));
}

TEST(PolicyDecode, PolicyTypesDefaultFromTheRules) {
  auto ingress_only = decode_network_policy(policy_json({{"podSelector", json::object()}}));
  ASSERT_TRUE(ingress_only);
  EXPECT_TRUE(ingress_only->applies_to_ingress);
  EXPECT_FALSE(ingress_only->applies_to_egress);

  auto with_egress = decode_network_policy(
      policy_json({{"podSelector", json::object()}, {"egress", {json::object()}}}));
  ASSERT_TRUE(with_egress);
  EXPECT_TRUE(with_egress->applies_to_ingress);
  EXPECT_TRUE(with_egress->applies_to_egress);

  auto empty_egress = decode_network_policy(
      policy_json({{"podSelector", json::object()}, {"egress", json::array()}}));
  ASSERT_TRUE(empty_egress);
  EXPECT_FALSE(empty_egress->applies_to_egress);

  auto egress_only = decode_network_policy(
      policy_json({{"podSelector", json::object()}, {"policyTypes", {"Egress"}}}));
  ASSERT_TRUE(egress_only);
  EXPECT_FALSE(egress_only->applies_to_ingress);
  EXPECT_TRUE(egress_only->applies_to_egress);
  EXPECT_TRUE(egress_only->egress.empty());

  EXPECT_FALSE(decode_network_policy(policy_json({{"policyTypes", {"Sideways"}}})));
}

TEST(PolicyDecode, PortsNamedNumberedAndRanges) {
  auto p = decode_network_policy(policy_json(json::parse(R"({
    "podSelector": {"matchLabels": {"pod": "a"}},
    "ingress": [{"ports": [{"port": 80}, {"protocol": "UDP", "port": "serve-81-udp"},
                            {"protocol": "SCTP"}, {"port": 30000, "endPort": 32767}]}]})")));
  ASSERT_TRUE(p) << p.error().message;
  const auto& ports = p->ingress.at(0).ports;
  ASSERT_EQ(ports.size(), 4U);
  EXPECT_EQ(ports[0].protocol, Protocol::kTcp);
  EXPECT_EQ(*ports[0].port, 80);
  EXPECT_EQ(ports[1].name, "serve-81-udp");
  EXPECT_FALSE(ports[2].port);
  EXPECT_EQ(*ports[3].end_port, 32767);

  auto endport_without_port = decode_network_policy(
      policy_json(json::parse(R"({"ingress": [{"ports": [{"endPort": 90}]}]})")));
  ASSERT_FALSE(endport_without_port);
  EXPECT_NE(endport_without_port.error().message.find("spec.ingress[0].ports[0].endPort"),
            std::string::npos);
  EXPECT_FALSE(decode_network_policy(
      policy_json(json::parse(R"({"ingress": [{"ports": [{"port": 90, "endPort": 80}]}]})"))));
  EXPECT_FALSE(decode_network_policy(
      policy_json(json::parse(R"({"ingress": [{"ports": [{"port": "serve_80"}]}]})"))));
  EXPECT_FALSE(decode_network_policy(
      policy_json(json::parse(R"({"ingress": [{"ports": [{"port": "8080"}]}]})"))));
  EXPECT_FALSE(decode_network_policy(
      policy_json(json::parse(R"({"ingress": [{"ports": [{"port": 0}]}]})"))));
  EXPECT_FALSE(decode_network_policy(
      policy_json(json::parse(R"({"ingress": [{"ports": [{"protocol": "ICMP"}]}]})"))));
}

TEST(PolicyDecode, IpBlockExceptMustBeAStrictSubset) {
  auto ok = decode_network_policy(policy_json(json::parse(R"({"egress": [{"to": [
      {"ipBlock": {"cidr": "198.19.0.7/24", "except": ["198.19.0.8/29"]}},
      {"ipBlock": {"cidr": "fd00:19::/48", "except": ["fd00:19::/64"]}}]}]})")));
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->egress[0].peers[0].ip_block->cidr.to_string(), "198.19.0.0/24");  // masked
  for (const char* bad : {R"({"cidr": "198.19.0.0/24", "except": ["198.19.0.0/24"]})",
                          R"({"cidr": "198.19.0.0/24", "except": ["198.19.1.0/25"]})",
                          R"({"cidr": "198.19.0.0/24", "except": ["fd00:19::/64"]})",
                          R"({"cidr": "198.19.0.0/33"})", R"({"except": []})"}) {
    json spec = {{"egress", {{{"to", {{{"ipBlock", json::parse(bad)}}}}}}}};
    EXPECT_FALSE(decode_network_policy(policy_json(spec))) << bad;
  }
  json mixed = {
      {"ingress",
       {{{"from", {{{"ipBlock", {{"cidr", "10.0.0.0/8"}}}, {"podSelector", json::object()}}}}}}}};
  EXPECT_FALSE(decode_network_policy(policy_json(mixed)));
  json empty_peer = {{"ingress", {{{"from", {json::object()}}}}}};
  EXPECT_FALSE(decode_network_policy(policy_json(empty_peer)));
}

TEST(PolicyDecode, SelectorsAndMatching) {
  auto s = decode_label_selector(json::parse(R"({"matchLabels": {"app": "web"},
      "matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["db", "cache"]},
                           {"key": "legacy", "operator": "DoesNotExist"},
                           {"key": "env", "operator": "Exists"}]})"),
                                 "sel");
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_TRUE(matches(*s, {{"app", "web"}, {"env", "prod"}}));
  EXPECT_TRUE(matches(*s, {{"app", "web"}, {"env", "prod"}, {"tier", "front"}}));
  EXPECT_FALSE(matches(*s, {{"app", "web"}, {"env", "prod"}, {"tier", "db"}}));
  EXPECT_FALSE(matches(*s, {{"app", "web"}, {"env", "prod"}, {"legacy", ""}}));
  EXPECT_FALSE(matches(*s, {{"app", "web"}}));
  EXPECT_FALSE(matches(*s, {{"app", "db"}, {"env", "prod"}}));
  EXPECT_EQ(to_string(*s), "app=web,env,!legacy,tier notin (cache,db)");
  EXPECT_TRUE(matches(LabelSelector{}, {}));

  EXPECT_FALSE(decode_label_selector(
      json::parse(R"({"matchExpressions": [{"key": "a", "operator": "In"}]})"), "s"));
  EXPECT_FALSE(decode_label_selector(
      json::parse(R"({"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]})"),
      "s"));
  EXPECT_FALSE(decode_label_selector(
      json::parse(R"({"matchExpressions": [{"key": "a", "operator": "Gt", "values": ["1"]}]})"),
      "s"));
  // Equal selectors compare equal whatever the order they were written in.
  auto a = decode_label_selector(json::parse(R"({"matchLabels": {"x": "1", "y": "2"}})"), "a");
  auto b = decode_label_selector(
      json::parse(
          R"({"matchExpressions": [{"key": "y", "operator": "In", "values": ["2"]}], "matchLabels": {"x": "1"}})"),
      "b");
  EXPECT_EQ(*a, *b);
}

TEST(PolicyDecode, PortNames) {
  EXPECT_TRUE(is_port_name("http"));
  EXPECT_TRUE(is_port_name("serve-80-tcp"));
  EXPECT_FALSE(is_port_name("80"));
  EXPECT_FALSE(is_port_name("-http"));
  EXPECT_FALSE(is_port_name("ht--tp"));
  EXPECT_FALSE(is_port_name("Http"));
  EXPECT_FALSE(is_port_name("a-very-long-port-name"));
}

// What the reflectors keep of an object decodes as the whole object does, bad fields included.
TEST(PolicyDecode, SlimmedObjectsDecodeAlike) {
  const json pod = json::parse(R"({
    "apiVersion": "v1", "kind": "Pod",
    "metadata": {"name": "a", "namespace": "x", "uid": "u1", "resourceVersion": "42",
                 "labels": {"app": "web"}, "annotations": {"big": "text"},
                 "managedFields": [{"manager": "kubectl", "fieldsV1": {"f:spec": {}}}],
                 "ownerReferences": [{"kind": "ReplicaSet", "name": "web-1"}]},
    "spec": {"nodeName": "n1", "hostNetwork": false, "volumes": [{"name": "v"}],
             "containers": [{"name": "c", "image": "web", "env": [{"name": "A", "value": "1"}],
                             "ports": [{"name": "http", "containerPort": 8080}]}]},
    "status": {"phase": "Running", "podIP": "198.19.0.5", "podIPs": [{"ip": "198.19.0.5"}],
               "conditions": [{"type": "Ready", "status": "True"}],
               "containerStatuses": [{"name": "c", "ready": true}]}})");
  json slim = pod;
  slim_pod(slim);
  EXPECT_LT(slim.dump().size(), pod.dump().size() / 2);
  EXPECT_EQ(slim["metadata"]["resourceVersion"], "42");
  auto whole = decode_pod(pod);
  auto kept = decode_pod(slim);
  ASSERT_TRUE(whole && kept);
  EXPECT_EQ(kept->key(), whole->key());
  EXPECT_EQ(kept->uid, whole->uid);
  EXPECT_EQ(kept->labels, whole->labels);
  EXPECT_EQ(kept->node_name, whole->node_name);
  EXPECT_EQ(kept->addresses, whole->addresses);
  EXPECT_EQ(kept->ports, whole->ports);
  EXPECT_EQ(kept->terminated, whole->terminated);
  // A field of the wrong type stays, and fails the same way.
  json bad = pod;
  bad["spec"]["containers"] = "not a list";
  json bad_slim = bad;
  slim_pod(bad_slim);
  auto bad_whole = decode_pod(bad);
  auto bad_kept = decode_pod(bad_slim);
  ASSERT_FALSE(bad_whole);
  ASSERT_FALSE(bad_kept);
  EXPECT_EQ(bad_kept.error().message, bad_whole.error().message);

  const json ns = json::parse(R"({"metadata": {"name": "x", "uid": "u",
    "labels": {"team": "a"}, "managedFields": []}, "spec": {"finalizers": ["kubernetes"]},
    "status": {"phase": "Active"}})");
  json slim_ns = ns;
  slim_namespace(slim_ns);
  EXPECT_FALSE(slim_ns.contains("spec"));
  auto ns_whole = decode_namespace(ns);
  auto ns_kept = decode_namespace(slim_ns);
  ASSERT_TRUE(ns_whole && ns_kept);
  EXPECT_EQ(ns_kept->labels, ns_whole->labels);

  json np = policy_json({{"podSelector", json::object()}, {"policyTypes", {"Ingress"}}});
  np["metadata"]["managedFields"] = json::array({json::object()});
  slim_network_policy(np);
  EXPECT_FALSE(np["metadata"].contains("managedFields"));
  EXPECT_TRUE(decode_network_policy(np));
}

}  // namespace
}  // namespace weft::policy
