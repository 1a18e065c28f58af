// The `weft` CLI against a real three-host mesh (h2 and h3 peer with h1; encrypted, so the
// data plane is the sleeve): status and its views, report, ps of containers attached with the
// attach primitive and registered through PUT /containers, expose/hide (ps shows the expose
// line), connect/forget, rmpeer of a stopped peer; /metrics parses as Prometheus text and its
// sleeve byte/packet counters move when two containers on different hosts ping each other.
#include <gtest/gtest.h>

#include "common/attach.hpp"
#include "common/http_client.hpp"
#include "tests/support/netns_fixture.hpp"
#include "tests/support/prometheus_text.hpp"
#include "tests/support/weft_lab.hpp"
#include <fmt/format.h>

namespace weft::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

const std::vector<std::string> kEnv = {"WEFT_PASSWORD=netns-cli-test"};

// "" once `host` has `connections` established connections.
std::string established_gap(const WeftHost& host, std::size_t connections) {
  json r = host.report();
  if (r.is_null()) {
    return host.label() + ": weftd not answering";
  }
  std::size_t n = 0;
  for (const auto& c : r["router"]["connections"]) {
    n += c.value("state", "") == "established" ? 1 : 0;
  }
  return n == connections ? ""
                          : fmt::format("{}: {} of {} established: {}", host.label(), n,
                                        connections, r["router"]["connections"].dump());
}

struct Container {
  std::unique_ptr<ScopedNetns> ns;
  std::string id, v4, mac;
};

// Attaches a container to `host`'s bridge and registers it with weftd as the CNI plugin does.
Container attach_and_register(const WeftHost& host, const std::string& id,
                              const std::string& host_ifname, const std::string& v4) {
  Container c{std::make_unique<ScopedNetns>(), id, v4, ""};
  EXPECT_TRUE(c.ns->ok());
  AttachSpec spec;
  spec.host_netns = &host.ns().netns();
  spec.container_netns = &c.ns->netns();
  spec.host_ifname = host_ifname;
  spec.addresses = {*parse_host_cidr(v4 + "/16")};
  auto a = attach_container(spec);
  EXPECT_TRUE(a) << a.error().to_string();
  if (a) {
    c.mac = a->mac.to_string();
  }
  const json body = {{"netns", "/run/netns/" + c.ns->name()},
                     {"host_ifname", host_ifname},
                     {"mac", c.mac},
                     {"addresses", {v4 + "/16"}},
                     {"source", "test"}};
  auto r = http_call("unix:" + host.api_socket(), Method::kPut, "/containers/" + id + "/eth0",
                     body.dump());
  EXPECT_TRUE(r && r->status == 200) << (r ? r->body : r.error().to_string());
  return c;
}

std::map<std::string, double> metrics(const WeftHost& host) {
  auto r = http_call("unix:" + host.api_socket(), Method::kGet, "/metrics");
  EXPECT_TRUE(r && r->status == 200) << (r ? r->body : r.error().to_string());
  return r ? parse_prometheus_text(r->body) : std::map<std::string, double>{};
}

class CliMesh : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) {
      GTEST_SKIP() << "needs root";
    }
    ASSERT_EQ(lab_.error(), "");
    for (int h = 1; h <= 3; ++h) {
      auto host = lab_.add_host(fmt::format("h{}", h), {fmt::format("198.18.0.{}/24", h)});
      ASSERT_TRUE(host) << host.error().to_string();
    }
    ASSERT_TRUE(lab_.host("h1").start_weftd({"--no-discovery"}, kEnv));
    ASSERT_TRUE(lab_.host("h2").start_weftd({"--no-discovery", "198.18.0.1"}, kEnv));
    ASSERT_TRUE(lab_.host("h3").start_weftd({"--no-discovery", "198.18.0.1"}, kEnv));
    const std::string gap = eventually(
        [&] {
          for (auto [label, n] : {std::pair{"h1", 2}, {"h2", 1}, {"h3", 1}}) {
            if (auto g = established_gap(lab_.host(label), n); !g.empty()) {
              return g;
            }
          }
          return std::string();
        },
        40s);
    ASSERT_EQ(gap, "") << lab_.logs();
  }

  WeftHost& h(int n) { return lab_.host(fmt::format("h{}", n)); }

  WeftLab lab_;
};

