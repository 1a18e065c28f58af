// weft-npc end to end, in network namespaces: two hosts running weftd, the model's nine pods
// (tests/data/netpol: namespaces x, y, z; pods a, b, c) attached by weft-cni — x/* and z/a on
// h1, y/* and z/b, z/c on h2, so that probes cross hosts and stay on one — a weft-npc process
// on each host against the fake API server (TLS, token), and real probes (weft-probe: TCP and
// UDP connects to servers on 80 and 81 in every pod; SCTP where the kernel has it) for every
// ordered pod pair, in both families.
//
// - NetpolE2eNetns/<case>: the cases of tests/data/netpol/quick.txt, every step; after each
//   step the measured 9x9 matrix must converge to the expected one.
// - NpcFaults: a pod's address reused by a pod of another namespace; the API server restarted
//   with its history compacted (410 Gone mid-watch); weft-npc killed (-9) and restarted; an
//   admin's `nft flush ruleset` — rules stay where they must, then converge; weftd's
//   report (the status page's data) shows each node's weft-npc, the other node's by gossip,
//   and a killed weft-npc as not running.
#include <fstream>
#include <future>
#include <sstream>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include "common/http_client.hpp"
#include "tests/support/cni_lab.hpp"
#include "tests/support/coro.hpp"
#include "tests/support/fake_apiserver.hpp"
#include "tests/support/policy/netpol_cases.hpp"
#include "tests/support/weft_lab.hpp"
#include <sched.h>

namespace weft::policy {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using test::kNetpolPods;

// An io_context running on a thread inside a network namespace: every socket made on it (the
// fake API server's listener, its connections) belongs to that namespace.
class NetnsIo {
 public:
  explicit NetnsIo(const Netns& ns) : guard_(io_.get_executor()) {
    std::promise<bool> joined;
    auto ready = joined.get_future();
    thread_ = std::thread([this, fd = ns.fd(), &joined] {
      joined.set_value(::setns(fd, CLONE_NEWNET) == 0);
      io_.run();
    });
    ok_ = ready.get();
  }
  ~NetnsIo() {
    guard_.reset();
    io_.stop();
    thread_.join();
  }
  bool ok() const { return ok_; }
  boost::asio::io_context& io() { return io_; }
  // Runs `f` on the thread and waits for its result.
  template <class F>
  auto call(F f) -> decltype(f()) {
    std::promise<decltype(f())> result;
    boost::asio::post(io_, [&] { result.set_value(f()); });
    return result.get_future().get();
  }
  void await(boost::asio::awaitable<void> task) {
    std::promise<void> done;
    boost::asio::co_spawn(io_, std::move(task),
                          [&](const std::exception_ptr&) { done.set_value(); });
    done.get_future().get();
  }

 private:
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_;
  std::thread thread_;
  bool ok_ = false;
};

struct PodNs {
  std::string key;
  std::string host;
  std::unique_ptr<test::ScopedNetns> netns;
  std::map<IpFamily, IpAddress> addresses;
  std::optional<test::ChildProcess> server;
};

class NpcNetns : public ::testing::Test {
 protected:
  void SetUp() override {
    WEFT_REQUIRE_ROOT();
    ASSERT_EQ(lab_.error(), "");
    ASSERT_NO_FATAL_FAILURE(start_hosts());
    io_ = std::make_unique<NetnsIo>(lab_.host("h1").ns().netns());
    ASSERT_TRUE(io_->ok());
    ASSERT_NO_FATAL_FAILURE(start_api());
    ASSERT_NO_FATAL_FAILURE(make_pods());
    for (const char* h : {"h1", "h2"}) {
      ASSERT_NO_FATAL_FAILURE(start_npc(h));
    }
    ASSERT_NO_FATAL_FAILURE(wait_synced());
  }
  void TearDown() override {
    npc_.clear();
    if (io_ && server_) {
      io_->await(server_->stop());
    }
    for (auto& p : pods_) {
      p.server.reset();
    }
  }

