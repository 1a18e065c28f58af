// The /report JSON of weftd (and what `weft report` prints). Keys are a contract with
// operators and scripts: router.name, router.nickname, router.encryption, router.peers[]
// (name, nickname, connections[]), router.connections[] (address, outbound, state, info,
// datapath, encrypted). New keys may be added; existing ones are not renamed.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "datapath/dataplane.hpp"
#include "router/handshake.hpp"
#include "router/router.hpp"

namespace weft::weftd {

using datapath::Dataplane;
using datapath::PeerDatapath;
using router::PeerName;
using router::PublicKey;
using router::RouterStatus;
using router::TransportStats;

struct ReportInputs {
  const RouterStatus& status;
  const TransportStats& transport;
  Clock::TimePoint now;
  std::chrono::seconds uptime{0};
  std::uint16_t port = 6783;
  bool password = false;
  std::optional<PublicKey> static_key;
  std::size_t trusted_keys = 0;
  std::vector<std::string> trusted_subnets;
  bool discovery = true;
  std::size_t conn_limit = 200;
  std::vector<std::string> targets;
  // Per peer: how its traffic travels (absent: no data plane, "datapath" is "none").
  std::map<PeerName, PeerDatapath> datapaths{};
  nlohmann::json dataplane{};  // Dataplane::report(), or null without a data plane
  nlohmann::json ipam{};       // ipam::status_json(), or null without IPAM
};

nlohmann::json build_report(const ReportInputs& in);

// Plain-text body of GET /status (like `weft status`, without the version header).
std::string status_text(const nlohmann::json& report);

}  // namespace weft::weftd
