// weftd's HTTP API: the route table of api/paths.hpp bound to weftd's handlers, on the
// control server (unix socket) and the status server (TCP status address). The only place
// in weftd that registers routes: every route of the table is registered on exactly the
// servers the table names (so nothing that changes state answers over TCP), and no other.
//
// What each route does (the wire is documented in api/):
//   /status /report /metrics      the renderings the daemon gives (HttpApiDeps)
//   /connect /forget              the router's explicit targets (api/control.hpp)
//   /expose /hide                 addresses on the bridge; from IPAM when none are given
//   /ip... /peer/{name}           ipam/api.hpp on the allocator (api/ipam.hpp)
//   /containers...                the container registry (api/containers.hpp)
//   / /ui/{file} /events          the status page (web-ui/routes.hpp)
// Requests reach handlers decoded once by the server; each handler parses its typed request
// with api/ and answers 400 with the parser's message when it does not parse.
//
// Contract: control thread only (the servers' executor). bind_http_api() before the servers
// start; the handlers share one state that the servers keep alive, and use what HttpApiDeps
// refers to, which must outlive both servers (weftd's Daemon stops them first). IPAM and
// the data plane may be absent (their getters return null): IPAM routes then answer 404
// "IPAM is off", expose/hide 503.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/http_server.hpp"
#include "datapath/datapath.hpp"
#include "router/router.hpp"
#include "web-ui/report_events.hpp"
#include "weftd/containers.hpp"
#include "weftd/ipam_service.hpp"

namespace weft::weftd {

struct HttpApiDeps {
  router::Router& router;
  // The explicit targets (command line, `weft connect`); /connect and /forget keep it in
  // step with the router (the report lists it).
  std::vector<std::string>& targets;
  ContainerRegistry& containers;
  std::function<IpamService*()> ipam;              // null with --no-ipam
  std::function<datapath::Datapath*()> dataplane;  // null when not running
  std::function<bool()> ready;                     // /status 200 (else 503 "starting")
  std::function<std::string()> status_text;        // the body of /status
  std::function<nlohmann::json()> report;          // /report and the page's /events
  std::function<std::string()> metrics;            // the body of /metrics
  web_ui::EventOptions events{};
};

void bind_http_api(HttpApiDeps deps, HttpServer& control, HttpServer& status);

}  // namespace weft::weftd