  void start_hosts() {
    for (int h = 1; h <= 2; ++h) {
      ASSERT_TRUE(lab_.add_host(fmt::format("h{}", h), {fmt::format("198.18.0.{}/24", h)}));
    }
    for (int h = 1; h <= 2; ++h) {
      std::vector<std::string> args = {"--no-discovery",  "--ipalloc-range", "198.19.0.0/16",
                                       "--ipalloc-range", "fd00:19::/112",   "--ipalloc-init",
                                       "consensus=2"};
      if (h > 1) {
        args.emplace_back("198.18.0.1");
      }
      ASSERT_TRUE(lab_.host(fmt::format("h{}", h)).start_weftd(args));
    }
    const std::string gap = test::eventually(
        [&] {
          for (const char* h : {"h1", "h2"}) {
            if (auto g = test::cni_host_gap(lab_.host(h)); !g.empty()) {
              return g;
            }
          }
          return std::string();
        },
        40s);
    ASSERT_EQ(gap, "") << lab_.logs();
  }

  void start_api() {
    test::FakeApiServerOptions o;
    o.address = "0.0.0.0";
    o.bookmark_interval = 1s;
    auto server =
        io_->call([&] { return test::FakeApiServer::create(io_->io().get_executor(), o); });
    ASSERT_TRUE(server) << server.error().message;
    server_ = std::move(*server);
    ASSERT_TRUE(io_->call([&] { return server_->start(); }));
    write_kubeconfig();
  }
  // The fake's certificate names localhost: the hosts reach it at h1's underlay address and
  // check the name given by tls-server-name.
  void write_kubeconfig() {
    std::string text = server_->kubeconfig();
    const std::string from = fmt::format("https://0.0.0.0:{}", server_->port());
    const auto at = text.find(from);
    ASSERT_NE(at, std::string::npos) << text;
    text.replace(
        at, from.size(),
        fmt::format("https://198.18.0.1:{}\n    tls-server-name: localhost", server_->port()));
    kubeconfig_ = lab_.dir() + "/npc-kubeconfig";
    std::ofstream(kubeconfig_) << text;
  }

  // The model's namespaces and pods, in the API and as network namespaces with addresses
  // from weft-cni and probe servers.
  void make_pods() {
    auto model = test::load_netpol_model();
    ASSERT_TRUE(model) << model.error().message;
    model_ = *model;
    for (const json& object : model_) {
      if (object["kind"] == "Namespace") {
        ASSERT_TRUE(api_create("namespaces", object));
      }
    }
    for (const json& object : model_) {
      if (object["kind"] != "Pod") {
        continue;
      }
      PodNs pod;
      pod.key = object["metadata"]["namespace"].get<std::string>() + "/" +
                object["metadata"]["name"].get<std::string>();
      pod.host = (pod.key.starts_with("x/") || pod.key == "z/a") ? "h1" : "h2";
      pod.netns = std::make_unique<test::ScopedNetns>();
      ASSERT_TRUE(pod.netns->ok());
      const std::string id = "npc-" + pod.key.substr(0, 1) + pod.key.substr(2);
      auto add =
          test::call_cni(lab_.host(pod.host).netns(), lab_.dir(), {"ADD", id, pod.netns->path()},
                         test::weft_config(lab_.host(pod.host)));
      ASSERT_TRUE(add.ok()) << add.raw << lab_.logs();
      json status = {{"phase", "Running"}, {"podIPs", json::array()}};
      for (const auto& entry : add.out["ips"]) {
        const std::string a = entry["address"].get<std::string>();
        const IpAddress address = *parse_ip_address(a.substr(0, a.find('/')));
        pod.addresses[address.family()] = address;
        status["podIPs"].push_back({{"ip", address.to_string()}});
      }
      status["podIP"] = status["podIPs"][0]["ip"];
      ASSERT_EQ(pod.addresses.size(), 2u) << add.raw;
      auto server =
          test::ChildProcess::spawn({test::weft_test_dir() + "/weft-probe", "serve", "--tcp",
                                     "80,81", "--udp", "80,81", "--sctp", "80,81"},
                                    {.netns = pod.netns->name(),
                                     .log_path = lab_.dir() + "/probe-" + id + ".log",
                                     .env = {}});
      ASSERT_TRUE(server) << server.error().message;
      pod.server.emplace(std::move(*server));
      json p = object;
      p["spec"]["nodeName"] = pod.host;
      ASSERT_TRUE(api_create("pods", p));
      auto created = api_get("pods", p["metadata"]["namespace"], p["metadata"]["name"]);
      ASSERT_TRUE(created);
      (*created)["status"] = status;
      ASSERT_TRUE(io_->call([&] { return server_->update_status("pods", *created); }));
      pods_.push_back(std::move(pod));
    }
    std::sort(pods_.begin(), pods_.end(), [](const PodNs& a, const PodNs& b) {
      return std::find(kNetpolPods.begin(), kNetpolPods.end(), a.key) <
             std::find(kNetpolPods.begin(), kNetpolPods.end(), b.key);
    });
  }

