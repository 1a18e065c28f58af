// LibnlNetlink: unicast routes (IPv4 and IPv6, default routes included).
#include <array>

#include "common/netlink_libnl.hpp"
#include <linux/rtnetlink.h>

namespace weft::nl_detail {
namespace {

std::string route_text(const Route& r) {
  std::string s = r.dst.to_string();
  if (r.gateway) {
    s += " via " + r.gateway->to_string();
  }
  if (!r.device.empty()) {
    s += " dev " + r.device;
  }
  if (r.metric != 0) {
    s += fmt::format(" metric {}", r.metric);
  }
  return s;
}

// Builds the request for adding (`add`) or deleting a route. Deletes leave protocol and
// scope open so that they match routes made by other tools too.
Result<RoutePtr> route_template(std::string_view what, const Route& r, int oif, bool add) {
  const bool v4 = r.dst.address().is_v4();
  if (r.gateway && r.gateway->is_v4() != v4) {
    return make_error(Errc::kInvalidArgument, "{}: gateway family differs from destination", what);
  }
  if (!r.gateway && oif == 0) {
    return make_error(Errc::kInvalidArgument, "{}: needs a gateway or a device", what);
  }
  RoutePtr rt(rtnl_route_alloc());
  AddrPtr dst = to_nl_addr(r.dst);
  rtnl_nexthop* nh = rtnl_route_nh_alloc();
  if (!rt || !dst || nh == nullptr) {
    if (nh != nullptr) {
      rtnl_route_nh_free(nh);
    }
    return make_error(Errc::kIo, "{}: out of memory", what);
  }
  rtnl_route_set_family(rt.get(), v4 ? AF_INET : AF_INET6);
  rtnl_route_set_dst(rt.get(), dst.get());
  rtnl_route_set_table(rt.get(), r.table);
  rtnl_route_set_type(rt.get(), RTN_UNICAST);
  if (add) {
    rtnl_route_set_protocol(rt.get(), RTPROT_BOOT);
    rtnl_route_set_scope(rt.get(), v4 && !r.gateway ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE);
  } else {
    rtnl_route_set_protocol(rt.get(), RTPROT_UNSPEC);
    rtnl_route_set_scope(rt.get(), RT_SCOPE_NOWHERE);
  }
  if (r.metric != 0) {
    rtnl_route_set_priority(rt.get(), r.metric);
  }
  if (oif != 0) {
    rtnl_route_nh_set_ifindex(nh, oif);
  }
  if (r.gateway) {
    AddrPtr gw = to_nl_addr(*r.gateway);
    rtnl_route_nh_set_gateway(nh, gw.get());
  }
  rtnl_route_add_nexthop(rt.get(), nh);  // the route owns nh from here
  return rt;
}

}  // namespace

Result<void> LibnlNetlink::add_route(const Route& route) {
  const std::string what = fmt::format("add route {}", route_text(route));
  int oif = 0;
  if (!route.device.empty()) {
    auto index = index_of(what, route.device);
    if (!index) {
      return index.error();
    }
    oif = *index;
  }
  auto rt = route_template(what, route, oif, true);
  if (!rt) {
    return rt.error();
  }
  return call(what, [&] { return rtnl_route_add(sock_.get(), rt->get(), NLM_F_EXCL); });
}

Result<void> LibnlNetlink::del_route(const Route& route) {
  const std::string what = fmt::format("delete route {}", route_text(route));
  int oif = 0;
  if (!route.device.empty()) {
    auto index = index_of(what, route.device);
    if (!index) {
      return index.error();
    }
    oif = *index;
  }
  auto rt = route_template(what, route, oif, false);
  if (!rt) {
    return rt.error();
  }
  return call(what, [&] { return rtnl_route_delete(sock_.get(), rt->get(), 0); });
}

Result<std::vector<Route>> LibnlNetlink::list_routes(std::optional<IpFamily> family,
                                                     std::uint32_t table) {
  const std::string what = "list routes";
  const int af = !family ? AF_UNSPEC : *family == IpFamily::kV4 ? AF_INET : AF_INET6;
  auto names = link_cache(what, AF_UNSPEC);
  if (!names) {
    return names.error();
  }
  nl_cache* raw = nullptr;
  if (auto ok = call(what, [&] { return rtnl_route_alloc_cache(sock_.get(), af, 0, &raw); }); !ok) {
    return ok.error();
  }
  CachePtr cache(raw);
  std::vector<Route> out;
  for (nl_object* o = nl_cache_get_first(raw); o != nullptr; o = nl_cache_get_next(o)) {
    auto* rt = reinterpret_cast<rtnl_route*>(o);
    const int rt_family = rtnl_route_get_family(rt);
    if (rtnl_route_get_table(rt) != table || rtnl_route_get_type(rt) != RTN_UNICAST ||
        (rt_family != AF_INET && rt_family != AF_INET6)) {
      continue;
    }
    Route r;
    r.table = table;
    nl_addr* dst = rtnl_route_get_dst(rt);
    // A default route comes without a destination address.
    const auto dst_ip = ip_from_nl_addr(dst);
    const IpAddress base =
        dst_ip ? *dst_ip : IpAddress::lowest(rt_family == AF_INET ? IpFamily::kV4 : IpFamily::kV6);
    auto cidr = Cidr::make(base, dst_ip ? static_cast<int>(nl_addr_get_prefixlen(dst)) : 0);
    if (!cidr) {
      continue;  // the kernel never reports host bits in a route; skip if it did
    }
    r.dst = *cidr;
    r.metric = rtnl_route_get_priority(rt);
    if (rtnl_route_get_nnexthops(rt) > 0) {
      rtnl_nexthop* nh = rtnl_route_nexthop_n(rt, 0);
      r.gateway = ip_from_nl_addr(rtnl_route_nh_get_gateway(nh));
      std::array<char, IFNAMSIZ + 1> buf{};
      const int oif = rtnl_route_nh_get_ifindex(nh);
      if (oif > 0 && rtnl_link_i2name(names->get(), oif, buf.data(), buf.size()) != nullptr) {
        r.device = buf.data();
      }
    }
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace weft::nl_detail
