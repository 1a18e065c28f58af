#include "policy/compiler.hpp"

#include <set>

#include <gtest/gtest.h>

#include <fmt/format.h>

namespace weft::policy {
namespace {

IpAddress ip(const char* text) {
  return *parse_ip_address(text);
}

LabelSelector select(std::string key, std::string value) {
  return LabelSelector{
      {LabelRequirement{std::move(key), LabelRequirement::Op::kIn, {std::move(value)}}}};
}

Pod pod(std::string ns, std::string name, const std::vector<const char*>& addresses,
        Labels labels = {}) {
  Pod p;
  p.namespace_name = std::move(ns);
  p.name = std::move(name);
  p.labels = std::move(labels);
  for (const char* a : addresses) {
    p.addresses.push_back(ip(a));
  }
  return p;
}

void add(ClusterState& st, Pod p) {
  st.namespaces.try_emplace(p.namespace_name,
                            Namespace{p.namespace_name, {{"ns", p.namespace_name}}});
  st.pods.emplace(p.key(), std::move(p));
}

void add(ClusterState& st, NetworkPolicy p) {
  st.policies.emplace(p.key(), std::move(p));
}

NetworkPolicy deny_all(std::string ns, std::string name = "deny") {
  NetworkPolicy p;
  p.namespace_name = std::move(ns);
  p.name = std::move(name);
  p.applies_to_ingress = true;
  return p;
}

using V = CompiledNode::Verdict;

TEST(PolicyCompiler, UnselectedPodsAreUnrestricted) {
  ClusterState st;
  add(st, pod("x", "a", {"198.19.0.1"}));
  add(st, pod("x", "b", {"198.19.0.2"}));
  const auto node = compile(st);
  EXPECT_EQ(node.ingress(ip("198.19.0.1"), ip("203.0.113.9"), Protocol::kTcp, 80), V::kAllow);
  EXPECT_EQ(node.egress(ip("198.19.0.1"), ip("203.0.113.9"), std::nullopt, 0), V::kAllow);
  EXPECT_EQ(node.ingress(ip("198.19.0.9"), ip("198.19.0.1"), Protocol::kTcp, 80), V::kNotLocal);
  EXPECT_TRUE(node.groups.empty());
}

TEST(PolicyCompiler, PodsWithEqualRulesShareOneGroup) {
  ClusterState st;
  for (int i = 0; i < 50; ++i) {
    add(st, pod("x", fmt::format("p{}", i), {}, {{"app", "web"}}));
    st.pods.at(fmt::format("x/p{}", i))
        .addresses.push_back(IpAddress::v4(0xc6130001U + static_cast<std::uint32_t>(i)));
  }
  NetworkPolicy allow;
  allow.namespace_name = "x";
  allow.name = "web";
  allow.pod_selector = select("app", "web");
  PolicyRule rule;
  rule.peers.push_back(PolicyPeer{select("app", "web"), std::nullopt, std::nullopt});
  rule.ports.push_back(PolicyPort{Protocol::kTcp, 80, "", std::nullopt});
  allow.ingress.push_back(rule);
  add(st, allow);
  const auto node = compile(st);
  ASSERT_EQ(node.groups.size(), 1U);
  EXPECT_EQ(node.groups[0].pod_count, 50U);
  EXPECT_EQ(node.groups[0].policies, std::vector<std::string>{"x/web"});
  // The 50 pods are one identity: one element, and one address each in the peers map.
  ASSERT_EQ(node.groups[0].rules.ports.size(), 1U);
  EXPECT_EQ(node.groups[0].rules.ports[0].peers.element_count(), 1U);
  EXPECT_EQ(node.identities.size(), 1U);
  EXPECT_EQ(node.identity_by_address.size(), 50U);
  EXPECT_EQ(node.ingress(ip("198.19.0.1"), ip("198.19.0.50"), Protocol::kTcp, 80), V::kAllow);
  EXPECT_EQ(node.ingress(ip("198.19.0.1"), ip("198.19.0.50"), Protocol::kTcp, 81), V::kDeny);
  EXPECT_EQ(node.ingress(ip("198.19.0.1"), ip("198.19.0.51"), Protocol::kTcp, 80), V::kDeny);
}

TEST(PolicyCompiler, NamedPortsResolvePerDestinationPod) {
  ClusterState st;
  Pod a = pod("x", "a", {"198.19.0.1"}, {{"pod", "a"}});
  a.ports = {{"serve-80", 80, Protocol::kTcp}};
  Pod b = pod("x", "b", {"198.19.0.2"}, {{"pod", "b"}});
  b.ports = {{"serve-80", 8080, Protocol::kTcp}, {"dns", 53, Protocol::kUdp}};
  Pod c = pod("x", "c", {"198.19.0.3"}, {{"pod", "c"}});  // declares nothing
  add(st, a);
  add(st, b);
  add(st, c);
  NetworkPolicy p;
  p.namespace_name = "x";
  p.name = "named";
  p.applies_to_ingress = true;
  p.applies_to_egress = true;
  PolicyRule rule;
  rule.ports.push_back(PolicyPort{Protocol::kTcp, std::nullopt, "serve-80", std::nullopt});
  rule.ports.push_back(PolicyPort{Protocol::kTcp, std::nullopt, "dns", std::nullopt});  // UDP only
  p.ingress.push_back(rule);
  p.egress.push_back(rule);
  add(st, p);
  const auto node = compile(st);
  // Ingress: each pod's own declaration.
  EXPECT_EQ(node.ingress(ip("198.19.0.1"), ip("198.19.0.3"), Protocol::kTcp, 80), V::kAllow);
  EXPECT_EQ(node.ingress(ip("198.19.0.1"), ip("198.19.0.3"), Protocol::kTcp, 8080), V::kDeny);
  EXPECT_EQ(node.ingress(ip("198.19.0.2"), ip("198.19.0.3"), Protocol::kTcp, 8080), V::kAllow);
  EXPECT_EQ(node.ingress(ip("198.19.0.2"), ip("198.19.0.3"), Protocol::kTcp, 80), V::kDeny);
  EXPECT_EQ(node.ingress(ip("198.19.0.3"), ip("198.19.0.1"), Protocol::kTcp, 80), V::kDeny);
  EXPECT_EQ(node.ingress(ip("198.19.0.2"), ip("198.19.0.1"), Protocol::kUdp, 53), V::kDeny);
  // Egress: the destination's declaration.
  EXPECT_EQ(node.egress(ip("198.19.0.3"), ip("198.19.0.1"), Protocol::kTcp, 80), V::kAllow);
  EXPECT_EQ(node.egress(ip("198.19.0.3"), ip("198.19.0.2"), Protocol::kTcp, 8080), V::kAllow);
  EXPECT_EQ(node.egress(ip("198.19.0.3"), ip("198.19.0.2"), Protocol::kTcp, 80), V::kDeny);
  EXPECT_EQ(node.egress(ip("198.19.0.1"), ip("203.0.113.1"), Protocol::kTcp, 80), V::kDeny);
  // Three pods, three different ingress rule sets (a, b, and c's empty one); egress is the
  // same for all three.
  EXPECT_EQ(node.groups.size(), 4U);
}

TEST(PolicyCompiler, HostNetworkAndFinishedPodsAreNotSelected) {
  ClusterState st;
  Pod host = pod("x", "host", {"198.18.0.1"}, {{"app", "web"}});
  host.host_network = true;
  add(st, host);
  Pod done = pod("x", "done", {"198.19.0.7"}, {{"app", "web"}});
  done.terminated = true;
  add(st, done);
  add(st, pod("x", "a", {"198.19.0.1"}));
  NetworkPolicy p = deny_all("x");
  PolicyRule rule;
  rule.peers.push_back(PolicyPeer{select("app", "web"), std::nullopt, std::nullopt});
  p.ingress.push_back(rule);
  add(st, p);
  const auto node = compile(st);
  EXPECT_EQ(node.ingress(ip("198.19.0.1"), ip("198.18.0.1"), Protocol::kTcp, 80), V::kDeny);
  EXPECT_EQ(node.ingress(ip("198.19.0.1"), ip("198.19.0.7"), Protocol::kTcp, 80), V::kDeny);
  EXPECT_EQ(node.ingress(ip("198.18.0.1"), ip("198.19.0.1"), Protocol::kTcp, 80), V::kNotLocal);
}

TEST(PolicyCompiler, ReusedAddressNeverCarriesTheOldPodsRules) {
  // old (deny-all namespace x) finished; new (namespace y, unrestricted) has its address.
  ClusterState st;
  Pod old_pod = pod("x", "old", {"198.19.0.5"});
  old_pod.terminated = true;
  add(st, old_pod);
  add(st, pod("y", "new", {"198.19.0.5"}));
  add(st, deny_all("x"));
  auto node = compile(st);
  EXPECT_EQ(node.ingress(ip("198.19.0.5"), ip("198.19.0.9"), Protocol::kTcp, 80), V::kAllow);

  // A stale event: both claim the address at once. Neither pod's rules apply: nothing passes,
  // and the address matches no selector as a peer.
  st.pods.at("x/old").terminated = false;
  add(st, pod("z", "peer", {"198.19.0.9"}));
  NetworkPolicy from_x = deny_all("z", "from-x");
  PolicyRule rule;
  rule.peers.push_back(PolicyPeer{std::nullopt, select("ns", "x"), std::nullopt});
  from_x.ingress.push_back(rule);
  add(st, from_x);
  node = compile(st);
  EXPECT_EQ(node.ingress(ip("198.19.0.5"), ip("198.19.0.9"), Protocol::kTcp, 80), V::kDeny);
  EXPECT_EQ(node.egress(ip("198.19.0.5"), ip("198.19.0.9"), Protocol::kTcp, 80), V::kDeny);
  EXPECT_EQ(node.ingress(ip("198.19.0.9"), ip("198.19.0.5"), Protocol::kTcp, 80), V::kDeny);
  EXPECT_EQ(node.group_of(ip("198.19.0.5"), Direction::kIngress), CompiledNode::kConflict);

  // Settled: the old pod is gone, the new one's rules hold.
  st.pods.erase("x/old");
  node = compile(st);
  EXPECT_EQ(node.ingress(ip("198.19.0.5"), ip("198.19.0.9"), Protocol::kTcp, 80), V::kAllow);
}

TEST(PolicyCompiler, OnlyLocalPodsGetRules) {
  ClusterState st;
  Pod a = pod("x", "a", {"198.19.0.1", "fd00:19::1"});
  a.node_name = "n1";
  Pod b = pod("x", "b", {"198.19.0.2"});
  b.node_name = "n2";
  add(st, a);
  add(st, b);
  add(st, deny_all("x"));
  const auto node = compile(st, {.is_local = [](const Pod& p) {
                              return p.node_name == "n1";
                            }});
  EXPECT_EQ(node.pods.size(), 1U);
  EXPECT_EQ(node.ingress(ip("fd00:19::1"), ip("fd00:19::2"), Protocol::kTcp, 80), V::kDeny);
  EXPECT_EQ(node.ingress(ip("198.19.0.2"), ip("198.19.0.1"), Protocol::kTcp, 80), V::kNotLocal);
}

TEST(PolicyCompiler, EndPortRangesAndProtocolWidePorts) {
  ClusterState st;
  add(st, pod("x", "a", {"198.19.0.1"}));
  NetworkPolicy p = deny_all("x");
  PolicyRule rule;
  rule.ports.push_back(PolicyPort{Protocol::kTcp, 30000, "", 32767});
  rule.ports.push_back(PolicyPort{Protocol::kTcp, 32000, "", 40000});
  rule.ports.push_back(PolicyPort{Protocol::kSctp, std::nullopt, "", std::nullopt});
  p.ingress.push_back(rule);
  add(st, p);
  const auto node = compile(st);
  for (std::uint16_t port : {30000, 31000, 32767, 32768, 40000}) {
    EXPECT_EQ(node.ingress(ip("198.19.0.1"), ip("10.1.1.1"), Protocol::kTcp, port), V::kAllow)
        << port;
  }
  EXPECT_EQ(node.ingress(ip("198.19.0.1"), ip("10.1.1.1"), Protocol::kTcp, 29999), V::kDeny);
  EXPECT_EQ(node.ingress(ip("198.19.0.1"), ip("10.1.1.1"), Protocol::kTcp, 40001), V::kDeny);
  EXPECT_EQ(node.ingress(ip("198.19.0.1"), ip("10.1.1.1"), Protocol::kUdp, 31000), V::kDeny);
  EXPECT_EQ(node.ingress(ip("198.19.0.1"), ip("10.1.1.1"), Protocol::kSctp, 9), V::kAllow);
  EXPECT_EQ(node.ingress(ip("198.19.0.1"), ip("10.1.1.1"), std::nullopt, 0), V::kDeny);
  // Overlapping ranges were merged into one canonical range.
  const auto& ports = node.groups.at(0).rules.ports;
  ASSERT_EQ(ports.size(), 2U);
  EXPECT_EQ(ports[0].ports, (PortRange{30000, 40000}));
  EXPECT_EQ(ports[1].ports, kAllPorts);
}

// Pods equal in namespace, labels and container ports are one identity; the numbers of a
// compile are kept by the next one that is given them, whatever else appears.
TEST(PolicyCompiler, IdentitiesKeepTheirNumbers) {
  ClusterState st;
  add(st, pod("x", "a1", {"198.19.0.1"}, {{"app", "a"}}));
  add(st, pod("x", "a2", {"198.19.0.2"}, {{"app", "a"}}));
  add(st, pod("x", "b", {"198.19.0.3"}, {{"app", "b"}}));
  add(st, pod("y", "a", {"198.19.0.4"}, {{"app", "a"}}));
  const auto first = compile(st);
  ASSERT_EQ(first.identities.size(), 3U);
  EXPECT_EQ(first.identity_of(ip("198.19.0.1")), first.identity_of(ip("198.19.0.2")));
  EXPECT_NE(first.identity_of(ip("198.19.0.1")), first.identity_of(ip("198.19.0.3")));
  EXPECT_NE(first.identity_of(ip("198.19.0.1")), first.identity_of(ip("198.19.0.4")));
  EXPECT_EQ(first.identity_of(ip("198.19.0.9")), 0U);
  // A new identity sorting before the others, and one gone: the others keep their numbers.
  st.pods.erase("x/b");
  add(st, pod("a", "first", {"198.19.0.5"}, {{"app", "a"}}));
  Pod named = pod("x", "a3", {"198.19.0.6"}, {{"app", "a"}});
  named.ports = {{"http", 8080, Protocol::kTcp}};  // other ports: another identity
  add(st, named);
  const auto second = compile(st, {.previous_identities = &first.identities});
  EXPECT_EQ(second.identity_of(ip("198.19.0.1")), first.identity_of(ip("198.19.0.1")));
  EXPECT_EQ(second.identity_of(ip("198.19.0.4")), first.identity_of(ip("198.19.0.4")));
  EXPECT_NE(second.identity_of(ip("198.19.0.6")), second.identity_of(ip("198.19.0.1")));
  EXPECT_EQ(second.identities.size(), 4U);
  std::set<std::uint32_t> numbers;
  for (const auto& [key, number] : second.identities) {
    EXPECT_GE(number, 1U);
    EXPECT_TRUE(numbers.insert(number).second) << "number given twice: " << number;
  }
  // A contested address has no identity.
  add(st, pod("z", "stale", {"198.19.0.1"}, {{"app", "a"}}));
  const auto third = compile(st, {.previous_identities = &second.identities});
  EXPECT_EQ(third.identity_of(ip("198.19.0.1")), 0U);
  EXPECT_EQ(third.identity_of(ip("198.19.0.2")), second.identity_of(ip("198.19.0.2")));
}

// More identities than numbers: the pods left without one are peers by address, with the
// same verdicts.
TEST(PolicyCompiler, PodsBeyondTheLastIdentityArePeersByAddress) {
  ClusterState st;
  for (int i = 0; i < 6; ++i) {
    const std::string address = fmt::format("198.19.0.{}", i + 1);
    add(st, pod("x", fmt::format("p{}", i), {address.c_str()},
                {{"app", fmt::format("a{}", i)}, {"role", "client"}}));
  }
  add(st, pod("x", "server", {"198.19.0.100"}, {{"role", "server"}}));
  NetworkPolicy allow;
  allow.namespace_name = "x";
  allow.name = "clients";
  allow.pod_selector = select("role", "server");
  PolicyRule rule;
  rule.peers.push_back(PolicyPeer{select("role", "client"), std::nullopt, std::nullopt});
  rule.ports.push_back(PolicyPort{Protocol::kTcp, 80, "", std::nullopt});
  allow.ingress.push_back(rule);
  add(st, allow);
  const auto node = compile(st, {.max_identity = 3});
  EXPECT_EQ(node.identities.size(), 3U);
  const auto& peers = node.groups.at(0).rules.ports.at(0).peers;
  EXPECT_EQ(peers.identities.size() + peers.addresses.interval_count(), 4U)
      << "three numbered identities (one of them the server's) and the rest as addresses";
  for (int i = 0; i < 6; ++i) {
    const std::string address = fmt::format("198.19.0.{}", i + 1);
    const auto client = ip(address.c_str());
    EXPECT_EQ(node.ingress(ip("198.19.0.100"), client, Protocol::kTcp, 80), V::kAllow) << i;
    EXPECT_EQ(node.ingress(ip("198.19.0.100"), client, Protocol::kTcp, 81), V::kDeny) << i;
  }
  EXPECT_EQ(node.ingress(ip("198.19.0.100"), ip("198.19.0.7"), Protocol::kTcp, 80), V::kDeny);
}

}  // namespace
}  // namespace weft::policy