  void start_npc(const std::string& host) {
    auto npc = test::ChildProcess::spawn(
        {test::weft_bin_dir() + "/weft-npc", "--kubeconfig", kubeconfig_, "--node-name", host,
         "--verify-interval", "1s", "--log-level", "info"},
        {.netns = lab_.host(host).netns(),
         .log_path = lab_.dir() + "/weft-npc-" + host + ".log",
         .env = {}});
    ASSERT_TRUE(npc) << npc.error().message;
    npc_[host].emplace(std::move(*npc));
  }

  // weft-npc's /status on a host.
  json npc_status(const std::string& host) {
    auto ns = Netns::open_name(lab_.host(host).netns());
    if (!ns) {
      return nullptr;
    }
    auto body = run_in_netns(*ns, [&]() -> Result<json> {
      boost::asio::io_context io;
      HttpClientOptions options;
      options.timeout = 2s;
      HttpClient client(io.get_executor(), options);
      return test::run(io, client.get_json("127.0.0.1:6781", "/status"));
    });
    return body ? *body : json(nullptr);
  }

  void wait_synced() {
    const std::string gap = test::eventually(
        [&] {
          for (const char* h : {"h1", "h2"}) {
            json s = npc_status(h);
            if (!s.is_object() || s["synced"] != true) {
              return fmt::format("{}: weft-npc not synced: {}", h, s.dump());
            }
          }
          return std::string();
        },
        20s);
    ASSERT_EQ(gap, "") << npc_logs();
  }

  std::string npc_logs() {
    std::string out;
    for (const char* h : {"h1", "h2"}) {
      test::CommandResult r =
          test::run_command(fmt::format("tail -n 30 {}/weft-npc-{}.log", lab_.dir(), h));
      out += fmt::format("--- weft-npc {}\n{}", h, r.out);
    }
    return out;
  }

  Result<json> api_create(const std::string& resource, const json& object) {
    return io_->call([&] { return server_->create(resource, object); });
  }
  Result<json> api_get(const std::string& resource, const std::string& ns,
                       const std::string& name) {
    return io_->call([&] { return server_->get(resource, ns, name); });
  }

