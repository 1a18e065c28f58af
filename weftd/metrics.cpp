#include "weftd/metrics.hpp"

#include <map>
#include <tuple>

#include "common/prometheus.hpp"

namespace weft::weftd {

using nlohmann::json;

namespace {

double num(const json& j, const char* key) {
  if (!j.is_object()) {
    return 0;
  }
  auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<double>() : 0;
}

const json& sub(const json& j, const char* key) {
  static const json kNull;
  if (!j.is_object()) {
    return kNull;
  }
  auto it = j.find(key);
  return it == j.end() ? kNull : *it;
}

std::string str(const json& j, const char* key) {
  const json& v = sub(j, key);
  return v.is_string() ? v.get<std::string>() : "";
}

void transport_metrics(PrometheusWriter& w, const json& t) {
  w.add("weft_handshakes_total", "counter", "Control-connection handshakes by result.",
        num(t, "handshakes_ok"), {{"result", "ok"}});
  const json& failed = sub(t, "handshakes_failed");
  if (failed.is_object()) {
    for (const auto& [reason, v] : failed.items()) {
      w.add("weft_handshakes_total", "counter", "", v.is_number() ? v.get<double>() : 0,
            {{"result", reason}});
    }
  }
  w.add("weft_control_frames_total", "counter", "Sealed control frames.", num(t, "frames_sealed"),
        {{"direction", "out"}});
  w.add("weft_control_frames_total", "counter", "", num(t, "frames_opened"), {{"direction", "in"}});
  w.add("weft_control_bytes_total", "counter", "Control-connection bytes.", num(t, "bytes_out"),
        {{"direction", "out"}});
  w.add("weft_control_bytes_total", "counter", "", num(t, "bytes_in"), {{"direction", "in"}});
  const std::string drop = "weft_control_dropped_total";
  const std::string drop_help = "Control frames dropped (the connection is closed) by reason.";
  w.add(drop, "counter", drop_help, num(t, "frame_auth_failures"), {{"reason", "bad_auth"}});
  w.add(drop, "counter", "", num(t, "frame_oversize"), {{"reason", "too_big"}});
  w.add(drop, "counter", "", num(t, "frame_malformed"), {{"reason", "malformed"}});
  w.add("weft_heartbeat_timeouts_total", "counter", "Control connections closed as silent.",
        num(t, "heartbeat_timeouts"));
  w.add("weft_accepts_total", "counter", "Incoming TCP connections by outcome.", num(t, "accepts"),
        {{"outcome", "accepted"}});
  w.add("weft_accepts_total", "counter", "", num(t, "accepts_rate_limited"),
        {{"outcome", "rate_limited"}});
  w.add("weft_accepts_total", "counter", "", num(t, "accepts_overloaded"),
        {{"outcome", "overloaded"}});
}

// A count that IPAM reports as a decimal string (it may exceed 2^64 for IPv6 ranges).
double big(const json& j, const char* key) {
  const json& v = sub(j, key);
  if (v.is_number())
    return v.get<double>();
  if (!v.is_string())
    return 0;
  try {
    return std::stod(v.get<std::string>());
  } catch (const std::exception&) {
    return 0;
  }
}

void ipam_metrics(PrometheusWriter& w, const json& ipam) {
  if (!ipam.is_object()) {
    return;
  }
  const json& self_name = sub(ipam, "peer");
  w.add("weft_ipam_ready", "gauge", "1 when every configured range has a ring.",
        sub(ipam, "ready") == true ? 1 : 0);
  const json& rings = sub(ipam, "rings");
  for (const auto& r : rings.is_array() ? rings : json::array()) {
    const std::string family = str(r, "family");
    double owned = 0;
    const json& peers = sub(r, "peers");
    for (const auto& p : peers.is_array() ? peers : json::array()) {
      if (self_name.is_string() && sub(p, "name") == self_name)
        owned = big(p, "owned");
    }
    const char* help =
        "Addresses of a range by state on this peer (owned: the share of the "
        "range this peer owns; allocated: held by containers here; free: "
        "allocatable here now).";
    w.add("weft_ipam_addresses", "gauge", help, owned, {{"family", family}, {"state", "owned"}});
    w.add("weft_ipam_addresses", "gauge", "", num(r, "allocated"),
          {{"family", family}, {"state", "allocated"}});
    w.add("weft_ipam_addresses", "gauge", "", big(r, "free_here"),
          {{"family", family}, {"state", "free"}});
  }
  w.add("weft_ipam_stray_addresses", "gauge",
        "Addresses held here in ranges another peer owns now.", num(ipam, "stray"));
  const json& st = sub(ipam, "stats");
  for (const char* op : {"allocations", "releases", "donations_given", "donations_received",
                         "space_requests", "conflicts", "malformed", "store_errors"}) {
    w.add("weft_ipam_operations_total", "counter", "IPAM operations and failures by kind.",
          num(st, op), {{"op", op}});
  }
}

void dataplane_metrics(PrometheusWriter& w, const json& dp) {
  if (!dp.is_object()) {
    return;
  }
  w.add("weft_overlay_mtu", "gauge", "MTU of the overlay bridge.", num(dp, "mtu"));
  w.add("weft_local_macs", "gauge", "Container MACs learnt on the local bridge.",
        num(dp, "local_macs"));
  const json& sleeve = sub(sub(dp, "sleeve"), "stats");
  if (sleeve.is_object()) {
    for (const auto& [key, v] : sleeve.items()) {
      const double value = v.is_number() ? v.get<double>() : 0;
      if (key.rfind("drop_", 0) == 0) {
        w.add("weft_sleeve_dropped_total", "counter",
              "Sleeve packets dropped by reason (auth_failed, replay, oversize, no_route, ...).",
              value, {{"reason", key.substr(5)}});
      }
    }
    w.add("weft_datapath_bytes_total", "counter", "Underlay bytes carried by a datapath.",
          num(sleeve, "tx_bytes"), {{"datapath", "sleeve"}, {"direction", "out"}});
    w.add("weft_datapath_bytes_total", "counter", "", num(sleeve, "rx_bytes"),
          {{"datapath", "sleeve"}, {"direction", "in"}});
    w.add("weft_datapath_packets_total", "counter", "Underlay packets carried by a datapath.",
          num(sleeve, "tx_datagrams"), {{"datapath", "sleeve"}, {"direction", "out"}});
    w.add("weft_datapath_packets_total", "counter", "", num(sleeve, "rx_datagrams"),
          {{"datapath", "sleeve"}, {"direction", "in"}});
    w.add("weft_sleeve_relayed_frames_total", "counter", "Frames relayed for other peers.",
          num(sleeve, "relayed_frames"));
  }
  const json& hb = sub(sub(dp, "fastdp"), "heartbeats");
  if (hb.is_object()) {
    for (const auto& [family, st] : hb.items()) {
      for (const char* kind : {"pings_sent", "pongs_sent", "pongs_received", "bad_frames"}) {
        w.add("weft_fastdp_heartbeats_total", "counter", "Fast datapath heartbeat frames.",
              num(st, kind), {{"family", family}, {"kind", kind}});
      }
    }
  }
}

}  // namespace

std::string render_metrics(const json& report) {
  PrometheusWriter w;
  const json& router = sub(report, "router");
  w.add("weft_up", "gauge", "1 while weftd answers.", 1);
  w.add("weft_uptime_seconds", "gauge", "Seconds since weftd started.",
        num(report, "uptime_seconds"));
  const json& peers = sub(router, "peers");
  w.add("weft_peers", "gauge", "Peers in the topology (this one included).",
        peers.is_array() ? static_cast<double>(peers.size()) : 0);
  w.add("weft_reachable_peers", "gauge", "Peers reachable through the mesh.",
        num(router, "reachable_peers"));
  std::map<std::string, double> by_state = {
      {"connecting", 0}, {"pending", 0}, {"established", 0}, {"retrying", 0}, {"failed", 0}};
  std::map<std::tuple<std::string, std::string>, double> by_path;
  const json& conns = sub(router, "connections");
  if (conns.is_array()) {
    for (const auto& c : conns) {
      const std::string state = str(c, "state");
      by_state[state.empty() ? "unknown" : state] += 1;
      if (state == "established") {
        const json& enc = sub(c, "encrypted");
        by_path[{str(c, "datapath"), enc.is_boolean() && enc.get<bool>() ? "true" : "false"}] += 1;
      }
    }
  }
  for (const auto& [state, n] : by_state) {
    w.add("weft_connections", "gauge", "Connections by state.", n, {{"state", state}});
  }
  for (const auto& [key, n] : by_path) {
    w.add("weft_connections_established", "gauge",
          "Established connections by datapath and encryption of their traffic.", n,
          {{"datapath", std::get<0>(key)}, {"encrypted", std::get<1>(key)}});
  }
  transport_metrics(w, sub(router, "transport"));
  const json& g = sub(router, "gossip");
  w.add("weft_gossip_messages_total", "counter", "Gossip messages by kind and direction.",
        num(g, "updates_sent"), {{"kind", "update"}, {"direction", "out"}});
  w.add("weft_gossip_messages_total", "counter", "", num(g, "updates_received"),
        {{"kind", "update"}, {"direction", "in"}});
  w.add("weft_gossip_messages_total", "counter", "", num(g, "digests_sent"),
        {{"kind", "digest"}, {"direction", "out"}});
  w.add("weft_gossip_messages_total", "counter", "", num(g, "digests_received"),
        {{"kind", "digest"}, {"direction", "in"}});
  w.add("weft_gossip_malformed_total", "counter", "Malformed gossip messages dropped.",
        num(g, "malformed"));
  dataplane_metrics(w, sub(router, "dataplane"));
  ipam_metrics(w, sub(report, "ipam"));
  w.add("weft_containers", "gauge", "Container interfaces in the registry (weft ps).",
        num(report, "containers"));
  return w.text();
}

}  // namespace weft::weftd
