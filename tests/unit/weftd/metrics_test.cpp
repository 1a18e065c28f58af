// /metrics: the Prometheus text rendered from a report parses line by line (a strict check
// of the exposition format), has one HELP/TYPE per family, and carries the report's values.
#include "weftd/metrics.hpp"

#include <map>

#include <gtest/gtest.h>

#include "common/prometheus.hpp"
#include "tests/support/prometheus_text.hpp"

namespace weft::weftd {
namespace {

using nlohmann::json;

std::map<std::string, double> parse_prometheus(const std::string& text) {
  return test::parse_prometheus_text(text);
}

TEST(Metrics, RenderedFromAReportAndWellFormed) {
  const json report = {
      {"uptime_seconds", 42},
      {"router",
       {{"peers", json::array({json::object(), json::object(), json::object()})},
        {"reachable_peers", 3},
        {"connections",
         {{{"state", "established"}, {"datapath", "fastdp"}, {"encrypted", false}},
          {{"state", "established"}, {"datapath", "sleeve"}, {"encrypted", true}},
          {{"state", "failed"}, {"datapath", "none"}, {"encrypted", false}}}},
        {"transport",
         {{"handshakes_ok", 5},
          {"handshakes_failed", {{"auth", 2}, {"version", 0}}},
          {"frames_sealed", 100},
          {"frames_opened", 90},
          {"frame_auth_failures", 1}}},
        {"gossip", {{"updates_sent", 7}}},
        {"dataplane",
         {{"mtu", 1430},
          {"local_macs", 2},
          {"fastdp", {{"heartbeats", {{"ipv4", {{"pings_sent", 9}, {"pongs_received", 8}}}}}}}}}}}};
  const auto m = parse_prometheus(render_metrics(report));
  EXPECT_EQ(m.at("weft_peers"), 3);
  EXPECT_EQ(m.at("weft_uptime_seconds"), 42);
  EXPECT_EQ(m.at("weft_connections{state=\"established\"}"), 2);
  EXPECT_EQ(m.at("weft_connections{state=\"failed\"}"), 1);
  EXPECT_EQ(m.at("weft_connections{state=\"connecting\"}"), 0);
  EXPECT_EQ(m.at("weft_connections_established{datapath=\"fastdp\",encrypted=\"false\"}"), 1);
  EXPECT_EQ(m.at("weft_connections_established{datapath=\"sleeve\",encrypted=\"true\"}"), 1);
  EXPECT_EQ(m.at("weft_handshakes_total{result=\"auth\"}"), 2);
  EXPECT_EQ(m.at("weft_control_dropped_total{reason=\"bad_auth\"}"), 1);
  EXPECT_EQ(m.at("weft_overlay_mtu"), 1430);
  EXPECT_EQ(m.at("weft_fastdp_heartbeats_total{family=\"ipv4\",kind=\"pongs_received\"}"), 8);
}

TEST(Metrics, IpamAddressesByStateAndContainers) {
  const json report = {
      {"containers", 4},
      {"ipam",
       {{"peer", "aa:aa:aa:aa:aa:01"},
        {"ready", true},
        {"stray", 1},
        {"rings",
         {{{"family", "ipv4"},
           {"free_here", "250"},
           {"allocated", 6},
           {"peers",
            {{{"name", "aa:aa:aa:aa:aa:01"}, {"owned", "256"}},
             {{"name", "aa:aa:aa:aa:aa:02"}, {"owned", "512"}}}}},
          {{"family", "ipv6"},
           {"free_here", "1208925819614629174706176"},
           {"allocated", 2},
           {"peers", {{{"name", "aa:aa:aa:aa:aa:01"}, {"owned", "1208925819614629174706178"}}}}}}},
        {"stats", {{"allocations", 9}, {"releases", 3}}}}}};
  const auto m = parse_prometheus(render_metrics(report));
  EXPECT_EQ(m.at("weft_ipam_ready"), 1);
  EXPECT_EQ(m.at(R"(weft_ipam_addresses{family="ipv4",state="owned"})"), 256);
  EXPECT_EQ(m.at(R"(weft_ipam_addresses{family="ipv4",state="allocated"})"), 6);
  EXPECT_EQ(m.at(R"(weft_ipam_addresses{family="ipv4",state="free"})"), 250);
  EXPECT_GT(m.at(R"(weft_ipam_addresses{family="ipv6",state="free"})"), 1e24);
  EXPECT_EQ(m.at("weft_ipam_stray_addresses"), 1);
  EXPECT_EQ(m.at(R"(weft_ipam_operations_total{op="releases"})"), 3);
  EXPECT_EQ(m.at("weft_containers"), 4);
}

TEST(Metrics, SparseOrBrokenReportsStillRender) {
  for (const json& r : {json(nullptr), json::object(), json{{"router", 5}},
                        json{{"router", {{"connections", "x"}, {"transport", json::array()}}}}}) {
    const auto m = parse_prometheus(render_metrics(r));
    EXPECT_EQ(m.at("weft_up"), 1);
  }
}

TEST(Metrics, LabelValuesAreEscaped) {
  PrometheusWriter w;
  w.add("x", "gauge", "h", 1.5, {{"a", "q\"b\\c\nd"}});
  EXPECT_EQ(w.text(), "# HELP x h\n# TYPE x gauge\nx{a=\"q\\\"b\\\\c\\nd\"} 1.5\n");
  parse_prometheus(w.text());
}

}  // namespace
}  // namespace weft::weftd