  // Plays one step's operations against the API server.
  void apply(const std::vector<test::NetpolOperation>& ops) {
    for (const auto& op : ops) {
      const json& o = op.object;
      switch (op.kind) {
        case test::NetpolOperation::Kind::kCreate:
          ASSERT_TRUE(api_create("networkpolicies", o)) << o.dump();
          break;
        case test::NetpolOperation::Kind::kReplace: {
          auto current =
              api_get("networkpolicies", o["metadata"]["namespace"], o["metadata"]["name"]);
          ASSERT_TRUE(current);
          json next = o;
          next["metadata"]["resourceVersion"] = (*current)["metadata"]["resourceVersion"];
          ASSERT_TRUE(io_->call([&] { return server_->update("networkpolicies", next); }));
          break;
        }
        case test::NetpolOperation::Kind::kDelete:
          ASSERT_TRUE(io_->call([&] {
            return server_->remove("networkpolicies", o.value("namespace", ""),
                                   o.value("name", ""));
          }));
          break;
        case test::NetpolOperation::Kind::kLabel: {
          const std::string resource = o["kind"] == "Namespace" ? "namespaces" : "pods";
          ASSERT_TRUE(io_->call([&] {
            return server_->merge_patch(resource, o.value("namespace", ""), o.value("name", ""),
                                        {{"metadata", {{"labels", op.labels}}}});
          }));
          break;
        }
      }
    }
  }

  // Every policy deleted, every label back to the model's.
  void reset() {
    for (const json& p : io_->call([&] { return server_->list("networkpolicies"); })) {
      ASSERT_TRUE(io_->call([&] {
        return server_->remove("networkpolicies", p["metadata"]["namespace"],
                               p["metadata"]["name"]);
      }));
    }
    for (const json& object : model_) {
      const bool pod = object["kind"] == "Pod";
      const std::string resource = pod ? "pods" : "namespaces";
      const std::string ns = pod ? object["metadata"]["namespace"].get<std::string>() : "";
      const std::string name = object["metadata"]["name"];
      auto current = api_get(resource, ns, name);
      ASSERT_TRUE(current);
      json labels = object["metadata"]["labels"];
      for (const auto& [k, v] : (*current)["metadata"]["labels"].items()) {
        if (!labels.contains(k)) {
          labels[k] = nullptr;
        }
      }
      ASSERT_TRUE(io_->call([&] {
        return server_->merge_patch(resource, ns, name, {{"metadata", {{"labels", labels}}}});
      }));
    }
  }

  // The measured matrix for one probe: rows sources, columns destinations, '.' connected,
  // 'X' not; '?' where the protocol is unavailable in this kernel.
  std::string measure(policy::Protocol protocol, std::uint16_t port, IpFamily family) {
    std::vector<std::future<std::string>> rows;
    for (const PodNs& src : pods_) {
      rows.push_back(std::async(std::launch::async, [&, family] {
        std::string cmd =
            fmt::format("{}/weft-probe connect --timeout-ms 400", test::weft_test_dir());
        for (const PodNs& dst : pods_) {
          const IpAddress& a = dst.addresses.at(family);
          cmd += a.is_v6() ? fmt::format(" {}:[{}]:{}", to_string(protocol), a, port)
                           : fmt::format(" {}:{}:{}", to_string(protocol), a, port);
        }
        auto r = src.netns->run(cmd);
        std::string row;
        std::istringstream lines(r.out);
        std::string line;
        while (std::getline(lines, line)) {
          const std::string verdict = line.substr(line.rfind(' ') + 1);
          row += verdict == "ok" ? '.' : verdict == "unavailable" ? '?' : 'X';
        }
        return row;
      }));
    }
    std::string out;
    for (auto& r : rows) {
      out += r.get() + "\n";
    }
    return out;
  }

