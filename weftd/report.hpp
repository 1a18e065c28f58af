// The /report JSON of weftd (and what `weft report` prints). Keys are a contract with
// operators and scripts: router.name, router.nickname, router.encryption, router.peers[]
// (name, nickname, connections[]), router.connections[] (address, outbound, state, info,
// datapath, encrypted), policy (this node's weft-npc, policy_summary.hpp, plus "url"; absent
// when not polled) and router.peers[].policy (each node's, from gossip, when it published
// one). New keys may be added; existing ones are not renamed.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "weftd/status.hpp"

namespace weft::weftd {

nlohmann::json build_report(const DaemonStatus& status);

// Plain-text body of GET /status (like `weft status`, without the version header).
std::string status_text(const DaemonStatus& status);

}  // namespace weft::weftd
