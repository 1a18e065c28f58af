// DaemonStatus: one typed snapshot of everything weftd reports. /report (report.hpp), GET
// /status and /metrics (metrics.hpp) are all rendered from it, so the three never disagree
// and a renamed field is a compile error rather than a silent 0 in a dashboard.
//
// Contract: a value; built on the control thread by the daemon (daemon.cpp) from the
// router, the transport, the data plane, IPAM and the container registry.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/cidr.hpp"
#include "common/clock.hpp"
#include "datapath/datapath.hpp"
#include "ipam/allocator.hpp"
#include "router/crypto.hpp"
#include "router/handshake.hpp"
#include "router/router.hpp"
#include "weftd/policy_channel.hpp"
#include "weftd/policy_summary.hpp"

namespace weft::weftd {

struct DaemonStatus {
  router::RouterStatus router{};
  router::TransportStats transport{};
  Clock::TimePoint now{};
  std::chrono::seconds uptime{0};
  // Configuration worth showing.
  std::uint16_t port = 6783;
  bool password = false;
  std::optional<router::PublicKey> static_key{};
  std::size_t trusted_keys = 0;
  std::vector<Cidr> trusted_subnets{};
  bool discovery = true;
  std::size_t conn_limit = 200;
  std::vector<std::string> targets{};
  // Per connected peer: how its traffic travels (absent without a data plane).
  std::map<router::PeerName, datapath::PeerDatapath> datapaths{};
  std::optional<datapath::DataplaneStatus> dataplane{};  // absent: --no-dataplane or failed
  std::optional<ipam::AllocatorStatus> ipam{};           // absent: --no-ipam
  std::optional<std::int64_t> containers{};              // absent: the registry failed
  // This node's weft-npc (absent: --npc-status-url ""), and every node's summary known here.
  std::optional<PolicySummary> policy{};
  std::string policy_url{};
  std::map<router::PeerName, PolicyEntry> policies{};
};

// The datapath of a connection as /report shows it: the data plane's choice for an
// established connection to a peer, else none.
const datapath::PeerDatapath* datapath_of(const DaemonStatus& status,
                                          const router::ConnectionStatus& connection);

}  // namespace weft::weftd