TEST_F(CliMesh, StatusViewsAndReport) {
  json r1 = h(1).report();
  const std::string name1 = r1["router"].value("name", "?");
  const CommandResult status = h(1).weft("status");
  ASSERT_TRUE(status.ok()) << status.out;
  for (const std::string& want :
       {"Name: " + name1 + "(h1)", std::string("Encryption: enabled"),
        std::string("Connections: 2 (2 established)"), std::string("Peers: 3")}) {
    EXPECT_NE(status.out.find(want), std::string::npos) << want << "\n" << status.out;
  }
  const CommandResult peers = h(2).weft("status peers");
  ASSERT_TRUE(peers.ok()) << peers.out;
  for (const char* nick : {"(h1)", "(h2)", "(h3)"}) {
    EXPECT_NE(peers.out.find(nick), std::string::npos) << nick << "\n" << peers.out;
  }
  const CommandResult conns = h(1).weft("status connections");
  ASSERT_TRUE(conns.ok()) << conns.out;
  EXPECT_NE(conns.out.find("198.18.0.2"), std::string::npos) << conns.out;
  EXPECT_NE(conns.out.find("198.18.0.3"), std::string::npos) << conns.out;
  EXPECT_NE(conns.out.find("established"), std::string::npos) << conns.out;
  const CommandResult ipam = h(1).weft("status ipam");
  ASSERT_TRUE(ipam.ok()) << ipam.out;
  EXPECT_TRUE(ipam.out.starts_with("IPAM: ")) << ipam.out;
  EXPECT_NE(ipam.out.find("peer " + name1), std::string::npos) << ipam.out;

  const CommandResult report = h(3).weft("report");
  ASSERT_TRUE(report.ok()) << report.out;
  json parsed = json::parse(report.out, nullptr, false);
  ASSERT_FALSE(parsed.is_discarded()) << report.out;
  EXPECT_EQ(parsed["router"].value("nickname", ""), "h3");
  EXPECT_EQ(parsed["router"]["peers"].size(), 3u);
  EXPECT_EQ(parsed.value("containers", -1), 0);
  const CommandResult bad = h(1).weft("status nonsense");
  EXPECT_EQ(bad.exit_status, 2) << bad.out;
}

