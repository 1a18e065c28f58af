// weftd's HTTP API as data: every route (method, pattern, which server answers it, what it
// does), and the builders of request targets that weft-cni, the CLI and the tests use.
//
// weftd listens twice:
//   control  the unix socket (/run/weft/weft.sock, root only): every route that changes
//            state, and the read-only ones a local client needs;
//   status   the TCP status address (127.0.0.1:6784): read-only routes only, and the web
//            status page. Nothing that changes state is reachable over TCP (checked at
//            compile time in paths.cpp, and by tests/unit/weftd/http_api_test.cpp).
// weftd/http_api.cpp binds this table to handlers: it is the only place in weftd that
// registers routes, and it registers exactly these.
//
// Design note (one place decodes): a route parameter ({id}) is one path segment and every
// query value is one query field; clients build targets only through target() and the typed
// builders beside the request types (ipam.hpp, containers.hpp), which percent-encode every
// parameter and query value (RFC 3986 unreserved characters stay as they are). The server
// decodes each exactly once (common/http_parse.hpp) before a handler sees it, so an id
// with reserved characters ("a b?c%d") is the same id from every client. A parameter that
// decodes to something containing '/' is refused with 400 by the server.
//
// Contract: constexpr data and pure functions; nothing here throws on a well-formed call
// (target() asserts that the caller passes one value per parameter of the pattern).
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/http.hpp"

namespace weft::api {

// Which of weftd's servers answer a route.
enum class Server { kControl, kStatus };
enum class Reach { kControl, kStatus, kBoth };

constexpr bool serves(Reach reach, Server server) {
  return reach == Reach::kBoth || (reach == Reach::kControl) == (server == Server::kControl);
}

enum class RouteId {
  // Read-only, both servers.
  kStatus,
  kReport,
  kMetrics,
  kContainerList,
  // Mesh and bridge (control).
  kConnect,
  kForget,
  kExpose,
  kHide,
  // IPAM (control), shaped like Weave Net's.
  kIpList,
  kIpAllocate,
  kIpAllocateIn,
  kIpClaim,
  kIpClaimPrefix,
  kIpLookup,
  kIpRelease,
  kIpReleaseOne,
  kIpReleaseOnePrefix,
  kRmpeer,
  // Container registry (control).
  kContainerPut,
  kContainerDelete,
  kContainerDeleteAll,
  // The web status page (status).
  kWebPage,
  kWebAsset,
  kWebEvents,
};

struct Route {
  RouteId id;
  Method method;
  std::string_view pattern;  // "/ip/{id}/{addr}" (common/http_parse.hpp RoutePattern)
  Reach reach;
  bool stream = false;  // a streamed (server-sent events) response
  std::string_view summary;
};

// Every route of weftd, in registration order (the first match wins; no two routes share
// a method and a pattern).
std::span<const Route> routes();
const Route& route(RouteId id);

// The request target of `id`: its pattern with `params` (one per {name}, in order)
// percent-encoded into the segments, then `query` (pairs in order, keys and values
// percent-encoded; pairs with no value are left out). E.g.
//   target(RouteId::kIpAllocate, {"a b"}, {{"ifname", "eth0"}}) == "/ip/a%20b?ifname=eth0"
using QueryPairs = std::vector<std::pair<std::string_view, std::optional<std::string>>>;
std::string target(RouteId id, std::initializer_list<std::string_view> params = {},
                   const QueryPairs& query = {});

// The parameter `name` bound by the server, or kInvalidArgument naming it when missing
// (a handler bound to a route without that parameter: a programming error shown as 400).
Result<std::string> param(const RouteParams& params, std::string_view name);

}  // namespace weft::api
