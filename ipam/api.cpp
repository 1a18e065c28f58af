#include "ipam/api.hpp"

#include <vector>

#include "common/errc.hpp"

namespace weft::ipam {

namespace {

struct Route {
  enum Kind { kAllocate, kAllocateIn, kClaim, kLookup, kReleaseAll, kReleaseOne, kList, kRmpeer };
  Kind kind = kList;
  std::string id;
  std::string rest;  // what follows /ip/{id}/ (an address or CIDR) or the peer name
  FamilyChoice family = FamilyChoice::kDefault;
  std::string ifname = "eth0";
  bool ifname_given = false;  // a release touches only this interface's addresses
};

ApiResponse text(int status, std::string body) {
  return {status, "text/plain", std::move(body) + "\n"};
}

ApiResponse from_error(const Error& e) {
  int status = 500;
  if (e.code == make_error_code(Errc::kInvalidArgument))
    status = 400;
  if (e.code == make_error_code(Errc::kNotFound))
    status = 404;
  if (e.code == make_error_code(Errc::kConflict))
    status = 409;
  if (e.code == make_error_code(Errc::kUnavailable))
    status = 503;
  if (e.code == make_error_code(Errc::kExhausted))
    status = 507;
  return text(status, e.message);
}

ApiResponse addresses(const std::vector<Allocation>& all) {
  std::string body;
  for (const auto& a : all)
    body += a.address.to_string() + "\n";
  return {200, "text/plain", body};
}

// Parses the query and the route; errors are 400/404 responses.
Result<Route> parse_route(const ApiRequest& r) {
  Route route;
  std::string_view q = r.query;
  while (!q.empty()) {
    const auto amp = q.find('&');
    const std::string_view kv = q.substr(0, amp);
    q = amp == std::string_view::npos ? std::string_view{} : q.substr(amp + 1);
    const auto eq = kv.find('=');
    const std::string_view key = kv.substr(0, eq);
    const std::string_view value = eq == std::string_view::npos ? "" : kv.substr(eq + 1);
    if (key == "family") {
      WEFT_TRY(route.family, parse_family_choice(value));
    } else if (key == "ifname") {
      if (value.empty() || value.size() > 15) {
        return make_error(Errc::kInvalidArgument, "bad ifname");
      }
      route.ifname = std::string(value);
      route.ifname_given = true;
    }
  }
  std::string_view p = r.path;
  if (p.starts_with("/peer/") && r.method == "DELETE") {
    route.kind = Route::kRmpeer;
    route.rest = std::string(p.substr(6));
    return route;
  }
  if (p == "/ip" || p == "/ip/") {
    if (r.method != "GET")
      return make_error(Errc::kNotFound, "method not allowed on /ip");
    route.kind = Route::kList;
    return route;
  }
  if (!p.starts_with("/ip/"))
    return make_error(Errc::kNotFound, "no such route");
  p = p.substr(4);
  const auto slash = p.find('/');
  route.id = std::string(p.substr(0, slash));
  if (route.id.empty() || route.id.size() > 256) {
    return make_error(Errc::kInvalidArgument, "bad container id");
  }
  const bool has_rest = slash != std::string_view::npos && slash + 1 < p.size();
  route.rest = has_rest ? std::string(p.substr(slash + 1)) : std::string();
  if (r.method == "POST") {
    route.kind = has_rest ? Route::kAllocateIn : Route::kAllocate;
  } else if (r.method == "PUT" && has_rest) {
    route.kind = Route::kClaim;
  } else if (r.method == "GET" && !has_rest) {
    route.kind = Route::kLookup;
  } else if (r.method == "DELETE") {
    route.kind = has_rest ? Route::kReleaseOne : Route::kReleaseAll;
  } else {
    return make_error(Errc::kNotFound, "no such route");
  }
  return route;
}

// Serves a parsed route (the allocation without waiting).
ApiResponse serve(Allocator& a, const Route& route) {
  switch (route.kind) {
    case Route::kAllocate:
    case Route::kAllocateIn: {
      std::optional<Cidr> subnet;
      if (route.kind == Route::kAllocateIn) {
        auto cidr = parse_cidr(route.rest);
        if (!cidr)
          return from_error(cidr.error());
        subnet = *cidr;
      }
      auto got = a.allocate(route.id, route.ifname, route.family, subnet);
      return got ? addresses(*got) : from_error(got.error());
    }
    case Route::kClaim: {
      Result<Cidr> cidr = make_error(Errc::kInvalidArgument, "bad address");
      if (route.rest.find('/') != std::string::npos) {
        cidr = parse_host_cidr(route.rest);
      } else if (auto ip = parse_ip_address(route.rest); ip) {
        cidr = Cidr::single(*ip);
      } else {
        cidr = ip.error();
      }
      if (!cidr)
        return from_error(cidr.error());
      auto got = a.claim(route.id, route.ifname, *cidr);
      return got ? addresses(std::vector<Allocation>{*got}) : from_error(got.error());
    }
    case Route::kLookup: {
      auto all = a.lookup(route.id);
      if (all.empty())
        return text(404, "no address for " + route.id);
      return addresses(all);
    }
    case Route::kReleaseAll:
    case Route::kReleaseOne: {
      std::optional<IpAddress> one;
      if (route.kind == Route::kReleaseOne) {
        const auto cut = route.rest.find('/');
        auto ip = parse_ip_address(std::string_view(route.rest).substr(0, cut));
        if (!ip)
          return from_error(ip.error());
        one = *ip;
      }
      auto n = a.release(
          route.id, one,
          route.ifname_given ? std::optional<std::string_view>(route.ifname) : std::nullopt);
      return n ? text(200, std::to_string(*n)) : from_error(n.error());
    }
    case Route::kList: {
      nlohmann::json list = nlohmann::json::array();
      for (const auto& al : a.list())
        list.push_back(allocation_json(al));
      return {200, "application/json", list.dump()};
    }
    case Route::kRmpeer: {
      auto peer = parse_peer_id(route.rest);
      if (!peer)
        return from_error(peer.error());
      auto n = a.rmpeer(*peer);
      return n ? text(200, u128_to_string(*n)) : from_error(n.error());
    }
  }
  return text(500, "unreachable");
}

}  // namespace

bool is_ipam_path(std::string_view path) {
  return path == "/ip" || path.starts_with("/ip/") || path.starts_with("/peer/");
}

ApiResponse handle_api(Allocator& allocator, const ApiRequest& request) {
  auto route = parse_route(request);
  if (!route)
    return from_error(route.error());
  return serve(allocator, *route);
}

boost::asio::awaitable<ApiResponse> handle_api_wait(Allocator& allocator, ApiRequest request,
                                                    Clock::Duration timeout) {
  auto route = parse_route(request);
  if (!route)
    co_return from_error(route.error());
  if (route->kind != Route::kAllocate)
    co_return serve(allocator, *route);
  auto got = co_await allocator.allocate_wait(route->id, route->ifname, route->family, std::nullopt,
                                              timeout);
  co_return got ? addresses(*got) : from_error(got.error());
}

std::string format_peer_id(PeerId id) {
  return fmt::format("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", (id >> 40) & 0xff,
                     (id >> 32) & 0xff, (id >> 24) & 0xff, (id >> 16) & 0xff, (id >> 8) & 0xff,
                     id & 0xff);
}

nlohmann::json allocation_json(const Allocation& a) {
  return {{"container", a.key.container},
          {"ifname", a.key.ifname},
          {"family", a.key.family == IpFamily::kV4 ? "ipv4" : "ipv6"},
          {"address", a.address.to_string()}};
}

nlohmann::json status_json(const AllocatorStatus& s) {
  nlohmann::json rings = nlohmann::json::array();
  for (const auto& r : s.rings) {
    nlohmann::json peers = nlohmann::json::array();
    for (const auto& p : r.peers) {
      peers.push_back({{"name", format_peer_id(p.peer)},
                       {"owned", u128_to_string(p.owned)},
                       {"share", p.share},
                       {"free", p.free},
                       {"reachable", p.reachable}});
    }
    rings.push_back({{"family", r.family == IpFamily::kV4 ? "ipv4" : "ipv6"},
                     {"range", r.range.to_string()},
                     {"id", fmt::format("{:016x}", r.id)},
                     {"entries", r.entries},
                     {"free_here", u128_to_string(r.free_here)},
                     {"allocated", r.allocated},
                     {"peers", std::move(peers)}});
  }
  const auto& st = s.stats;
  return {{"peer", format_peer_id(s.self)},
          {"ready", s.ready},
          {"bootstrap", s.bootstrap},
          {"allocations", s.allocations},
          {"stray", s.stray},
          {"rings", std::move(rings)},
          {"stats",
           {{"allocations", st.allocations},
            {"releases", st.releases},
            {"donations_given", st.donations_given},
            {"donations_received", st.donations_received},
            {"space_requests", st.space_requests},
            {"conflicts", st.conflicts},
            {"malformed", st.malformed},
            {"store_errors", st.store_errors}}}};
}

}  // namespace weft::ipam