TEST_F(CliMesh, PsExposeAndMetricsCountersMoveWithTraffic) {
  Container c1 = attach_and_register(h(1), "c1aa", "vc1", "198.19.1.1");
  Container c2 = attach_and_register(h(2), "c2bb", "vc2", "198.19.2.1");
  // A second interface of c1, registered but never attached.
  ASSERT_TRUE(http_call("unix:" + h(1).api_socket(), Method::kPut, "/containers/c1aa/net1",
                        R"({"mac": "02:00:00:00:00:09", "addresses": ["10.40.0.5/16"]})"));
  const CommandResult ps = h(1).weft("ps");
  ASSERT_TRUE(ps.ok()) << ps.out;
  EXPECT_EQ(ps.out, fmt::format("c1aa {} 198.19.1.1/16\nc1aa:net1 02:00:00:00:00:09 "
                                "10.40.0.5/16\n",
                                c1.mac))
      << ps.out;
  const CommandResult filtered = h(1).weft("ps c2 nothing");
  EXPECT_TRUE(filtered.ok() && filtered.out.empty()) << filtered.out;
  const CommandResult as_json = h(1).weft("ps c1 --json");
  ASSERT_TRUE(as_json.ok()) << as_json.out;
  json listed = json::parse(as_json.out, nullptr, false);
  ASSERT_EQ(listed["containers"].size(), 2u) << as_json.out;
  EXPECT_EQ(listed["containers"][0].value("attached", false), true) << as_json.out;
  EXPECT_EQ(listed["containers"][0].value("source", ""), "test");
  EXPECT_EQ(listed["containers"][1].value("attached", true), false) << as_json.out;
  EXPECT_EQ(h(1).report().value("containers", -1), 2);

  // expose: the host reaches the container, and ps leads with the bridge's MAC.
  const CommandResult exposed = h(1).weft("expose 198.19.1.254/16");
  ASSERT_TRUE(exposed.ok()) << exposed.out;
  EXPECT_EQ(exposed.out, "exposed 198.19.1.254/16\n");
  EXPECT_TRUE(ping_ok(h(1).netns(), "198.19.1.1"));
  const std::string bridge_mac =
      json_in_netns(h(1).netns(), "ip -j link show weft")[0].value("address", "?");
  const CommandResult ps_exposed = h(1).weft("ps");
  EXPECT_TRUE(ps_exposed.out.starts_with("weft:expose " + bridge_mac + " 198.19.1.254/16\n"))
      << ps_exposed.out;
  const CommandResult hidden = h(1).weft("hide 198.19.1.254/16");
  EXPECT_TRUE(hidden.ok()) << hidden.out;
  EXPECT_EQ(h(1).weft("ps").out, ps.out);

  // Traffic between containers on h1 and h2 moves the sleeve counters on both.
  const auto before = metrics(h(1));
  ASSERT_FALSE(before.empty());
  const std::string out_bytes = R"(weft_datapath_bytes_total{datapath="sleeve",direction="out"})";
  const std::string in_packets = R"(weft_datapath_packets_total{datapath="sleeve",direction="in"})";
  ASSERT_TRUE(before.contains(out_bytes)) << "no sleeve counters";
  ASSERT_TRUE(ping_ok(c1.ns->name(), c2.v4, 8));
  const CommandResult pings = c1.ns->run(fmt::format("ping -c 20 -i 0.05 -q {}", c2.v4));
  EXPECT_TRUE(pings.ok()) << pings.out;
  const auto after = metrics(h(1));
  EXPECT_GE(after.at(out_bytes) - before.at(out_bytes), 20 * 84) << "20 pings of 84 bytes";
  EXPECT_GE(after.at(in_packets) - before.at(in_packets), 20);
  EXPECT_GE(metrics(h(2)).at(in_packets), 20);

  // Deregistering: one interface, then the whole container.
  auto gone = http_call("unix:" + h(1).api_socket(), Method::kDelete, "/containers/c1aa");
  ASSERT_TRUE(gone);
  EXPECT_EQ(json::parse(gone->body, nullptr, false), json({{"removed", 2}})) << gone->body;
  EXPECT_EQ(h(1).weft("ps").out, "");
}

TEST_F(CliMesh, ConnectForgetAndRmpeer) {
  const CommandResult connect = h(2).weft("connect 198.18.0.3");
  ASSERT_TRUE(connect.ok()) << connect.out;
  EXPECT_EQ(connect.out, "connecting to 1 peer(s)\n");
  std::string gap = eventually([&] { return established_gap(h(2), 2); }, 30s);
  ASSERT_EQ(gap, "") << lab_.logs();
  json r2 = h(2).report();
  EXPECT_EQ(r2["router"]["targets"], json({"198.18.0.1", "198.18.0.3"}));
  const CommandResult forget = h(2).weft("forget 198.18.0.3");
  ASSERT_TRUE(forget.ok()) << forget.out;
  EXPECT_EQ(forget.out, "forgot 1 peer(s)\n");
  r2 = h(2).report();
  EXPECT_EQ(r2["router"]["targets"], json({"198.18.0.1"}));
  EXPECT_EQ(h(2).weft("connect --bogus").exit_status, 2);

  // rmpeer of h3 after it stopped for good.
  const std::string name3 = h(3).report()["router"].value("name", "?");
  EXPECT_EQ(h(3).stop_weftd(), 0);
  const CommandResult rm = h(1).weft("rmpeer " + name3);
  ASSERT_TRUE(rm.ok()) << rm.out;
  EXPECT_TRUE(rm.out.ends_with(" addresses taken over from " + name3 + "\n") ||
              rm.out.ends_with(name3 + " (it owns no range)\n"))
      << rm.out;
  // And h3's CLI now says its weftd is gone.
  const CommandResult down = h(3).weft("status");
  EXPECT_EQ(down.exit_status, 1) << down.out;
  EXPECT_NE(down.out.find("weft: cannot reach weftd at 127.0.0.1:6784: is it running?"),
            std::string::npos)
      << down.out;
}

}  // namespace
}  // namespace weft::test
