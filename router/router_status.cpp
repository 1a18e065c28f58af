// Router: the status snapshot and the views derived from the topology (our own record,
// discovered targets).
#include <set>

#include "router/router.hpp"

namespace weft::router {

std::vector<ConnectionRecord> Router::own_connections() const {
  std::vector<ConnectionRecord> out;
  out.reserve(conns_.size());
  for (const auto& [name, c] : conns_) {
    out.push_back(
        {.name = name, .address = c.address, .outbound = c.outbound, .established = c.established});
  }
  return out;
}

void Router::refresh_discovered() {
  std::vector<std::string> addresses;
  if (config_.discovery) {
    std::set<std::string> seen;
    for (const auto& [name, record] : topology_.records()) {
      if (name == config_.name) {
        continue;
      }
      for (const ConnectionRecord& c : record.connections) {
        if (c.established && c.name != config_.name && !conns_.contains(c.name) &&
            topology_.find(c.name) != nullptr && !c.address.empty() &&
            seen.insert(c.address).second) {
          addresses.push_back(c.address);
        }
      }
    }
  }
  maker_.set_discovered(addresses, clock_.now());
  // A peer that (re)appears in the topology (new, or restarted with a new uid) is up again:
  // targets tied to it that were backing off are redialled soon instead of after the backoff.
  std::map<PeerName, std::uint64_t> uids;
  for (const auto& [name, record] : topology_.records()) {
    if (name == config_.name) {
      continue;
    }
    uids.emplace(name, record.uid);
    const auto it = seen_uids_.find(name);
    if ((it == seen_uids_.end() || it->second != record.uid) && !conns_.contains(name)) {
      maker_.peer_appeared(name, clock_.now());
    }
  }
  seen_uids_ = std::move(uids);
  dial_wake_.notify();
}

std::optional<PeerInfo> Router::connection_info(PeerName peer) const {
  auto it = conns_.find(peer);
  if (it == conns_.end() || !it->second.established) {
    return std::nullopt;
  }
  return it->second.info;
}

RouterStatus Router::status() const {
  RouterStatus s;
  const PeerRecord& self = topology_.self();
  s.name = self.name;
  s.nickname = self.nickname;
  s.uid = self.uid;
  s.version = self.version;
  s.reachable = routes().reachable_peers().size();
  s.gossip = gossip_.stats();
  for (const auto& [name, r] : topology_.records()) {
    s.peers.push_back({.name = r.name,
                       .nickname = r.nickname,
                       .uid = r.uid,
                       .version = r.version,
                       .connections = r.connections});
  }
  std::set<PeerName> shown;
  for (const auto& [address, t] : maker_.targets()) {
    ConnectionStatus cs{.address = address,
                        .outbound = true,
                        .state = t.state,
                        .info = t.last_error,
                        .peer = t.peer,
                        .attempts = t.attempts};
    if (t.state == TargetState::kRetrying || t.state == TargetState::kFailed) {
      if (t.next_try != Clock::TimePoint::max()) {
        cs.next_retry = t.next_try;
      }
    }
    if (t.peer) {
      if (auto it = conns_.find(*t.peer); it != conns_.end() && t.state != TargetState::kRetrying &&
                                          t.state != TargetState::kFailed &&
                                          t.state != TargetState::kConnecting) {
        const Conn& c = it->second;
        cs.outbound = c.outbound;
        cs.state = c.established ? TargetState::kEstablished : TargetState::kPending;
        cs.peer_nickname = c.info.nickname;
        cs.encrypted = c.info.encrypted;
        cs.info = fmt::format("protocol {}{}", c.info.protocol_version,
                              c.info.encrypted ? ", encrypted" : "");
        shown.insert(*t.peer);
      }
    }
    s.connections.push_back(std::move(cs));
  }
  for (const auto& [name, c] : conns_) {
    if (shown.contains(name)) {
      continue;
    }
    s.connections.push_back(
        {.address = c.info.remote_address,
         .outbound = c.outbound,
         .state = c.established ? TargetState::kEstablished : TargetState::kPending,
         .info = fmt::format("protocol {}{}", c.info.protocol_version,
                             c.info.encrypted ? ", encrypted" : ""),
         .peer = name,
         .peer_nickname = c.info.nickname,
         .encrypted = c.info.encrypted});
  }
  return s;
}

}  // namespace weft::router
