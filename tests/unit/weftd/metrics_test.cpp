// /metrics and /report are rendered from one typed DaemonStatus: the Prometheus text parses
// line by line (a strict check of the exposition format), has one HELP/TYPE per family,
// carries the status's values, and agrees with the report on what it shows.
#include "weftd/metrics.hpp"

#include <map>

#include <gtest/gtest.h>

#include "common/prometheus.hpp"
#include "tests/support/prometheus_text.hpp"
#include "weftd/report.hpp"

namespace weft::weftd {
namespace {

using datapath::DatapathKind;
using router::PeerName;
using router::TargetState;

std::map<std::string, double> parse_prometheus(const std::string& text) {
  return test::parse_prometheus_text(text);
}

router::ConnectionStatus connection(TargetState state, std::uint64_t peer, bool encrypted) {
  router::ConnectionStatus c;
  c.address = "198.18.0." + std::to_string(peer) + ":6783";
  c.state = state;
  c.peer = PeerName{peer};
  c.encrypted = encrypted;
  return c;
}

DaemonStatus mesh_status() {
  DaemonStatus s;
  s.uptime = std::chrono::seconds(42);
  s.router.peers.resize(3);
  s.router.reachable = 3;
  s.router.connections = {connection(TargetState::kEstablished, 2, false),
                          connection(TargetState::kEstablished, 3, true),
                          connection(TargetState::kFailed, 4, false)};
  s.datapaths[PeerName{2}] = {
      .kind = DatapathKind::kFastdp, .detail = "", .encrypted = false, .rtt = std::nullopt};
  s.datapaths[PeerName{3}] = {
      .kind = DatapathKind::kSleeve, .detail = "", .encrypted = true, .rtt = std::nullopt};
  s.transport.handshakes_ok = 5;
  s.transport.handshake_failed_auth = 2;
  s.transport.frames_sealed = 100;
  s.transport.frames_opened = 90;
  s.transport.frame_auth_failures = 1;
  s.router.gossip.updates_sent = 7;
  datapath::DataplaneStatus dp;
  dp.mtu = 1430;
  dp.local_macs = 2;
  dp.heartbeats[IpFamily::kV4] = {
      .pings_sent = 9, .pongs_sent = 0, .pongs_received = 8, .bad_frames = 0};
  dp.sleeve.available = true;
  dp.sleeve.stats.drop_replay = 6;
  dp.sleeve.stats.tx_bytes = 1000;
  s.dataplane = dp;
  return s;
}

TEST(Metrics, RenderedFromTheStatusAndWellFormed) {
  const auto m = parse_prometheus(render_metrics(mesh_status()));
  EXPECT_EQ(m.at("weft_peers"), 3);
  EXPECT_EQ(m.at("weft_uptime_seconds"), 42);
  EXPECT_EQ(m.at("weft_connections{state=\"established\"}"), 2);
  EXPECT_EQ(m.at("weft_connections{state=\"failed\"}"), 1);
  EXPECT_EQ(m.at("weft_connections{state=\"connecting\"}"), 0);
  EXPECT_EQ(m.at("weft_connections_established{datapath=\"fastdp\",encrypted=\"false\"}"), 1);
  EXPECT_EQ(m.at("weft_connections_established{datapath=\"sleeve\",encrypted=\"true\"}"), 1);
  EXPECT_EQ(m.at("weft_handshakes_total{result=\"ok\"}"), 5);
  EXPECT_EQ(m.at("weft_handshakes_total{result=\"auth\"}"), 2);
  EXPECT_EQ(m.at("weft_control_dropped_total{reason=\"bad_auth\"}"), 1);
  EXPECT_EQ(m.at("weft_gossip_messages_total{kind=\"update\",direction=\"out\"}"), 7);
  EXPECT_EQ(m.at("weft_overlay_mtu"), 1430);
  EXPECT_EQ(m.at("weft_fastdp_heartbeats_total{family=\"ipv4\",kind=\"pongs_received\"}"), 8);
  EXPECT_EQ(m.at("weft_sleeve_dropped_total{reason=\"replay\"}"), 6);
  EXPECT_EQ(m.at("weft_datapath_bytes_total{datapath=\"sleeve\",direction=\"out\"}"), 1000);
}

TEST(Metrics, AgreeWithTheReport) {
  const DaemonStatus s = mesh_status();
  const auto report = build_report(s);
  const auto m = parse_prometheus(render_metrics(s));
  std::map<std::pair<std::string, bool>, double> from_report;
  double established = 0;
  for (const auto& c : report["router"]["connections"]) {
    if (c["state"] == "established") {
      established += 1;
      from_report[{c["datapath"].get<std::string>(), c["encrypted"].get<bool>()}] += 1;
    }
  }
  EXPECT_EQ(m.at("weft_connections{state=\"established\"}"), established);
  for (const auto& [key, n] : from_report) {
    const std::string name = "weft_connections_established{datapath=\"" + key.first +
                             "\",encrypted=\"" + (key.second ? "true" : "false") + "\"}";
    EXPECT_EQ(m.at(name), n) << name;
  }
  EXPECT_EQ(m.at("weft_overlay_mtu"), report["router"]["dataplane"]["mtu"].get<double>());
  EXPECT_EQ(report["router"]["dataplane"]["sleeve"]["stats"]["drop_replay"], 6);
  EXPECT_EQ(report["router"]["connections"][0]["datapath"], "fastdp");
  EXPECT_EQ(report["router"]["connections"][2]["datapath"], "none");
}

TEST(Metrics, IpamAddressesByStateAndContainers) {
  DaemonStatus s;
  s.containers = 4;
  ipam::AllocatorStatus a;
  a.self = 0xaaaaaaaaaa01;
  a.ready = true;
  a.stray = 1;
  ipam::RingStatus v4;
  v4.family = IpFamily::kV4;
  v4.free_here = 250;
  v4.allocated = 6;
  v4.peers = {{.peer = 0xaaaaaaaaaa01, .owned = 256, .share = 0, .free = 0, .reachable = true},
              {.peer = 0xaaaaaaaaaa02, .owned = 512, .share = 0, .free = 0, .reachable = true}};
  ipam::RingStatus v6;
  v6.family = IpFamily::kV6;
  v6.free_here = make_u128(1, 0);
  v6.allocated = 2;
  v6.peers = {
      {.peer = 0xaaaaaaaaaa01, .owned = make_u128(1, 2), .share = 0, .free = 0, .reachable = true}};
  a.rings = {v4, v6};
  a.stats.allocations = 9;
  a.stats.releases = 3;
  s.ipam = a;
  const auto m = parse_prometheus(render_metrics(s));
  EXPECT_EQ(m.at("weft_ipam_ready"), 1);
  EXPECT_EQ(m.at(R"(weft_ipam_addresses{family="ipv4",state="owned"})"), 256);
  EXPECT_EQ(m.at(R"(weft_ipam_addresses{family="ipv4",state="allocated"})"), 6);
  EXPECT_EQ(m.at(R"(weft_ipam_addresses{family="ipv4",state="free"})"), 250);
  EXPECT_GT(m.at(R"(weft_ipam_addresses{family="ipv6",state="free"})"), 1e19);
  EXPECT_EQ(m.at("weft_ipam_stray_addresses"), 1);
  EXPECT_EQ(m.at(R"(weft_ipam_operations_total{op="releases"})"), 3);
  EXPECT_EQ(m.at("weft_containers"), 4);
  EXPECT_EQ(build_report(s)["containers"], 4);
}

TEST(Metrics, WithoutDataPlaneOrIpamStillRender) {
  const auto m = parse_prometheus(render_metrics(DaemonStatus{}));
  EXPECT_EQ(m.at("weft_up"), 1);
  EXPECT_EQ(m.count("weft_overlay_mtu"), 0u);
  EXPECT_EQ(m.count("weft_ipam_ready"), 0u);
}

TEST(Metrics, LabelValuesAreEscaped) {
  PrometheusWriter w;
  w.add("x", "gauge", "h", 1.5, {{"a", "q\"b\\c\nd"}});
  EXPECT_EQ(w.text(), "# HELP x h\n# TYPE x gauge\nx{a=\"q\\\"b\\\\c\\nd\"} 1.5\n");
  parse_prometheus(w.text());
}

}  // namespace
}  // namespace weft::weftd
