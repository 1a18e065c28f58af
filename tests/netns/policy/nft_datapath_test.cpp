// The nftables program of policy/nft_program.hpp on a real kernel: a bridge "weft" in a host
// namespace, local pods on vethwc* ports, a remote pod behind a tunnel-like port, real
// TCP/UDP probes in both families. Proves allow/deny per direction, replies of allowed
// connections (conntrack), fail-closed for a local pod the program does not know yet,
// IPv6 neighbour discovery under deny-all, and the blocked counters.
#include <map>

#include <gtest/gtest.h>

#include "common/nft.hpp"
#include "policy/bridge_netfilter.hpp"
#include "policy/compiler.hpp"
#include "policy/nft_counters.hpp"
#include "policy/nft_program.hpp"
#include "tests/support/netns_fixture.hpp"
#include "tests/support/process.hpp"
#include "tests/support/weft_lab.hpp"

namespace weft::policy {
namespace {

using test::ChildProcess;
using test::ScopedNetns;

struct PodNs {
  std::string key;
  std::string port;  // host-side veth
  std::string v4;
  std::string v6;
  Labels labels;
  std::string ns;
  std::unique_ptr<ScopedNetns> netns;
  std::optional<ChildProcess> server;
};

class NftDatapath : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) {
      GTEST_SKIP() << "netns tests need root";
    }
    ASSERT_TRUE(host_.ok()) << host_.error();
    ASSERT_TRUE(host_
                    .run("ip link add weft type bridge && ip link set weft up && "
                         "ip link set weft type bridge nf_call_iptables 1 nf_call_ip6tables 1")
                    .ok());
  }

  PodNs& add_pod(const std::string& ns, const std::string& name, int n, std::string port,
                 Labels labels) {
    auto pod = std::make_unique<PodNs>();
    pod->key = ns + "/" + name;
    pod->ns = ns;
    pod->port = port;
    pod->v4 = fmt::format("198.19.0.{}", n);
    pod->v6 = fmt::format("fd00:19::{}", n);
    pod->labels = std::move(labels);
    pod->netns = std::make_unique<ScopedNetns>();
    EXPECT_TRUE(pod->netns->ok());
    const std::string& pn = pod->netns->name();
    EXPECT_TRUE(host_
                    .run(fmt::format("ip link add {} type veth peer name eth0 netns {} && ip link "
                                     "set {} master weft up",
                                     port, pn, port))
                    .ok());
    EXPECT_TRUE(pod->netns
                    ->run(fmt::format("ip link set lo up && ip link set eth0 up && ip addr add "
                                      "{}/24 dev eth0 && ip addr add {}/64 dev eth0 nodad",
                                      pod->v4, pod->v6))
                    .ok());
    const std::string log = fmt::format("{}/probe-{}.log", ::testing::TempDir(), pn);
    auto server = ChildProcess::spawn(
        {test::weft_test_dir() + "/weft-probe", "serve", "--tcp", "80,81", "--udp", "80,81"},
        {.netns = pn, .log_path = log, .env = {}});
    EXPECT_TRUE(server) << server.error().message;
    if (server) {
      pod->server.emplace(std::move(*server));
    }
    pods_.push_back(std::move(pod));
    return *pods_.back();
  }

  // "ok", "blocked", ... for one probe from `from` to `to`.
  std::string probe(const PodNs& from, const PodNs& to, const char* proto, int port,
                    bool v6 = false) {
    const std::string target = v6 ? fmt::format("{}:[{}]:{}", proto, to.v6, port)
                                  : fmt::format("{}:{}:{}", proto, to.v4, port);
    auto r = from.netns->run(
        fmt::format("{}/weft-probe connect --timeout-ms 400 {}", test::weft_test_dir(), target));
    const auto space = r.out.rfind(' ');
    if (!r.ok() || space == std::string::npos) {
      return "error";
    }
    return r.out.substr(space + 1, r.out.find('\n', space) - space - 1);
  }

  void apply(const ClusterState& st) {
    const auto node = compile(st, {.is_local = [](const Pod& p) {
                                return p.node_name == "n1";
                              }});
    const std::string script = render_program(node, NftOptions{});
    auto applied = run_in_netns(host_.netns(), [&] { return nft_run(script); });
    ASSERT_TRUE(applied) << applied.error().message << "\n" << script;
  }

  Pod as_pod(const PodNs& p, const std::string& node) {
    Pod pod;
    pod.namespace_name = p.ns;
    pod.name = p.key.substr(p.key.find('/') + 1);
    pod.labels = p.labels;
    pod.node_name = node;
    pod.addresses = {*parse_ip_address(p.v4), *parse_ip_address(p.v6)};
    return pod;
  }

  ScopedNetns host_;
  std::vector<std::unique_ptr<PodNs>> pods_;
};

