// policy::Controller against the in-process fake API server (real TLS on loopback, real
// time with short intervals) and a recording ProgramWriter: what it writes and when —
// the empty fail-closed program on a fresh node, nothing replaced before every resource is
// listed (a restart keeps the old rules), only this node's pods, convergence after events,
// 410 Gone and API server restarts without dropping the rules, healing a removed program,
// retry after a refused write, and the pod-rules latency.
#include "policy/controller.hpp"

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include "tests/support/coro.hpp"
#include "tests/support/fake_apiserver.hpp"

namespace weft::policy {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

class RecordingWriter final : public ProgramWriter {
 public:
  Result<void> write(const std::string& script) override {
    if (refuse > 0) {
      --refuse;
      return make_error(Errc::kInvalidArgument, "refused for the test");
    }
    scripts.push_back(script);
    // The table the program is in: the one the last swap hooked.
    const auto hook = script.find(" filter_forward { type filter hook");
    if (hook != std::string::npos) {
      const auto start = script.rfind("add chain inet ", hook) + 15;
      table = script.substr(start, hook - start);
      present = true;
    }
    return {};
  }
  Result<std::optional<std::string>> installed() override {
    return present ? std::optional<std::string>(table) : std::nullopt;
  }
  Result<std::map<std::string, std::uint64_t>> counters(const std::string&) override {
    return std::map<std::string, std::uint64_t>{{"blocked_ingress_tcp", 3}};
  }
  // What the last write put in the kernel: a delta, or every script of a whole write (they
  // end with the swap that hooks the table).
  std::string last() const {
    if (scripts.back().find(" filter_forward { type filter hook") == std::string::npos) {
      return scripts.back();
    }
    std::size_t first = scripts.size() - 1;
    while (first > 0 && scripts[first - 1].find("add table inet ") == std::string::npos) {
      --first;
    }
    if (first > 0) {
      --first;  // the script that made the table
    }
    std::string out;
    for (std::size_t i = first; i < scripts.size(); ++i) {
      out += scripts[i];
    }
    return out;
  }

  std::vector<std::string> scripts;
  std::string table = "weft_npc";
  bool present = false;
  int refuse = 0;
};

json ns(const std::string& name) {
  return {{"metadata", {{"name", name}, {"labels", {{"team", name}}}}}};
}

json pod(const std::string& ns, const std::string& name, const std::string& node,
         const std::string& ip, const std::string& app) {
  return {{"metadata", {{"name", name}, {"namespace", ns}, {"labels", {{"app", app}}}}},
          {"spec", {{"nodeName", node}, {"containers", {{{"name", "c"}, {"image", "i"}}}}}},
          {"status", {{"phase", "Running"}, {"podIP", ip}, {"podIPs", {{{"ip", ip}}}}}}};
}

json deny_all(const std::string& ns, const std::string& name) {
  return {{"apiVersion", "networking.k8s.io/v1"},
          {"kind", "NetworkPolicy"},
          {"metadata", {{"name", name}, {"namespace", ns}}},
          {"spec", {{"podSelector", json::object()}, {"policyTypes", {"Ingress"}}}}};
}

class NpcController : public ::testing::Test {
 protected:
  void SetUp() override {
    test::FakeApiServerOptions o;
    o.bookmark_interval = 100ms;
    server_ = test::FakeApiServer::create(io_.get_executor(), o).value();
    ASSERT_TRUE(server_->start());
    client_ = kube::Client::open(io_.get_executor(), server_->kube_config()).value();
    ASSERT_TRUE(server_->create("namespaces", ns("x")));
  }
  void TearDown() override {
    if (controller_) {
      test::run(io_, controller_->stop());
    }
    test::run(io_, server_->stop());
  }
  void start() {
    ControllerOptions o;
    o.node_name = "n1";
    o.settle = 2ms;
    o.retry_after = 50ms;
    o.verify_interval = 100ms;
    o.resync_interval = 0s;
    o.manage_bridge = false;
    controller_ =
        std::make_unique<Controller>(io_.get_executor(), *client_, writer_, clock_, rng_, o);
    controller_->start();
  }
  bool run_until(const std::function<bool()>& done, std::chrono::milliseconds limit = 5s) {
    return test::run_until(io_, done, limit);
  }
  void create_pod(const std::string& name, const std::string& node, const std::string& ip,
                  const std::string& app = "web") {
    // Pods are created without status (as upstream); the kubelet's status update follows.
    json p = pod("x", name, node, ip, app);
    json status = p["status"];
    ASSERT_TRUE(server_->create("pods", p));
    auto created = server_->get("pods", "x", name);
    ASSERT_TRUE(created);
    (*created)["status"] = status;
    ASSERT_TRUE(server_->update_status("pods", *created));
  }

