#include "weftd/metrics.hpp"

#include <map>
#include <tuple>

#include "common/prometheus.hpp"
#include "ipam/api.hpp"

namespace weft::weftd {

namespace {

using datapath::DatapathKind;
using router::TargetState;

double num(std::uint64_t v) {
  return static_cast<double>(v);
}
// IPv6 ranges hold more than 2^64 addresses; a double keeps their magnitude.
double big(U128 v) {
  return static_cast<double>(v);
}
std::string family_key(IpFamily f) {
  return f == IpFamily::kV4 ? "ipv4" : "ipv6";
}

void transport_metrics(PrometheusWriter& w, const router::TransportStats& t) {
  w.add("weft_handshakes_total", "counter", "Control-connection handshakes by result.",
        num(t.handshakes_ok), {{"result", "ok"}});
  for (const auto& [reason, v] : std::initializer_list<std::pair<const char*, std::uint64_t>>{
           {"version", t.handshake_failed_version},
           {"auth", t.handshake_failed_auth},
           {"untrusted", t.handshake_failed_untrusted},
           {"self", t.handshake_failed_self},
           {"timeout", t.handshake_failed_timeout},
           {"malformed", t.handshake_failed_malformed},
           {"io", t.handshake_failed_io}}) {
    w.add("weft_handshakes_total", "counter", "", num(v), {{"result", reason}});
  }
  w.add("weft_control_frames_total", "counter", "Sealed control frames.", num(t.frames_sealed),
        {{"direction", "out"}});
  w.add("weft_control_frames_total", "counter", "", num(t.frames_opened), {{"direction", "in"}});
  w.add("weft_control_bytes_total", "counter", "Control-connection bytes.", num(t.bytes_out),
        {{"direction", "out"}});
  w.add("weft_control_bytes_total", "counter", "", num(t.bytes_in), {{"direction", "in"}});
  const std::string drop = "weft_control_dropped_total";
  const std::string drop_help = "Control frames dropped (the connection is closed) by reason.";
  w.add(drop, "counter", drop_help, num(t.frame_auth_failures), {{"reason", "bad_auth"}});
  w.add(drop, "counter", "", num(t.frame_oversize), {{"reason", "too_big"}});
  w.add(drop, "counter", "", num(t.frame_malformed), {{"reason", "malformed"}});
  w.add("weft_heartbeat_timeouts_total", "counter", "Control connections closed as silent.",
        num(t.heartbeat_timeouts));
  w.add("weft_accepts_total", "counter", "Incoming TCP connections by outcome.", num(t.accepts),
        {{"outcome", "accepted"}});
  w.add("weft_accepts_total", "counter", "", num(t.accepts_rate_limited),
        {{"outcome", "rate_limited"}});
  w.add("weft_accepts_total", "counter", "", num(t.accepts_overloaded),
        {{"outcome", "overloaded"}});
}

void ipam_metrics(PrometheusWriter& w, const ipam::AllocatorStatus& s) {
  w.add("weft_ipam_ready", "gauge", "1 when every configured range has a ring.", s.ready ? 1 : 0);
  for (const auto& r : s.rings) {
    const std::string family = family_key(r.family);
    double owned = 0;
    for (const auto& p : r.peers) {
      if (p.peer == s.self) {
        owned = big(p.owned);
      }
    }
    const char* help =
        "Addresses of a range by state on this peer (owned: the share of the "
        "range this peer owns; allocated: held by containers here; free: "
        "allocatable here now).";
    w.add("weft_ipam_addresses", "gauge", help, owned, {{"family", family}, {"state", "owned"}});
    w.add("weft_ipam_addresses", "gauge", "", num(r.allocated),
          {{"family", family}, {"state", "allocated"}});
    w.add("weft_ipam_addresses", "gauge", "", big(r.free_here),
          {{"family", family}, {"state", "free"}});
  }
  w.add("weft_ipam_stray_addresses", "gauge",
        "Addresses held here in ranges another peer owns now.", num(s.stray));
  ipam::for_each_stat(s.stats, [&](std::string_view op, std::uint64_t v) {
    w.add("weft_ipam_operations_total", "counter", "IPAM operations and failures by kind.", num(v),
          {{"op", std::string(op)}});
  });
}

void dataplane_metrics(PrometheusWriter& w, const datapath::DataplaneStatus& dp) {
  w.add("weft_overlay_mtu", "gauge", "MTU of the overlay bridge.", num(dp.mtu));
  w.add("weft_local_macs", "gauge", "Container MACs learnt on the local bridge.",
        num(dp.local_macs));
  if (dp.sleeve.available) {
    const auto& sl = dp.sleeve.stats;
    sl.for_each([&](std::string_view key, std::uint64_t value) {
      if (key.rfind("drop_", 0) == 0) {
        w.add("weft_sleeve_dropped_total", "counter",
              "Sleeve packets dropped by reason (auth_failed, replay, oversize, no_route, ...).",
              num(value), {{"reason", std::string(key.substr(5))}});
      }
    });
    w.add("weft_datapath_bytes_total", "counter", "Underlay bytes carried by a datapath.",
          num(sl.tx_bytes), {{"datapath", "sleeve"}, {"direction", "out"}});
    w.add("weft_datapath_bytes_total", "counter", "", num(sl.rx_bytes),
          {{"datapath", "sleeve"}, {"direction", "in"}});
    w.add("weft_datapath_packets_total", "counter", "Underlay packets carried by a datapath.",
          num(sl.tx_datagrams), {{"datapath", "sleeve"}, {"direction", "out"}});
    w.add("weft_datapath_packets_total", "counter", "", num(sl.rx_datagrams),
          {{"datapath", "sleeve"}, {"direction", "in"}});
    w.add("weft_sleeve_relayed_frames_total", "counter", "Frames relayed for other peers.",
          num(sl.relayed_frames));
  }
  for (const auto& [family, st] : dp.heartbeats) {
    for (const auto& [kind, v] : std::initializer_list<std::pair<const char*, std::uint64_t>>{
             {"pings_sent", st.pings_sent},
             {"pongs_sent", st.pongs_sent},
             {"pongs_received", st.pongs_received},
             {"bad_frames", st.bad_frames}}) {
      w.add("weft_fastdp_heartbeats_total", "counter", "Fast datapath heartbeat frames.", num(v),
            {{"family", family_key(family)}, {"kind", kind}});
    }
  }
}

}  // namespace

std::string render_metrics(const DaemonStatus& status) {
  PrometheusWriter w;
  const router::RouterStatus& r = status.router;
  w.add("weft_up", "gauge", "1 while weftd answers.", 1);
  w.add("weft_uptime_seconds", "gauge", "Seconds since weftd started.",
        static_cast<double>(status.uptime.count()));
  w.add("weft_peers", "gauge", "Peers in the topology (this one included).", num(r.peers.size()));
  w.add("weft_reachable_peers", "gauge", "Peers reachable through the mesh.", num(r.reachable));
  std::map<std::string, double> by_state;
  for (auto state : {TargetState::kConnecting, TargetState::kPending, TargetState::kEstablished,
                     TargetState::kRetrying, TargetState::kFailed}) {
    by_state[std::string(to_string(state))] = 0;
  }
  std::map<std::tuple<std::string, std::string>, double> by_path;
  for (const auto& c : r.connections) {
    by_state[std::string(to_string(c.state))] += 1;
    if (c.state == TargetState::kEstablished) {
      // As /report shows the connection (report.cpp): the data plane's choice, if any.
      const datapath::PeerDatapath* dp = datapath_of(status, c);
      const DatapathKind kind = dp != nullptr ? dp->kind : DatapathKind::kNone;
      const bool encrypted = kind != DatapathKind::kNone ? dp->encrypted : c.encrypted;
      by_path[{std::string(to_string(kind)), encrypted ? "true" : "false"}] += 1;
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
  transport_metrics(w, status.transport);
  const auto& g = r.gossip;
  w.add("weft_gossip_messages_total", "counter", "Gossip messages by kind and direction.",
        num(g.updates_sent), {{"kind", "update"}, {"direction", "out"}});
  w.add("weft_gossip_messages_total", "counter", "", num(g.updates_received),
        {{"kind", "update"}, {"direction", "in"}});
  w.add("weft_gossip_messages_total", "counter", "", num(g.digests_sent),
        {{"kind", "digest"}, {"direction", "out"}});
  w.add("weft_gossip_messages_total", "counter", "", num(g.digests_received),
        {{"kind", "digest"}, {"direction", "in"}});
  w.add("weft_gossip_malformed_total", "counter", "Malformed gossip messages dropped.",
        num(g.malformed));
  if (status.dataplane) {
    dataplane_metrics(w, *status.dataplane);
  }
  if (status.ipam) {
    ipam_metrics(w, *status.ipam);
  }
  w.add("weft_containers", "gauge", "Container interfaces in the registry (weft ps).",
        status.containers ? static_cast<double>(*status.containers) : 0);
  return w.text();
}

}  // namespace weft::weftd
