// weftd polling a real HTTP endpoint for weft-npc's status (weftd/policy_service.hpp): an
// in-process HTTP server on a loopback port serves the body a test sets, a real Router on
// a simulated mesh carries the gossip channel. The summary follows what the endpoint does —
// a valid status, garbage, an HTTP error, nothing listening — and the report built from it
// has the "policy" object for this node and in its own peer entry.
#include "weftd/policy_service.hpp"

#include <memory>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <gtest/gtest.h>

#include "common/http_server.hpp"
#include "common/rng.hpp"
#include "tests/support/coro.hpp"
#include "tests/support/sim_transport.hpp"
#include "weftd/report.hpp"

namespace weft::weftd {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using nlohmann::json;

constexpr std::uint64_t kSelf = 0x0a0000000005;

json npc_body(std::uint64_t blocked) {
  json body = {{"node", "n1"},
               {"synced", true},
               {"policies", 2},
               {"local_pods", 3},
               {"isolated_pods", {{"ingress", 2}, {"egress", 0}}},
               {"blocked",
                {{"ingress", {{"tcp", blocked}, {"udp", 0}, {"sctp", 0}, {"other", 0}}},
                 {"egress", {{"tcp", 0}, {"udp", 0}, {"sctp", 0}, {"other", 0}}}}},
               {"recent_blocks", json::array()}};
  for (std::uint64_t i = 0; i < blocked; ++i) {
    body["recent_blocks"].push_back(
        {{"age_seconds", 0.5 * static_cast<double>(i)},
         {"line", fmt::format("blocked ingress TCP 198.19.0.9:{} -> 198.19.0.2:80 "
                              "(policy namespace x)",
                              40000 + i)}});
  }
  return body;
}

class PolicyServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    net_ =
        std::make_unique<test::SimMeshNet>(io_.get_executor(), clock_, rng_, test::SimMeshConfig{});
    router::RouterConfig rc;
    rc.name = router::PeerName{kSelf};
    rc.nickname = "npc-test";
    rc.uid = 5;
    rc.discovery = false;
    router_ = std::make_unique<router::Router>(io_.get_executor(), clock_, rng_,
                                               net_->add_host("10.0.0.5:6783"), rc);
    ASSERT_TRUE(router_->start({}));
    npc_ = std::make_unique<HttpServer>(io_.get_executor());
    npc_->route(Method::kGet, "/status", [this](Request) -> asio::awaitable<Response> {
      Response r = Response::text(status_, body_);
      r.content_type = "application/json";
      co_return r;
    });
    auto ep = npc_->listen_tcp(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    ASSERT_TRUE(ep) << ep.error().to_string();
    port_ = ep->port();
    npc_->start();
    PolicyServiceConfig pc;
    pc.url = parse_npc_status_url(fmt::format("http://127.0.0.1:{}/status", port_)).value();
    pc.interval = 50ms;
    pc.timeout = 1s;
    service_ = std::make_unique<PolicyService>(io_.get_executor(), clock_, *router_, pc);
    service_->start();
  }

  void TearDown() override {
    if (service_) {
      test::run(io_, service_->stop(), 10s);
    }
    if (npc_) {
      test::run(io_, npc_->stop(), 10s);
    }
    if (router_) {
      test::run(io_, router_->stop(), 10s);
    }
  }

  // Runs the io until the local summary is in `state` with `error_part` in its error.
  bool wait_for(NpcState state, const std::string& error_part = "") {
    return test::run_until(
        io_,
        [&] {
          const PolicySummary* s = service_->local();
          return s != nullptr && s->state == state &&
                 s->error.find(error_part) != std::string::npos;
        },
        10s);
  }

  json report() const {
    DaemonStatus status;
    status.router = router_->status();
    status.now = clock_.now();
    status.policy = *service_->local();
    status.policy_url = fmt::format("http://127.0.0.1:{}/status", port_);
    status.policies = service_->entries();
    return build_report(status);
  }

  asio::io_context io_;
  SteadyClock clock_;
  SeededRng rng_{5};
  std::unique_ptr<test::SimMeshNet> net_;
  std::unique_ptr<router::Router> router_;
  std::unique_ptr<HttpServer> npc_;
  std::uint16_t port_ = 0;
  int status_ = 200;
  std::string body_ = npc_body(3).dump();
  std::unique_ptr<PolicyService> service_;
};

TEST_F(PolicyServiceTest, PollsTheEndpointAndTheReportShowsIt) {
  ASSERT_TRUE(wait_for(NpcState::kRunning));
  const PolicySummary& s = *service_->local();
  EXPECT_EQ(s.counts.policies, 2u);
  EXPECT_EQ(s.counts.blocked_ingress[0], 3u);
  ASSERT_EQ(s.recent_blocks.size(), 3u);

  const json r = report();
  ASSERT_TRUE(r.contains("policy")) << r.dump();
  EXPECT_EQ(r["policy"]["state"], "running");
  EXPECT_EQ(r["policy"]["policies"], 2);
  EXPECT_EQ(r["policy"]["isolated_pods"]["ingress"], 2);
  EXPECT_EQ(r["policy"]["blocked_total"]["ingress"], 3);
  EXPECT_EQ(r["policy"]["recent_blocks"].size(), 3u);
  EXPECT_EQ(r["policy"]["url"], fmt::format("http://127.0.0.1:{}/status", port_));
  // Our own summary is in the gossip channel too, hence in our peer entry.
  ASSERT_EQ(r["router"]["peers"].size(), 1u);
  EXPECT_EQ(r["router"]["peers"][0]["policy"]["policies"], 2) << r.dump();

  // A new block shows at the next poll.
  body_ = npc_body(4).dump();
  ASSERT_TRUE(test::run_until(
      io_, [&] { return service_->local()->counts.blocked_ingress[0] == 4; }, 10s));
  EXPECT_EQ(service_->entries().at(router::PeerName{kSelf}).version, 2u);
}

TEST_F(PolicyServiceTest, BadAnswersAndAnAbsentNpcAreStatesNotFailures) {
  ASSERT_TRUE(wait_for(NpcState::kRunning));
  body_ = "<html>not a status</html>";
  ASSERT_TRUE(wait_for(NpcState::kBadAnswer, "weft-npc status: invalid JSON"));
  body_ = json{{"synced", true}}.dump();
  ASSERT_TRUE(wait_for(NpcState::kBadAnswer, "\"policies\" missing"));
  status_ = 500;
  body_ = R"({"error": "boom"})";
  ASSERT_TRUE(wait_for(NpcState::kBadAnswer, "HTTP 500"));

  test::run(io_, npc_->stop(), 10s);
  npc_.reset();
  ASSERT_TRUE(wait_for(NpcState::kNotRunning, "127.0.0.1"));
  const json r = report();
  EXPECT_EQ(r["policy"]["state"], "not running");
  EXPECT_NE(r["policy"]["error"].get<std::string>().find("connect"), std::string::npos)
      << r["policy"].dump();
  // The last good data stays, with its age.
  EXPECT_EQ(r["policy"]["policies"], 2);
  EXPECT_GT(r["policy"]["data_age_seconds"].get<double>(), 0.0);
}

}  // namespace
}  // namespace weft::weftd
