#include "weftd/report.hpp"

#include "common/version.hpp"
#include "ipam/api.hpp"
#include "router/crypto.hpp"
#include "router/protocol.hpp"
#include <fmt/format.h>

namespace weft::weftd {

using datapath::DatapathKind;
using datapath::DataplaneStatus;
using datapath::PeerDatapath;
using router::ConnectionStatus;

using router::PeerStatus;
using router::RouterStatus;
using router::TargetState;
using router::TransportStats;

const PeerDatapath* datapath_of(const DaemonStatus& status, const ConnectionStatus& c) {
  if (!c.peer || c.state != TargetState::kEstablished) {
    return nullptr;
  }
  auto it = status.datapaths.find(*c.peer);
  return it == status.datapaths.end() ? nullptr : &it->second;
}

namespace {

using nlohmann::json;

std::string family_key(IpFamily family) {
  return family == IpFamily::kV4 ? "ipv4" : "ipv6";
}

json connection_json(const ConnectionStatus& c, const DaemonStatus& status) {
  // "encrypted" is about the container traffic to that peer when a data plane carries it
  // (fastdp is never encrypted), else about the control connection.
  const PeerDatapath* dp = datapath_of(status, c);
  const bool carried = dp != nullptr && dp->kind != DatapathKind::kNone;
  json j = {
      {"address", c.address},
      {"outbound", c.outbound},
      {"state", to_string(c.state)},
      {"info", c.info},
      {"datapath", to_string(dp != nullptr ? dp->kind : DatapathKind::kNone)},
      {"encrypted", carried ? dp->encrypted : c.encrypted},
      {"control_encrypted", c.encrypted},
      {"attempts", c.attempts},
  };
  if (dp != nullptr) {
    j["datapath_info"] = dp->detail;
    if (dp->rtt) {
      j["rtt_us"] = std::chrono::duration_cast<std::chrono::microseconds>(*dp->rtt).count();
    }
  }
  if (c.peer) {
    j["peer"] = {{"name", c.peer->to_string()}, {"nickname", c.peer_nickname}};
  }
  if (c.next_retry) {
    const auto in =
        std::chrono::duration_cast<std::chrono::milliseconds>(*c.next_retry - status.now);
    j["retry_in_ms"] = std::max<std::int64_t>(0, in.count());
  }
  return j;
}

json peer_json(const PeerStatus& p, const DaemonStatus& in) {
  const RouterStatus& status = in.router;
  json conns = json::array();
  for (const auto& c : p.connections) {
    std::string nickname;
    for (const auto& other : status.peers) {
      if (other.name == c.name) {
        nickname = other.nickname;
      }
    }
    conns.push_back({{"name", c.name.to_string()},
                     {"nickname", nickname},
                     {"address", c.address},
                     {"outbound", c.outbound},
                     {"established", c.established}});
  }
  json out = {{"name", p.name.to_string()},
              {"nickname", p.nickname},
              {"uid", std::to_string(p.uid)},
              {"version", p.version},
              {"connections", conns}};
  // Only the summary of the peer's current launch (an earlier one's waits for collection).
  if (auto it = in.policies.find(p.name); it != in.policies.end() && it->second.uid == p.uid) {
    out["policy"] = policy_json(it->second.summary, in.now);
  }
  return out;
}

json transport_json(const TransportStats& t) {
  return {{"handshakes_ok", t.handshakes_ok},
          {"handshakes_failed",
           {{"version", t.handshake_failed_version},
            {"auth", t.handshake_failed_auth},
            {"untrusted", t.handshake_failed_untrusted},
            {"self", t.handshake_failed_self},
            {"timeout", t.handshake_failed_timeout},
            {"malformed", t.handshake_failed_malformed},
            {"io", t.handshake_failed_io}}},
          {"frames_sealed", t.frames_sealed},
          {"frames_opened", t.frames_opened},
          {"frame_auth_failures", t.frame_auth_failures},
          {"frame_oversize", t.frame_oversize},
          {"frame_malformed", t.frame_malformed},
          {"bytes_in", t.bytes_in},
          {"bytes_out", t.bytes_out},
          {"heartbeat_timeouts", t.heartbeat_timeouts},
          {"accepts", t.accepts},
          {"accepts_rate_limited", t.accepts_rate_limited},
          {"accepts_overloaded", t.accepts_overloaded},
          {"dials_failed", t.dials_failed}};
}

json sleeve_json(const datapath::SleeveStatus& sl) {
  if (!sl.available) {
    return {{"available", false}, {"error", sl.error}};
  }
  json stats = json::object();
  sl.stats.for_each(
      [&](std::string_view name, std::uint64_t value) { stats[std::string(name)] = value; });
  json peers = json::array();
  for (const auto& p : sl.peers) {
    peers.push_back({{"peer", p.peer.to_string()},
                     {"path_ok", p.path_ok},
                     {"pmtu", p.pmtu},
                     {"pmtu_settled", p.pmtu_settled},
                     {"suite", datapath::sleeve_suite_name(p.suite)}});
  }
  return {{"available", true},
          {"suite", datapath::sleeve_suite_name(sl.suite)},
          {"stats", stats},
          {"peers", peers}};
}

json dataplane_json(const DataplaneStatus& dp) {
  json exposed = json::array();
  for (const Cidr& c : dp.exposed) {
    exposed.push_back(c.to_string());
  }
  json devices = json::array();
  for (const auto& d : dp.devices) {
    devices.push_back({{"name", d.name},
                       {"family", family_key(d.family)},
                       {"local", d.local.to_string()},
                       {"mtu", d.mtu},
                       {"mac", d.mac.to_string()}});
  }
  json errors = json::object();
  for (const auto& [family, error] : dp.errors) {
    errors[family_key(family)] = error;
  }
  json heartbeats = json::object();
  for (const auto& [family, st] : dp.heartbeats) {
    heartbeats[family_key(family)] = {{"pings_sent", st.pings_sent},
                                      {"pongs_sent", st.pongs_sent},
                                      {"pongs_received", st.pongs_received},
                                      {"bad_frames", st.bad_frames}};
  }
  return {{"bridge", dp.bridge},
          {"mtu", dp.mtu},
          {"underlay_mtu", dp.underlay_mtu},
          {"mode", to_string(dp.mode)},
          {"encryption_required", dp.encryption_required},
          {"fastdp", {{"devices", devices}, {"errors", errors}, {"heartbeats", heartbeats}}},
          {"local_macs", dp.local_macs},
          {"exposed", exposed},
          {"sleeve", sleeve_json(dp.sleeve)}};
}

}  // namespace

json build_report(const DaemonStatus& in) {
  const RouterStatus& s = in.router;
  json peers = json::array();
  for (const auto& p : s.peers) {
    peers.push_back(peer_json(p, in));
  }
  json conns = json::array();
  for (const auto& c : s.connections) {
    conns.push_back(connection_json(c, in));
  }
  std::vector<std::string> subnets;
  for (const Cidr& c : in.trusted_subnets) {
    subnets.push_back(c.to_string());
  }
  json mesh = {
      {"name", s.name.to_string()},
      {"nickname", s.nickname},
      {"uid", std::to_string(s.uid)},
      {"version", s.version},
      {"protocol", "weft"},
      {"protocol_version", router::kMaxProtocolVersion},
      {"port", in.port},
      {"encryption", in.password ? "enabled" : "disabled"},
      {"authentication", in.trusted_keys > 0 ? "trusted-keys"
                         : in.password       ? "password"
                                             : "none"},
      {"trusted_keys", in.trusted_keys},
      {"trusted_subnets", subnets},
      {"peer_discovery", in.discovery},
      {"conn_limit", in.conn_limit},
      {"targets", in.targets},
      {"reachable_peers", s.reachable},
      {"peers", peers},
      {"connections", conns},
      {"transport", transport_json(in.transport)},
      {"gossip",
       {{"updates_sent", s.gossip.updates_sent},
        {"updates_received", s.gossip.updates_received},
        {"digests_sent", s.gossip.digests_sent},
        {"digests_received", s.gossip.digests_received},
        {"malformed", s.gossip.malformed}}},
  };
  if (in.static_key) {
    mesh["public_key"] = router::key_to_base64(*in.static_key);
  }
  if (in.dataplane) {
    mesh["dataplane"] = dataplane_json(*in.dataplane);
  }
  json out = {
      {"version", std::string(kVersion)}, {"uptime_seconds", in.uptime.count()}, {"router", mesh}};
  if (in.ipam) {
    out["ipam"] = ipam::status_json(*in.ipam);
  }
  if (in.containers) {
    out["containers"] = *in.containers;
  }
  if (in.policy) {
    out["policy"] = policy_json(*in.policy, in.now);
    out["policy"]["url"] = in.policy_url;
  }
  return out;
}

std::string status_text(const DaemonStatus& status) {
  std::size_t established = 0;
  for (const auto& c : status.router.connections) {
    established += c.state == TargetState::kEstablished ? 1 : 0;
  }
  return fmt::format("Name: {}({})\nEncryption: {}\nPeers: {}\nConnections: {} ({} established)\n",
                     status.router.name.to_string(), status.router.nickname,
                     status.password ? "enabled" : "disabled", status.router.peers.size(),
                     status.router.connections.size(), established);
}

}  // namespace weft::weftd
