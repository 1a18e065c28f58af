// Design note: one HttpApi object holds the handlers; every bound std::function keeps it by
// shared_ptr, so it lives exactly as long as the servers hold routes. handler() switches
// over every RouteId without a default: a route added to the table and not bound here does
// not compile (-Wswitch, -Werror).
#include "weftd/http_api.hpp"

#include <algorithm>
#include <memory>

#include <boost/asio/awaitable.hpp>

#include "api/containers.hpp"
#include "api/control.hpp"
#include "api/paths.hpp"
#include "common/log.hpp"
#include "web-ui/routes.hpp"
#include "weftd/daemon_config.hpp"
#include "weftd/ipam_http.hpp"
#include <fmt/ranges.h>

namespace weft::weftd {
namespace {

namespace asio = boost::asio;
using api::RouteId;
using nlohmann::json;

class HttpApi {
 public:
  explicit HttpApi(HttpApiDeps deps) : d_(std::move(deps)) {}

  // The handler of route `id`; null for a stream route.
  Handler handler(const std::shared_ptr<HttpApi>& self, RouteId id);
  // The handler of stream route `id`; null for any other.
  StreamHandler stream_handler(RouteId id) const;

 private:
  using Sync = Response (HttpApi::*)(const Request&);
  using Async = asio::awaitable<Response> (HttpApi::*)(Request);
  static Handler bind(const std::shared_ptr<HttpApi>& self, Sync f) {
    return [self, f](Request req) -> asio::awaitable<Response> {
      co_return (*self.*f)(req);
    };
  }
  static Handler bind(const std::shared_ptr<HttpApi>& self, Async f) {
    return [self, f](Request req) -> asio::awaitable<Response> {
      co_return co_await (*self.*f)(std::move(req));
    };
  }

  // Read-only.
  Response status(const Request&);
  Response report(const Request&) { return Response::json(200, d_.report()); }
  Response metrics(const Request&);
  Response container_list(const Request&);
  // Mesh and bridge.
  Response connect(const Request& req);
  Response forget(const Request& req);
  asio::awaitable<Response> expose(Request req) { return expose_or_hide(std::move(req), true); }
  asio::awaitable<Response> hide(Request req) { return expose_or_hide(std::move(req), false); }
  asio::awaitable<Response> expose_or_hide(Request req, bool expose);
  asio::awaitable<Result<std::vector<Cidr>>> ipam_expose_addresses(bool expose);
  // IPAM (weftd/ipam_http.hpp).
  Response ip_list(const Request&) { return serve_ip_list(d_.ipam()); }
  asio::awaitable<Response> ip_allocate(Request req) {
    return serve_ip_allocate(d_.ipam(), std::move(req));
  }
  Response ip_claim(const Request& req) { return serve_ip_claim(d_.ipam(), req); }
  Response ip_lookup(const Request& req) { return serve_ip_lookup(d_.ipam(), req); }
  Response ip_release(const Request& req) { return serve_ip_release(d_.ipam(), req); }
  Response rmpeer(const Request& req) { return serve_rmpeer(d_.ipam(), req); }
  // Container registry.
  Response container_put(const Request& req);
  Response container_delete(const Request& req);