TEST_F(NftDatapath, EnforcesBothDirectionsFailsClosedAndCounts) {
  PodNs& a = add_pod("x", "a", 1, "vethwc1", {{"pod", "a"}});
  PodNs& b = add_pod("x", "b", 2, "vethwc2", {{"pod", "b"}});
  PodNs& c = add_pod("y", "c", 3, "vethwc3", {{"pod", "c"}});
  PodNs& remote = add_pod("z", "r", 9, "weft-vx4", {{"pod", "r"}});  // behind the tunnel port
  PodNs& fresh = add_pod("x", "new", 4, "vethwc4", {{"pod", "new"}});
  for (const auto& p : pods_) {
    ASSERT_TRUE(p->server);
  }
  ASSERT_TRUE(
      test::wait_until([&] { return probe(a, b, "TCP", 80) == "ok"; }, std::chrono::seconds(5)));

  ClusterState st;
  for (const char* ns : {"x", "y", "z"}) {
    st.namespaces[ns] = Namespace{ns, {{"ns", ns}}};
  }
  for (PodNs* p : {&a, &b, &c}) {
    Pod pod = as_pod(*p, "n1");
    st.pods[pod.key()] = pod;
  }
  Pod r = as_pod(remote, "n2");
  st.pods[r.key()] = r;
  // x/a: ingress from pod=b on TCP 80 only. x/b: egress to pod=a only.
  NetworkPolicy np1;
  np1.namespace_name = "x";
  np1.name = "a-from-b";
  np1.pod_selector.requirements = {{"pod", LabelRequirement::Op::kIn, {"a"}}};
  PolicyRule from_b;
  from_b.peers.push_back(PolicyPeer{LabelSelector{{{"pod", LabelRequirement::Op::kIn, {"b"}}}},
                                    std::nullopt, std::nullopt});
  from_b.ports.push_back(PolicyPort{Protocol::kTcp, 80, "", std::nullopt});
  np1.ingress.push_back(from_b);
  st.policies[np1.key()] = np1;
  NetworkPolicy np2;
  np2.namespace_name = "x";
  np2.name = "b-to-a";
  np2.pod_selector.requirements = {{"pod", LabelRequirement::Op::kIn, {"b"}}};
  np2.applies_to_ingress = false;
  np2.applies_to_egress = true;
  PolicyRule to_a;
  to_a.peers.push_back(PolicyPeer{LabelSelector{{{"pod", LabelRequirement::Op::kIn, {"a"}}}},
                                  std::nullopt, std::nullopt});
  np2.egress.push_back(to_a);
  st.policies[np2.key()] = np2;
  apply(st);

  for (bool v6 : {false, true}) {
    SCOPED_TRACE(v6 ? "IPv6" : "IPv4");
    EXPECT_EQ(probe(b, a, "TCP", 80, v6), "ok");
    EXPECT_EQ(probe(b, a, "TCP", 81, v6), "blocked");
    EXPECT_EQ(probe(b, a, "UDP", 80, v6), "blocked");
    EXPECT_EQ(probe(c, a, "TCP", 80, v6), "blocked");
    EXPECT_EQ(probe(remote, a, "TCP", 80, v6), "blocked");
    EXPECT_EQ(probe(a, b, "TCP", 81, v6), "ok");  // b's ingress is open; replies pass
    EXPECT_EQ(probe(a, remote, "UDP", 80, v6), "ok");
    EXPECT_EQ(probe(b, c, "TCP", 80, v6), "blocked");  // b's egress: only to a
    EXPECT_EQ(probe(b, remote, "UDP", 81, v6), "blocked");
    EXPECT_EQ(probe(c, remote, "TCP", 80, v6), "ok");
    // Fail closed: x/new is on a pod port but unknown to the program.
    EXPECT_EQ(probe(c, fresh, "TCP", 80, v6), "blocked");
    EXPECT_EQ(probe(fresh, remote, "TCP", 80, v6), "blocked");
  }

  // Once classified (no policy selects x/new), it is open.
  Pod classified = as_pod(fresh, "n1");
  st.pods[classified.key()] = classified;
  apply(st);
  EXPECT_EQ(probe(c, fresh, "TCP", 80), "ok");
  EXPECT_EQ(probe(fresh, remote, "UDP", 80, true), "ok");
  EXPECT_EQ(probe(c, a, "TCP", 80), "blocked");

  auto counters = run_in_netns(host_.netns(), [] {
    return nft_query("list counter inet weft_npc blocked_ingress_tcp", false);
  });
  ASSERT_TRUE(counters) << counters.error().message;
  EXPECT_EQ(counters->find("packets 0 "), std::string::npos) << *counters;
  // The counters as weft-npc reads them (nfnetlink, policy/nft_counters.hpp): the same.
  auto read = run_in_netns(host_.netns(), [] { return read_counters("weft_npc"); });
  ASSERT_TRUE(read) << read.error().message;
  EXPECT_EQ(read->size(), 8U);
  ASSERT_TRUE(read->contains("blocked_ingress_tcp"));
  EXPECT_NE(counters->find(fmt::format("packets {} ", read->at("blocked_ingress_tcp"))),
            std::string::npos)
      << *counters;
  auto missing = run_in_netns(host_.netns(), [] { return read_counters("no_such_table"); });
  ASSERT_TRUE(missing) << missing.error().message;
  EXPECT_TRUE(missing->empty());
}

}  // namespace
}  // namespace weft::policy