  test::WeftLab lab_;
  std::unique_ptr<NetnsIo> io_;
  std::unique_ptr<test::FakeApiServer> server_;
  std::string kubeconfig_;
  std::vector<json> model_;
  std::vector<PodNs> pods_;
  std::map<std::string, std::optional<test::ChildProcess>> npc_;
};

// The expected matrix with '?' wherever the measured one says the protocol is unavailable.
std::string expected(const test::NetpolProbe& probe, const std::string& measured) {
  std::string out;
  for (std::size_t r = 0; r < 9; ++r) {
    for (std::size_t c = 0; c < 9; ++c) {
      const std::size_t at = r * 10 + c;
      out += at < measured.size() && measured[at] == '?' ? '?' : probe.rows[r][c];
    }
    out += "\n";
  }
  return out;
}

class NetpolE2eNetns : public NpcNetns, public ::testing::WithParamInterface<std::string> {};

TEST_P(NetpolE2eNetns, ProbesConvergeToTheExpectedReachability) {
  auto c = test::load_netpol_case(GetParam());
  ASSERT_TRUE(c) << c.error().message;
  std::size_t unavailable = 0;
  for (IpFamily family : c->families) {
    SCOPED_TRACE(family_name(family));
    ASSERT_NO_FATAL_FAILURE(reset());
    std::map<std::string, IpAddress> addresses;
    for (const PodNs& p : pods_) {
      addresses[p.key] = p.addresses.at(family);
    }
    test::NetpolWorld world(model_, family, addresses);
    for (std::size_t s = 0; s < c->steps.size(); ++s) {
      SCOPED_TRACE(fmt::format("step {}: {}", s + 1, c->steps[s].description));
      auto ops = world.step(c->steps[s]);
      ASSERT_TRUE(ops) << ops.error().message;
      ASSERT_NO_FATAL_FAILURE(apply(*ops));
      for (const auto& probe : c->steps[s].probes) {
        std::string got;
        std::string want;
        const std::string gap = test::eventually(
            [&] {
              got = measure(probe.protocol, probe.port, family);
              want = expected(probe, got);
              return got == want ? std::string() : std::string("differs");
            },
            20s);
        unavailable += static_cast<std::size_t>(std::count(got.begin(), got.end(), '?'));
        EXPECT_EQ(got, want) << to_string(probe.protocol) << " " << probe.port
                             << " (rows: sources x/a..z/c, columns: destinations)\n"
                             << npc_logs();
      }
    }
  }
  if (unavailable > 0) {
    std::printf("note: %zu probes skipped: the kernel has no SCTP sockets\n", unavailable);
  }
}

INSTANTIATE_TEST_SUITE_P(Quick, NetpolE2eNetns, ::testing::ValuesIn(test::netpol_quick_files()),
                         [](const ::testing::TestParamInfo<std::string>& param) {
                           return test::netpol_test_name(param.param);
                         });

}  // namespace
}  // namespace weft::policy

