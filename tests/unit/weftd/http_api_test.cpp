// weftd's HTTP API in one process, as the daemon binds it (bind_http_api): a real Router on a
// simulated mesh, a real IpamService (seeded by itself: ready at once) and container registry
// in a temp directory, the control server on a unix socket and the status server on a
// loopback TCP port. Checks, for EVERY route of api/paths.hpp, that it is served where the
// table says and 404 (405 when the path exists there with another method) on the other
// server — nothing that changes state answers over TCP — and that the IPAM and registry
// routes see ids decoded exactly once.
#include "weftd/http_api.hpp"

#include <filesystem>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>

#include "api/containers.hpp"
#include "api/ipam.hpp"
#include "api/paths.hpp"
#include "common/http_client.hpp"
#include "common/rng.hpp"
#include "tests/support/coro.hpp"
#include "tests/support/sim_transport.hpp"
#include <fmt/format.h>
#include <unistd.h>

namespace weft::weftd {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using api::Reach;
using api::RouteId;
using api::Server;
using nlohmann::json;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

constexpr std::uint64_t kSelf = 0x0a0000000009;

// A sample value for each route parameter of the table.
std::string sample(std::string_view param) {
  if (param == "id")
    return "c1";
  if (param == "ifname")
    return "eth0";
  if (param == "addr")
    return "10.32.0.9";
  if (param == "net")
    return "10.32.8.0";
  if (param == "len")
    return "24";
  if (param == "name")
    return "0a:00:00:00:00:07";
  if (param == "file")
    return "app.js";
  ADD_FAILURE() << "no sample for {" << param << "}";
  return "x";
}

// The route's pattern with sample values.
std::string sample_target(const api::Route& r) {
  std::string out;
  std::string_view p = r.pattern;
  while (!p.empty()) {
    const auto open = p.find('{');
    out += p.substr(0, open);
    if (open == std::string_view::npos) {
      break;
    }
    const auto close = p.find('}', open);
    out += sample(p.substr(open + 1, close - open - 1));
    p = p.substr(close + 1);
  }
  return out;
}

std::string sample_body(RouteId id) {
  switch (id) {
    case RouteId::kConnect:
    case RouteId::kForget:
      return R"({"peers": []})";
    case RouteId::kExpose:
    case RouteId::kHide:
    case RouteId::kContainerPut:
      return "{}";
    default:
      return "";
  }
}

class HttpApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           fmt::format("weft-http-api-{}-{}", ::getpid(),
                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    net_ =
        std::make_unique<test::SimMeshNet>(io_.get_executor(), clock_, rng_, test::SimMeshConfig{});
    router::RouterConfig rc;
    rc.name = router::PeerName{kSelf};
    rc.nickname = "api-test";
    rc.uid = 1;
    rc.discovery = false;
    router_ = std::make_unique<router::Router>(io_.get_executor(), clock_, rng_,
                                               net_->add_host("10.0.0.9:6783"), rc);
    ASSERT_TRUE(router_->start({}));
    if (with_ipam_) {
      ipam::AllocatorConfig ac;
      ac.range_v4 = parse_cidr("10.32.0.0/12").value();
      ac.range_v6 = parse_cidr("fd00:19::/48").value();
      ac.bootstrap.mode = ipam::BootstrapConfig::Mode::kSeed;
      ac.bootstrap.seeds = {kSelf};
      ipam_ = std::make_unique<IpamService>(io_.get_executor(), clock_, *router_);
      auto started = ipam_->start(std::move(ac), (dir_ / "ipam.db").string());
      ASSERT_TRUE(started) << started.error().to_string();
    }
    auto store = ContainerStore::open((dir_ / "weft.db").string());
    ASSERT_TRUE(store);
    containers_ = std::make_unique<ContainerRegistry>(
        std::move(*store), "weft",
        []() -> Result<std::vector<LinkInfo>> { return std::vector<LinkInfo>{}; },
        [] { return std::int64_t{1'700'000'000}; });
    control_ = std::make_unique<HttpServer>(io_.get_executor());
    status_ = std::make_unique<HttpServer>(io_.get_executor());
    bind_http_api(HttpApiDeps{.router = *router_,
                              .targets = targets_,
                              .containers = *containers_,
                              .ipam = [this] { return ipam_.get(); },
                              .dataplane = [] { return nullptr; },
                              .ready = [] { return true; },
                              .status_text = [] { return std::string("status text\n"); },
                              .report =
                                  [] {
                                    return json{{"report", true}};
                                  },
                              .metrics = [] { return std::string("weft_up 1\n"); },
                              .events = {.check_interval = 50ms, .keepalive_interval = 1s}},
                  *control_, *status_);
    ASSERT_TRUE(control_->listen_unix((dir_ / "api.sock").string()));
    auto ep = status_->listen_tcp(tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    ASSERT_TRUE(ep) << ep.error().to_string();
    status_ep_ = *ep;
    control_->start();
    status_->start();
  }

  void TearDown() override {
    if (control_) {
      test::run(io_, control_->stop(), 10s);
      test::run(io_, status_->stop(), 10s);
    }
    if (ipam_) {
      test::run(io_, ipam_->stop(), 10s);
    }
    if (router_) {
      test::run(io_, router_->stop(), 10s);
    }
    fs::remove_all(dir_);
  }

  std::string where(Server s) const {
    return s == Server::kControl ? "unix:" + (dir_ / "api.sock").string()
                                 : fmt::format("127.0.0.1:{}", status_ep_.port());
  }

  Response call(Server s, Method method, const std::string& path, const std::string& body = {}) {
    HttpClient client(io_.get_executor());
    auto r = test::run(io_, client.request(where(s), method, path, body), 20s);
    EXPECT_TRUE(r) << path << ": " << r.error().to_string();
    return r ? *r : Response{};
  }

  // The status line and header of a streamed answer (the stream itself never ends).
  std::string stream_head(const std::string& path) {
    return test::run(
        io_,
        [](tcp::endpoint ep, std::string request) -> asio::awaitable<std::string> {
          tcp::socket s(co_await asio::this_coro::executor);
          co_await s.async_connect(ep, asio::use_awaitable);
          co_await asio::async_write(s, asio::buffer(request), asio::use_awaitable);
          asio::streambuf buf;
          co_await asio::async_read_until(s, buf, "\r\n\r\n", asio::use_awaitable);
          co_return std::string(asio::buffers_begin(buf.data()), asio::buffers_end(buf.data()));
        }(status_ep_, fmt::format("GET {} HTTP/1.1\r\nHost: x\r\n\r\n", path)),
        10s);
  }

  bool with_ipam_ = true;
  fs::path dir_;
  asio::io_context io_;
  SteadyClock clock_;
  SeededRng rng_{7};
  std::unique_ptr<test::SimMeshNet> net_;
  std::unique_ptr<router::Router> router_;
  std::unique_ptr<IpamService> ipam_;
  std::unique_ptr<ContainerRegistry> containers_;
  std::vector<std::string> targets_;
  std::unique_ptr<HttpServer> control_, status_;
  tcp::endpoint status_ep_;
};

bool routed_away(const Response& r) {
  return (r.status == 404 && r.body.find("no such path") != std::string::npos) || r.status == 405;
}

TEST_F(HttpApiTest, EveryRouteAnswersOnItsServerAndOnNoOther) {
  for (const api::Route& r : api::routes()) {
    const std::string path = sample_target(r);
    for (Server s : {Server::kControl, Server::kStatus}) {
      const std::string label = fmt::format("{} {} on {}", to_string(r.method), path,
                                            s == Server::kControl ? "control" : "status");
      if (api::serves(r.reach, s)) {
        if (s == Server::kStatus) {
          EXPECT_EQ(r.method, Method::kGet) << label << ": changes state over TCP";
        }
        if (r.stream) {
          const std::string head = stream_head(path);
          EXPECT_TRUE(head.starts_with("HTTP/1.1 200")) << label << ": " << head;
          EXPECT_NE(head.find("text/event-stream"), std::string::npos) << label << ": " << head;
          continue;
        }
        const Response res = call(s, r.method, path, sample_body(r.id));
        EXPECT_FALSE(routed_away(res)) << label << " -> " << res.status << " " << res.body;
        const bool no_dataplane = r.id == RouteId::kExpose || r.id == RouteId::kHide;
        EXPECT_TRUE(res.status < 500 || (no_dataplane && res.status == 503))
            << label << " -> " << res.status << " " << res.body;
        continue;
      }
      // Not here: the server's own 404 (or 405 when the path exists with another method).
      bool path_exists_here = false;
      for (const api::Route& other : api::routes()) {
        path_exists_here |= other.pattern == r.pattern && api::serves(other.reach, s);
      }
      const Response res = call(s, r.method, path, sample_body(r.id));
      EXPECT_EQ(res.status, path_exists_here ? 405 : 404) << label << ": " << res.body;
      EXPECT_TRUE(routed_away(res)) << label << " -> " << res.status << " " << res.body;
    }
  }
}

TEST_F(HttpApiTest, IdsAreDecodedOnceWhateverTheyHold) {
  const std::string id = "a b%c?d#e&f=g+h";
  const api::IpAllocate want{id, "eth1", api::Family::kV4, std::nullopt};
  const Response got = call(Server::kControl, Method::kPost, api::target(want));
  ASSERT_EQ(got.status, 200) << got.body;
  auto addrs = api::parse_address_lines(got.body);
  ASSERT_TRUE(addrs && addrs->size() == 1) << got.body;
  // The allocator holds it under the id as given, not as encoded.
  const auto held = ipam_->allocator().lookup(id);
  ASSERT_EQ(held.size(), 1u);
  EXPECT_EQ(held[0].key.ifname, "eth1");
  const Response looked = call(Server::kControl, Method::kGet, api::ip_lookup_target(id));
  EXPECT_EQ(looked.body, got.body);
  const Response list = call(Server::kControl, Method::kGet, api::ip_list_target());
  auto entries = api::parse_ip_list(list.body);
  ASSERT_TRUE(entries) << list.body;
  ASSERT_EQ(entries->size(), 1u);
  EXPECT_EQ((*entries)[0].container, id);
  const Response released =
      call(Server::kControl, Method::kDelete, api::target(api::IpRelease{id, {}, {}}));
  EXPECT_EQ(released.body, "1\n");

  api::ContainerRecord record{id, "eth0", "", "", "", {}, "test"};
  const Response put = call(Server::kControl, Method::kPut, api::container_target(id, "eth0"),
                            api::container_body(record));
  ASSERT_EQ(put.status, 200) << put.body;
  const Response listed = call(Server::kStatus, Method::kGet, api::containers_target());
  auto containers = api::parse_container_list(listed.body);
  ASSERT_TRUE(containers) << listed.body;
  ASSERT_EQ(containers->containers.size(), 1u);
  EXPECT_EQ(containers->containers[0].record.id, id);
}

TEST_F(HttpApiTest, BadRequestsSayWhy) {
  const Response slash = call(Server::kControl, Method::kPost, "/ip/a%2Fb");
  EXPECT_EQ(slash.status, 400);
  EXPECT_NE(slash.body.find("'/'"), std::string::npos) << slash.body;
  const Response family = call(Server::kControl, Method::kPost, "/ip/c?family=ipx");
  EXPECT_EQ(family.status, 400);
  EXPECT_EQ(family.content_type, "text/plain");
  EXPECT_NE(family.body.find("family must be"), std::string::npos) << family.body;
  const Response peers = call(Server::kControl, Method::kPost, "/connect", "{}");
  EXPECT_EQ(peers.status, 400);
  EXPECT_NE(peers.body.find("peers"), std::string::npos) << peers.body;
  const Response body = call(Server::kControl, Method::kPut, "/containers/c/eth0", "{nope");
  EXPECT_EQ(body.status, 400);
  EXPECT_NE(body.body.find("not JSON"), std::string::npos) << body.body;
  const Response expose = call(Server::kControl, Method::kPost, "/expose", "{}");
  EXPECT_EQ(expose.status, 503) << "no data plane: " << expose.body;
}

class HttpApiNoIpamTest : public HttpApiTest {
 protected:
  void SetUp() override {
    with_ipam_ = false;
    HttpApiTest::SetUp();
  }
};

TEST_F(HttpApiNoIpamTest, IpamRoutesAnswer404SayingIpamIsOff) {
  for (const api::Route& r : api::routes()) {
    if (!sample_target(r).starts_with("/ip") && r.id != RouteId::kRmpeer) {
      continue;
    }
    const Response res = call(Server::kControl, r.method, sample_target(r));
    EXPECT_EQ(res.status, 404) << r.pattern;
    EXPECT_NE(res.body.find("IPAM is off"), std::string::npos) << r.pattern << ": " << res.body;
  }
}

}  // namespace
}  // namespace weft::weftd
