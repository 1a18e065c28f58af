// The status page's routes, added to one of weftd's HTTP servers (the status address):
//   GET /            index.html
//   GET /ui/{file}   the other embedded assets (app.js, style.css, favicon.svg)
//   GET /events      text/event-stream of the report (report_events.hpp)
//
// Contract: call before the server starts (HttpServer's rule). `report` is called on the
// server's executor (the control thread) and must return weftd's /report JSON; it is kept
// (by value) as long as the server. Read-only: nothing here changes weftd's state.
#pragma once

#include "common/http_server.hpp"
#include "web-ui/report_events.hpp"

namespace weft::web_ui {

void add_web_routes(HttpServer& server, ReportSource report, EventOptions options = {});

}  // namespace weft::web_ui