namespace weft::policy {
namespace {

json deny_ingress(const std::string& ns) {
  return {{"apiVersion", "networking.k8s.io/v1"},
          {"kind", "NetworkPolicy"},
          {"metadata", {{"name", "deny-ingress"}, {"namespace", ns}}},
          {"spec", {{"podSelector", json::object()}, {"policyTypes", {"Ingress"}}}}};
}

class NpcFaults : public NpcNetns {
 protected:
  const PodNs& pod(const std::string& key) {
    return *std::find_if(pods_.begin(), pods_.end(), [&](const PodNs& p) { return p.key == key; });
  }
  // One TCP probe on port 80 from `src` to `dst` (IPv4): "ok" or "blocked".
  std::string probe(const std::string& src, const std::string& dst,
                    IpFamily family = IpFamily::kV4) {
    const IpAddress& a = pod(dst).addresses.at(family);
    auto r = pod(src).netns->run(
        fmt::format("{}/weft-probe connect --timeout-ms 400 {}", test::weft_test_dir(),
                    a.is_v6() ? fmt::format("TCP:[{}]:80", a) : fmt::format("TCP:{}:80", a)));
    return r.out.substr(r.out.rfind(' ') + 1, r.out.find('\n') - r.out.rfind(' ') - 1);
  }
  void expect_within(const std::string& src, const std::string& dst, const std::string& want,
                     std::chrono::milliseconds limit = 15s) {
    const std::string gap = test::eventually(
        [&] { return probe(src, dst) == want ? std::string() : "not yet " + want; }, limit);
    ASSERT_EQ(gap, "") << src << " -> " << dst << "\n" << npc_logs();
  }
};

TEST_F(NpcFaults, ReusedAddressNeverCarriesTheOldPodsRules) {
  ASSERT_TRUE(api_create("networkpolicies", deny_ingress("x")));
  ASSERT_NO_FATAL_FAILURE(expect_within("y/a", "x/b", "blocked"));
  // A pod of namespace y (no policies) gets x/b's addresses while x/b's object still exists
  // (a stale state): the address belongs to neither, nothing passes.
  json reuse = model_.back();
  for (const json& o : model_) {
    if (o["kind"] == "Pod" && o["metadata"]["namespace"] == "x" && o["metadata"]["name"] == "b") {
      reuse = o;
    }
  }
  reuse["metadata"]["namespace"] = "y";
  reuse["metadata"]["name"] = "reuse";
  reuse["spec"]["nodeName"] = "h1";
  ASSERT_TRUE(api_create("pods", reuse));
  auto created = api_get("pods", "y", "reuse");
  ASSERT_TRUE(created);
  json status = {{"phase", "Running"}, {"podIPs", json::array()}};
  for (const auto& [family, address] : pod("x/b").addresses) {
    status["podIPs"].push_back({{"ip", address.to_string()}});
  }
  status["podIP"] = status["podIPs"][0]["ip"];
  (*created)["status"] = status;
  ASSERT_TRUE(io_->call([&] { return server_->update_status("pods", *created); }));
  ASSERT_NO_FATAL_FAILURE(expect_within("y/a", "x/b", "blocked"));
  ASSERT_NO_FATAL_FAILURE(expect_within("x/b", "y/a", "blocked"));
  // The old pod goes: the address is y/reuse's, unrestricted.
  ASSERT_TRUE(io_->call([&] { return server_->remove("pods", "x", "b"); }));
  ASSERT_NO_FATAL_FAILURE(expect_within("y/a", "x/b", "ok"));
  ASSERT_NO_FATAL_FAILURE(expect_within("x/b", "y/a", "ok"));
}

TEST_F(NpcFaults, ApiServerRestartWithCompactionKeepsRulesThenConverges) {
  ASSERT_TRUE(api_create("networkpolicies", deny_ingress("x")));
  ASSERT_NO_FATAL_FAILURE(expect_within("y/a", "x/a", "blocked"));
  io_->await(server_->stop());
  ASSERT_TRUE(io_->call([&] { return server_->remove("networkpolicies", "x", "deny-ingress"); }));
  ASSERT_TRUE(io_->call([&] { return server_->create("networkpolicies", deny_ingress("y")); }));
  io_->call([&] {
    server_->compact();
    return 0;
  });
  // While the API server is away, the installed rules stay.
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(probe("y/a", "x/a"), "blocked");
    EXPECT_EQ(probe("x/a", "y/b"), "ok");
  }
  auto restarted = io_->call([&] { return server_->start(); });
  ASSERT_TRUE(restarted) << restarted.error().message
                         << test::run_in_netns(lab_.host("h1").netns(), "ss -tanp").out;
  ASSERT_NO_FATAL_FAILURE(expect_within("y/a", "x/a", "ok"));
  ASSERT_NO_FATAL_FAILURE(expect_within("x/a", "y/b", "blocked"));
  json s = npc_status("h1");
  std::uint64_t gone = 0;
  for (const auto& r : s["resources"]) {
    gone += r.value("relists_gone", std::uint64_t{0});
  }
  EXPECT_GT(gone, 0u) << s.dump();
}

TEST_F(NpcFaults, KillNineAndRestartLeaveNoAllowWindow) {
  ASSERT_TRUE(api_create("networkpolicies", deny_ingress("x")));
  ASSERT_NO_FATAL_FAILURE(expect_within("y/a", "x/a", "blocked"));
  npc_["h1"]->kill_now();
  npc_["h1"].reset();
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(probe("y/a", "x/a"), "blocked");
  }
  ASSERT_NO_FATAL_FAILURE(start_npc("h1"));
  // Probing all through the restart: never let through.
  const auto until = std::chrono::steady_clock::now() + 4s;
  while (std::chrono::steady_clock::now() < until) {
    ASSERT_EQ(probe("y/a", "x/a"), "blocked");
  }
  ASSERT_NO_FATAL_FAILURE(wait_synced());
  EXPECT_EQ(probe("y/a", "x/a"), "blocked");
  EXPECT_EQ(probe("x/a", "y/a"), "ok");
}

