// weft-npc's own HTTP endpoints (read-only, on --metrics-address):
//   GET /metrics   Prometheus text: weft_npc_blocked_total{direction,protocol} (new
//                  connections dropped by policy, from the program's counters), policies,
//                  local and isolated pods, rule groups, syncs, write failures, heals, the
//                  pod-rules latency histogram, and per watched resource its sync state,
//                  relists and watch restarts.
//   GET /status    the same as JSON for people and the status page, with the recent blocked
//                  connections (from NFLOG).
//
// Contract: render_* are pure functions of their arguments; register_npc_routes binds them
// (handlers run on the server's executor, the controller's thread).
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "common/http_server.hpp"
#include "policy/controller.hpp"

namespace weft::policy {

using BlockedCounters = std::map<std::string, std::uint64_t>;

std::string render_metrics(const Controller& controller, const BlockedCounters& counters);
nlohmann::json render_status(const Controller& controller, const BlockedCounters& counters,
                             Clock::TimePoint now);

void register_npc_routes(HttpServer& server, Controller& controller, Clock& clock);

}  // namespace weft::policy
