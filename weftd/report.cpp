#include "weftd/report.hpp"

#include "common/version.hpp"
#include "router/crypto.hpp"
#include <fmt/format.h>

namespace weft::weftd {

using datapath::PeerDatapath;
using router::ConnectionStatus;
using router::key_to_base64;
using router::kMaxProtocolVersion;
using router::PeerName;
using router::PeerStatus;
using router::RouterStatus;
using router::TransportStats;
namespace {

using nlohmann::json;

json connection_json(const ConnectionStatus& c, Clock::TimePoint now,
                     const std::map<PeerName, PeerDatapath>& datapaths) {
  // "encrypted" is about the container traffic to that peer when a data plane carries it
  // (fastdp is never encrypted), else about the control connection.
  const PeerDatapath* dp = nullptr;
  if (c.peer && c.state == "established") {
    if (auto it = datapaths.find(*c.peer); it != datapaths.end()) {
      dp = &it->second;
    }
  }
  json j = {
      {"address", c.address},
      {"outbound", c.outbound},
      {"state", c.state},
      {"info", c.info},
      {"datapath", dp != nullptr ? dp->datapath : "none"},
      {"encrypted", dp != nullptr && dp->datapath != "none" ? dp->encrypted : c.encrypted},
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
    const auto in = std::chrono::duration_cast<std::chrono::milliseconds>(*c.next_retry - now);
    j["retry_in_ms"] = std::max<std::int64_t>(0, in.count());
  }
  return j;
}

json peer_json(const PeerStatus& p, const RouterStatus& status) {
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
  return {{"name", p.name.to_string()},
          {"nickname", p.nickname},
          {"uid", std::to_string(p.uid)},
          {"version", p.version},
          {"connections", conns}};
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

}  // namespace

json build_report(const ReportInputs& in) {
  const RouterStatus& s = in.status;
  json peers = json::array();
  for (const auto& p : s.peers) {
    peers.push_back(peer_json(p, s));
  }
  json conns = json::array();
  for (const auto& c : s.connections) {
    conns.push_back(connection_json(c, in.now, in.datapaths));
  }
  json router = {
      {"name", s.name.to_string()},
      {"nickname", s.nickname},
      {"uid", std::to_string(s.uid)},
      {"version", s.version},
      {"protocol", "weft"},
      {"protocol_version", kMaxProtocolVersion},
      {"port", in.port},
      {"encryption", in.password ? "enabled" : "disabled"},
      {"authentication", in.trusted_keys > 0 ? "trusted-keys"
                         : in.password       ? "password"
                                             : "none"},
      {"trusted_keys", in.trusted_keys},
      {"trusted_subnets", in.trusted_subnets},
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
    router["public_key"] = key_to_base64(*in.static_key);
  }
  if (!in.dataplane.is_null()) {
    router["dataplane"] = in.dataplane;
  }
  json out = {{"version", std::string(kVersion)},
              {"uptime_seconds", in.uptime.count()},
              {"router", router}};
  if (!in.ipam.is_null()) {
    out["ipam"] = in.ipam;
  }
  return out;
}

std::string status_text(const json& report) {
  const json& r = report["router"];
  size_t established = 0;
  for (const auto& c : r["connections"]) {
    established += c["state"] == "established" ? 1 : 0;
  }
  return fmt::format("Name: {}({})\nEncryption: {}\nPeers: {}\nConnections: {} ({} established)\n",
                     r["name"].get<std::string>(), r["nickname"].get<std::string>(),
                     r["encryption"].get<std::string>(), r["peers"].size(), r["connections"].size(),
                     established);
}

}  // namespace weft::weftd