TEST_F(NpcFaults, AdminFlushIsHealed) {
  ASSERT_TRUE(api_create("networkpolicies", deny_ingress("x")));
  ASSERT_NO_FATAL_FAILURE(expect_within("y/a", "x/a", "blocked"));
  ASSERT_TRUE(test::run_in_netns(lab_.host("h1").netns(), "nft flush ruleset").ok());
  // verify-interval is 1 s: healed within a few.
  ASSERT_NO_FATAL_FAILURE(expect_within("y/a", "x/a", "blocked", 5s));
  json s = npc_status("h1");
  EXPECT_GE(s.value("heals", 0), 1) << s.dump();
}

// The "policy" object of a node's peer entry in `host`'s weftd report (null when absent).
json peer_policy(test::WeftHost& host, const std::string& nickname) {
  json r = host.report();
  if (!r.is_object()) {
    return nullptr;
  }
  for (const json& p : r["router"]["peers"]) {
    if (p.value("nickname", "") == nickname) {
      return p.value("policy", json(nullptr));
    }
  }
  return nullptr;
}

TEST_F(NpcFaults, WeftdReportsEachNodesPolicySummary) {
  ASSERT_TRUE(api_create("networkpolicies", deny_ingress("x")));
  ASSERT_NO_FATAL_FAILURE(expect_within("y/a", "x/a", "blocked"));
  // x/* are on h1: h1's weft-npc isolates them and logs the blocked connection; h2's weftd
  // shows it by gossip, h1's own report at "policy".
  std::string gap = test::eventually(
      [&] {
        json p = peer_policy(lab_.host("h2"), "h1");
        // The TCP probe's block is counted; the recent lines may be others (the pods'
        // own IPv6 multicast is logged too), but there are some, newest first.
        const bool ok = p.is_object() && p["state"] == "running" && p["policies"] == 1 &&
                        p["isolated_pods"]["ingress"] == 3 &&
                        p["blocked"]["ingress"]["tcp"].get<std::uint64_t>() >= 1 &&
                        !p["recent_blocks"].empty() &&
                        p["recent_blocks"][0]["line"].get<std::string>().starts_with("blocked ");
        return ok ? std::string() : "h1 as h2 sees it: " + p.dump();
      },
      20s);
  ASSERT_EQ(gap, "") << npc_logs() << lab_.logs();
  json own = lab_.host("h1").report()["policy"];
  EXPECT_EQ(own["state"], "running") << own.dump();
  EXPECT_EQ(own["url"], "http://127.0.0.1:6781/status");
  EXPECT_EQ(own["isolated_pods"]["ingress"], 3) << own.dump();
  json h2 = peer_policy(lab_.host("h1"), "h2");
  EXPECT_EQ(h2["policies"], 1) << h2.dump();
  EXPECT_EQ(h2["isolated_pods"]["ingress"], 0) << h2.dump();

  npc_["h1"]->kill_now();
  npc_["h1"].reset();
  gap = test::eventually(
      [&] {
        json p = peer_policy(lab_.host("h2"), "h1");
        const bool ok = p.is_object() && p["state"] == "not running" && p["policies"] == 1 &&
                        p.contains("data_age_seconds");
        return ok ? std::string() : "h1 as h2 sees it: " + p.dump();
      },
      20s);
  ASSERT_EQ(gap, "") << lab_.logs();
}

}  // namespace
}  // namespace weft::policy
