#include "api/paths.hpp"

#include <array>
#include <cassert>

#include "common/http_parse.hpp"

namespace weft::api {
namespace {

using enum RouteId;
using M = Method;
using R = Reach;

constexpr std::array kRoutes = {
    Route{kStatus, M::kGet, "/status", R::kBoth, false,
          "200 with the status text once initial peers were tried, 503 before"},
    Route{kReport, M::kGet, "/report", R::kBoth, false, "the whole state as JSON"},
    Route{kMetrics, M::kGet, "/metrics", R::kBoth, false, "Prometheus text"},
    Route{kContainerList, M::kGet, "/containers", R::kBoth, false,
          "the container registry: {\"containers\": [...], \"bridge\"}"},

    Route{kConnect, M::kPost, "/connect", R::kControl, false,
          "add peers: {\"peers\": [\"host:port\"], \"replace\": bool}"},
    Route{kForget, M::kPost, "/forget", R::kControl, false, "drop peers: {\"peers\": [...]}"},
    Route{kExpose, M::kPost, "/expose", R::kControl, false,
          "put addresses on the bridge: {\"cidrs\": [...]} or {} (IPAM picks)"},
    Route{kHide, M::kPost, "/hide", R::kControl, false, "take them off: {\"cidrs\": [...]} or {}"},

    Route{kIpList, M::kGet, "/ip", R::kControl, false, "every allocation here (JSON)"},
    Route{kIpAllocate, M::kPost, "/ip/{id}", R::kControl, false,
          "allocate (?family=ipv4|ipv6|dual&ifname=); waits for a donation"},
    Route{kIpAllocateIn, M::kPost, "/ip/{id}/{net}/{len}", R::kControl, false,
          "allocate inside a subnet (?family=&ifname=)"},
    Route{kIpClaim, M::kPut, "/ip/{id}/{addr}", R::kControl, false, "claim an address (?ifname=)"},
    Route{kIpClaimPrefix, M::kPut, "/ip/{id}/{addr}/{len}", R::kControl, false,
          "claim an address with its prefix length (?ifname=)"},
    Route{kIpLookup, M::kGet, "/ip/{id}", R::kControl, false, "the container's addresses"},
    Route{kIpRelease, M::kDelete, "/ip/{id}", R::kControl, false,
          "release the container's addresses (?ifname= only that interface's)"},
    Route{kIpReleaseOne, M::kDelete, "/ip/{id}/{addr}", R::kControl, false,
          "release one address (?ifname=)"},
    Route{kIpReleaseOnePrefix, M::kDelete, "/ip/{id}/{addr}/{len}", R::kControl, false,
          "release one address given with a prefix length (ignored)"},
    Route{kRmpeer, M::kDelete, "/peer/{name}", R::kControl, false,
          "take over the ranges of a peer that is gone"},

    Route{kContainerPut, M::kPut, "/containers/{id}/{ifname}", R::kControl, false,
          "register an attached container interface (body: the record)"},
    Route{kContainerDelete, M::kDelete, "/containers/{id}/{ifname}", R::kControl, false,
          "unregister one interface"},
    Route{kContainerDeleteAll, M::kDelete, "/containers/{id}", R::kControl, false,
          "unregister every interface of a container"},

    Route{kWebPage, M::kGet, "/", R::kStatus, false, "the status page"},
    Route{kWebAsset, M::kGet, "/ui/{file}", R::kStatus, false, "the status page's assets"},
    Route{kWebEvents, M::kGet, "/events", R::kStatus, true,
          "server-sent events carrying /report on every change"},
};

constexpr bool table_is_sound() {
  for (std::size_t i = 0; i < kRoutes.size(); ++i) {
    const Route& r = kRoutes[i];
    // Indexed by id (route() relies on it).
    if (static_cast<std::size_t>(r.id) != i) {
      return false;
    }
    // Only reading is reachable over TCP.
    if (serves(r.reach, Server::kStatus) && r.method != Method::kGet) {
      return false;
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (kRoutes[j].method == r.method && kRoutes[j].pattern == r.pattern) {
        return false;
      }
    }
  }
  return true;
}
static_assert(table_is_sound(),
              "api routes: in RouteId order, unique, and only GET on the status address");

}  // namespace

std::span<const Route> routes() {
  return kRoutes;
}

const Route& route(RouteId id) {
  return kRoutes[static_cast<std::size_t>(id)];
}

std::string target(RouteId id, std::initializer_list<std::string_view> params,
                   const QueryPairs& query) {
  const std::string_view pattern = route(id).pattern;
  std::string out;
  auto next = params.begin();
  std::size_t at = 0;
  while (at < pattern.size()) {
    const auto open = pattern.find('{', at);
    if (open == std::string_view::npos) {
      out += pattern.substr(at);
      break;
    }
    out += pattern.substr(at, open - at);
    at = pattern.find('}', open) + 1;
    assert(next != params.end() && "api::target: fewer values than parameters");
    if (next != params.end()) {
      out += percent_encode(*next++);
    }
  }
  assert(next == params.end() && "api::target: more values than parameters");
  char sep = '?';
  for (const auto& [key, value] : query) {
    if (!value) {
      continue;
    }
    out.push_back(sep);
    out += percent_encode(key);
    out.push_back('=');
    out += percent_encode(*value);
    sep = '&';
  }
  return out;
}

Result<std::string> param(const RouteParams& params, std::string_view name) {
  auto it = params.find(name);
  if (it == params.end()) {
    return make_error(Errc::kInvalidArgument, "no path parameter {{{}}}", name);
  }
  return it->second;
}

}  // namespace weft::api