  HttpApiDeps d_;
};

Handler HttpApi::handler(const std::shared_ptr<HttpApi>& self, RouteId id) {
  switch (id) {
    case RouteId::kStatus:
      return bind(self, &HttpApi::status);
    case RouteId::kReport:
      return bind(self, &HttpApi::report);
    case RouteId::kMetrics:
      return bind(self, &HttpApi::metrics);
    case RouteId::kContainerList:
      return bind(self, &HttpApi::container_list);
    case RouteId::kConnect:
      return bind(self, &HttpApi::connect);
    case RouteId::kForget:
      return bind(self, &HttpApi::forget);
    case RouteId::kExpose:
      return bind(self, &HttpApi::expose);
    case RouteId::kHide:
      return bind(self, &HttpApi::hide);
    case RouteId::kIpList:
      return bind(self, &HttpApi::ip_list);
    case RouteId::kIpAllocate:
    case RouteId::kIpAllocateIn:
      return bind(self, &HttpApi::ip_allocate);
    case RouteId::kIpClaim:
    case RouteId::kIpClaimPrefix:
      return bind(self, &HttpApi::ip_claim);
    case RouteId::kIpLookup:
      return bind(self, &HttpApi::ip_lookup);
    case RouteId::kIpRelease:
    case RouteId::kIpReleaseOne:
    case RouteId::kIpReleaseOnePrefix:
      return bind(self, &HttpApi::ip_release);
    case RouteId::kRmpeer:
      return bind(self, &HttpApi::rmpeer);
    case RouteId::kContainerPut:
      return bind(self, &HttpApi::container_put);
    case RouteId::kContainerDelete:
    case RouteId::kContainerDeleteAll:
      return bind(self, &HttpApi::container_delete);
    case RouteId::kWebPage:
      return web_ui::page_handler();
    case RouteId::kWebAsset:
      return web_ui::asset_handler();
    case RouteId::kWebEvents:
      break;  // a stream route
  }
  return nullptr;
}

StreamHandler HttpApi::stream_handler(RouteId id) const {
  if (id == RouteId::kWebEvents) {
    return web_ui::events_handler(d_.report, d_.events);
  }
  return nullptr;
}

Response HttpApi::status(const Request&) {
  if (!d_.ready()) {
    return Response::text(503, "weftd is starting: initial peers not tried yet\n");
  }
  return Response::text(200, d_.status_text());
}

Response HttpApi::metrics(const Request&) {
  Response r = Response::text(200, d_.metrics());
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  return r;
}

Response HttpApi::container_list(const Request&) {
  auto list = d_.containers.list();
  if (!list) {
    return Response::error(500, list.error().message);
  }
  return Response::json(200, api::to_json(*list));
}

Response HttpApi::connect(const Request& req) {
  auto body = api::parse_peers_request(req.body);
  if (!body) {
    return Response::error(400, body.error().message);
  }
  auto& [peers, replace] = *body;
  for (const auto& p : peers) {
    if (auto ok = validate_peer_address(p); !ok) {
      return Response::error(400, ok.error().message);
    }
  }
  auto& targets = d_.targets;
  if (replace) {
    std::vector<std::string> drop;
    for (const auto& t : targets) {
      if (std::find(peers.begin(), peers.end(), t) == peers.end()) {
        drop.push_back(t);
      }
    }
    d_.router.forget(drop);
    std::erase_if(targets, [&](const std::string& t) {
      return std::find(drop.begin(), drop.end(), t) != drop.end();
    });
  }
  if (auto ok = d_.router.connect(peers); !ok) {
    return Response::error(400, ok.error().message);
  }
  for (const auto& p : peers) {
    if (std::find(targets.begin(), targets.end(), p) == targets.end()) {
      targets.push_back(p);
    }
  }
  log::info("connect requested", {{"peers", fmt::format("{}", fmt::join(peers, ","))}});
  return Response::json(200,
                        api::message_json(fmt::format("connecting to {} peer(s)", peers.size())));
}

Response HttpApi::forget(const Request& req) {
  auto body = api::parse_peers_request(req.body);
  if (!body) {
    return Response::error(400, body.error().message);
  }
  const auto& peers = body->peers;
  d_.router.forget(peers);
  std::erase_if(d_.targets, [&](const std::string& t) {
    return std::find(peers.begin(), peers.end(), t) != peers.end();
  });
  log::info("forget requested", {{"peers", fmt::format("{}", fmt::join(peers, ","))}});
  return Response::json(200, api::message_json(fmt::format("forgot {} peer(s)", peers.size())));
}

// The addresses of an expose/hide without a list: IPAM's "weft:expose" allocation, one per
// range, as `weave expose` without arguments.
asio::awaitable<Result<std::vector<Cidr>>> HttpApi::ipam_expose_addresses(bool expose) {
  IpamService* ipam = d_.ipam();
  if (ipam == nullptr) {
    co_return make_error(Errc::kInvalidArgument,
                         "IPAM is off (--no-ipam): give the addresses to expose");
  }
  if (expose) {
    co_return co_await ipam->expose_addresses();
  }
  co_return ipam->release_expose_addresses();
}

asio::awaitable<Response> HttpApi::expose_or_hide(Request req, bool expose) {
  auto body = api::parse_expose_request(req.body);
  if (!body) {
    co_return Response::error(400, body.error().message);
  }
  if (d_.dataplane() == nullptr) {
    co_return Response::error(503, "the data plane is not running (see weftd's log)");
  }
  std::vector<Cidr> cidrs = std::move(body->cidrs);
  if (cidrs.empty()) {
    auto from_ipam = co_await ipam_expose_addresses(expose);
    if (!from_ipam) {
      const bool retry = from_ipam.error().code == make_error_code(Errc::kUnavailable);
      co_return Response::error(retry ? 503 : 400, from_ipam.error().message);
    }
    cidrs = std::move(*from_ipam);
  }
  datapath::Datapath* dataplane = d_.dataplane();  // again: the wait above may outlast it
  if (dataplane == nullptr) {
    co_return Response::error(503, "the data plane is not running (see weftd's log)");
  }
  for (const Cidr& c : cidrs) {
    auto ok = expose ? dataplane->expose(c) : dataplane->hide(c);
    if (!ok) {
      co_return Response::error(500, ok.error().message);
    }
  }
  std::vector<std::string> texts;
  texts.reserve(cidrs.size());
  for (const Cidr& c : cidrs) {
    texts.push_back(c.to_string());
  }
  const std::string message =
      fmt::format("{} {}", expose ? "exposed" : "hidden", fmt::join(texts, " "));
  co_return Response::json(200, api::to_json(api::ExposeAnswer{message, cidrs}));
}

Response HttpApi::container_put(const Request& req) {
  auto record = api::parse_container_body(req.param("id"), req.param("ifname"), req.body);
  if (!record) {
    return Response::error(400, record.error().message);
  }
  auto stored = d_.containers.put(std::move(*record));
  if (!stored) {
    return Response::error(500, stored.error().message);
  }
  return Response::json(200, api::to_json(*stored));
}

Response HttpApi::container_delete(const Request& req) {
  const std::string id(req.param("id"));
  std::optional<std::string> ifname;
  if (auto it = req.params.find("ifname"); it != req.params.end()) {
    ifname = it->second;
  }
  if (auto ok = api::validate_container_key("container id", id); !ok) {
    return Response::error(400, ok.error().message);
  }
  if (ifname) {
    if (auto ok = api::validate_container_key("interface name", *ifname); !ok) {
      return Response::error(400, ok.error().message);
    }
  }
  auto removed = d_.containers.remove(id, ifname);
  if (!removed) {
    return Response::error(500, removed.error().message);
  }
  return Response::json(200, {{"removed", *removed}});
}

}  // namespace

void bind_http_api(HttpApiDeps deps, HttpServer& control, HttpServer& status) {
  auto self = std::make_shared<HttpApi>(std::move(deps));
  for (const api::Route& r : api::routes()) {
    for (auto [server, which] :
         {std::pair{&control, api::Server::kControl}, std::pair{&status, api::Server::kStatus}}) {
      if (!api::serves(r.reach, which)) {
        continue;
      }
      // route() throws on an empty handler: a table entry without one stops weftd at start.
      if (r.stream) {
        server->stream_route(r.method, r.pattern, self->stream_handler(r.id));
      } else {
        server->route(r.method, r.pattern, self->handler(self, r.id));
      }
    }
  }
}

}  // namespace weft::weftd
