// The handlers of the status page's routes (their paths and server are in weftd's route
// table, api/paths.hpp; weftd/http_api.cpp binds them on the status address):
//   GET /            index.html
//   GET /ui/{file}   the other embedded assets (app.js, style.css, favicon.svg)
//   GET /events      text/event-stream of the report (report_events.hpp)
//
// Contract: the handlers run on the server's executor (the control thread). `report` is
// called there and must return weftd's /report JSON; the handler keeps it (by value) as long
// as the server keeps the handler. Read-only: nothing here changes weftd's state.
#pragma once

#include "common/http_server.hpp"
#include "web-ui/report_events.hpp"

namespace weft::web_ui {

Handler page_handler();
Handler asset_handler();  // reads the route parameter {file}
StreamHandler events_handler(ReportSource report, EventOptions options = {});

}  // namespace weft::web_ui
