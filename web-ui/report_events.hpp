// The /events stream of the status page: server-sent events carrying weftd's /report JSON.
//
// Contract: runs on the HTTP server's executor (the control thread), like every handler;
// `report` is called there, once per check. The stream starts with a "retry" hint (the
// browser reconnects after 2 s when weftd restarts), then one "report" event with the full
// report at once, and another whenever the report changes (checked every
// `check_interval`; "uptime_seconds" alone ticking is no change: the page counts it on).
// Without changes a ": keepalive" comment goes out every `keepalive_interval`, so proxies
// and the browser see a live connection. The handler returns when the client goes away
// (a failed write); on server stop it is cancelled (its wait throws operation_aborted).
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <nlohmann/json.hpp>

#include "common/http_server.hpp"

namespace weft::web_ui {

using ReportSource = std::function<nlohmann::json()>;

struct EventOptions {
  std::chrono::milliseconds check_interval{1000};
  std::chrono::milliseconds keepalive_interval{15000};
};

// What decides "the report changed": the report serialised without "uptime_seconds".
std::string report_fingerprint(const nlohmann::json& report);

// The stream handler body (see the contract above). Parameters by value (coroutine).
boost::asio::awaitable<void> stream_report_events(ResponseStream out, ReportSource report,
                                                  EventOptions options);

}  // namespace weft::web_ui