  boost::asio::io_context io_;
  std::unique_ptr<test::FakeApiServer> server_;
  std::unique_ptr<kube::Client> client_;
  SteadyClock clock_;
  SeededRng rng_{11};
  RecordingWriter writer_;
  std::unique_ptr<Controller> controller_;
};

TEST_F(NpcController, FreshNodeFailsClosedThenWritesThePolicies) {
  create_pod("a", "n1", "198.19.0.1");
  create_pod("b", "n2", "198.19.0.2");
  ASSERT_TRUE(server_->create("networkpolicies", deny_all("x", "deny")));
  start();
  // At start, before any list: the empty program (every local pod port blocked).
  ASSERT_FALSE(writer_.scripts.empty());
  EXPECT_EQ(writer_.scripts.front().find("198.19.0.1"), std::string::npos);
  ASSERT_TRUE(run_until([&] { return controller_->status().synced; }));
  EXPECT_EQ(controller_->status().local_pods, 1u);  // only n1's pod
  EXPECT_EQ(controller_->status().isolated_ingress, 1u);
  EXPECT_EQ(controller_->status().policies, 1u);
  EXPECT_NE(writer_.last().find("198.19.0.1 : goto g"), std::string::npos) << writer_.last();
  // The other node's pod is a peer (its identity), not a pod with rules here.
  EXPECT_NE(writer_.last().find("198.19.0.2 : 0x"), std::string::npos);
  EXPECT_EQ(writer_.last().find("198.19.0.2 : goto"), std::string::npos);
  EXPECT_EQ(writer_.last().find("198.19.0.2 : return"), std::string::npos);

  // A new local pod: written, and its latency measured.
  create_pod("c", "n1", "198.19.0.3");
  ASSERT_TRUE(
      run_until([&] { return writer_.last().find("198.19.0.3 : goto g") != std::string::npos; }));
  EXPECT_GE(controller_->status().pod_rules_count, 2u);
  EXPECT_LT(controller_->status().last_pod_rules_seconds, 2.0);

  // The policy goes: the pods become unrestricted (return in the verdict map).
  ASSERT_TRUE(server_->remove("networkpolicies", "x", "deny"));
  ASSERT_TRUE(run_until([&] { return controller_->status().isolated_ingress == 0; }));
  EXPECT_NE(writer_.last().find("198.19.0.1 : return"), std::string::npos);
}

TEST_F(NpcController, RestartKeepsTheInstalledProgramUntilSynced) {
  writer_.present = true;  // a previous weft-npc's program is in the kernel
  create_pod("a", "n1", "198.19.0.1");
  start();
  EXPECT_TRUE(writer_.scripts.empty());  // nothing replaced before the lists
  ASSERT_TRUE(run_until([&] { return controller_->status().synced; }));
  // One whole write, staged beside the old program and swapped in: the new table made and
  // filled, then hooked while the old one goes, in one transaction.
  ASSERT_EQ(writer_.scripts.size(), 3u);
  EXPECT_EQ(writer_.table, "weft_npc_b");
  EXPECT_EQ(writer_.scripts[0].find("filter_forward { type filter hook"), std::string::npos);
  EXPECT_NE(writer_.scripts[1].find("add element inet weft_npc_b ingress4"), std::string::npos);
  EXPECT_NE(writer_.scripts[2].find("delete table inet weft_npc\n"), std::string::npos);
  EXPECT_NE(controller_->active_table(), "weft_npc");
  // The old table's counters (3, from the recording writer) carried over to the new one's.
  auto counters = controller_->counters();
  ASSERT_TRUE(counters);
  EXPECT_EQ(counters->at("blocked_ingress_tcp"), 6u);
}

TEST_F(NpcController, GoneAndApiRestartsKeepRulesAndConverge) {
  create_pod("a", "n1", "198.19.0.1");
  ASSERT_TRUE(server_->create("networkpolicies", deny_all("x", "deny")));
  start();
  ASSERT_TRUE(run_until([&] { return controller_->status().isolated_ingress == 1; }));
  const std::size_t writes = writer_.scripts.size();
  // The API server goes away; while it is down, the policy changes and the history is
  // compacted, so the watches come back to 410 Gone and relist.
  test::run(io_, server_->stop());
  ASSERT_TRUE(server_->remove("networkpolicies", "x", "deny"));
  create_pod("b", "n1", "198.19.0.2");
  server_->compact();
  io_.restart();
  io_.run_for(200ms);
  EXPECT_EQ(writer_.scripts.size(), writes);  // no program written while away: rules stay
  ASSERT_TRUE(server_->start());
  ASSERT_TRUE(run_until([&] {
    return controller_->status().isolated_ingress == 0 && controller_->status().local_pods == 2;
  }));
  bool gone = false;
  for (const auto* r : controller_->reflectors()) {
    gone = gone || r->status().relists_gone > 0;
  }
  EXPECT_TRUE(gone);
  // No write in between took the local pod out of the verdict maps without putting it back
  // (never a state where it has no rules).
  for (std::size_t i = writes; i < writer_.scripts.size(); ++i) {
    const std::string& script = writer_.scripts[i];
    if (script.find("delete element inet weft_npc ingress4 { 198.19.0.1") != std::string::npos) {
      const auto added = script.find("add element inet weft_npc ingress4 {");
      ASSERT_NE(added, std::string::npos) << script;
      EXPECT_NE(script.find("198.19.0.1 : ", added), std::string::npos) << script;
    }
  }
}

TEST_F(NpcController, HealsARemovedProgramAndRetriesRefusedWrites) {
  create_pod("a", "n1", "198.19.0.1");
  start();
  ASSERT_TRUE(run_until([&] { return controller_->status().synced; }));
  writer_.present = false;  // an admin's `nft flush ruleset`
  ASSERT_TRUE(run_until([&] { return controller_->status().heals == 1 && writer_.present; }));
  EXPECT_NE(writer_.last().find("198.19.0.1 :"), std::string::npos);

  writer_.refuse = 2;
  ASSERT_TRUE(server_->create("networkpolicies", deny_all("x", "deny")));
  ASSERT_TRUE(run_until([&] { return controller_->status().isolated_ingress == 1; }));
  // The refused delta and the refused whole program are one failed sync; then it went in.
  EXPECT_EQ(controller_->status().write_failures, 1u);
  EXPECT_GE(controller_->status().full_writes, 3u);
}

}  // namespace
}  // namespace weft::policy
