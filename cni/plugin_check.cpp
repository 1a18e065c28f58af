// weft-cni CHECK: the container still has what the ADD result (prevResult) recorded, its
// host end is still a port of the bridge, and weftd still holds its addresses.
#include <algorithm>
#include <cctype>

#include "cni/delegate.hpp"
#include "cni/plugin_context.hpp"
#include "common/attach.hpp"
#include "common/netlink.hpp"
#include "common/netns.hpp"

namespace weft::cni {

namespace {

CniError check_failed(std::string msg, std::string details = {}) {
  return cni_error(kCodeCheckFailed, std::move(msg), std::move(details));
}

bool same_mac(std::string a, std::string b) {
  auto lower = [](std::string& s) {
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char ch) { return std::tolower(ch); });
  };
  lower(a);
  lower(b);
  return a == b;
}

CniResult<CniSuccess> prev_result(const Context& c) {
  if (!c.conf.prev_result) {
    return cni_error(kCodeInvalidConfig, "CHECK needs prevResult",
                     "the runtime must pass the ADD result as \"prevResult\"");
  }
  return parse_success(*c.conf.prev_result);
}

// The addresses recorded for the container's interface (index `index`, or all when the
// result names no interfaces).
std::vector<Cidr> recorded_addresses(const CniSuccess& prev, std::optional<int> index) {
  std::vector<Cidr> out;
  for (const auto& ip : prev.ips) {
    if (!index || !ip.interface || *ip.interface == *index)
      out.push_back(ip.address);
  }
  return out;
}

CniResult<void> check_allocations(Context& c, const std::vector<Cidr>& wanted) {
  if (c.delegated()) {
    auto r = run_delegate(c.conf.ipam_type, "CHECK", std::string(c.config_text), c.env.path);
    if (!r)
      return r.error();
    return {};
  }
  WEFT_TRY(auto held, c.weftd.lookup(c.env.container_id));
  for (const Cidr& a : wanted) {
    if (std::find(held.begin(), held.end(), a) == held.end()) {
      return check_failed("an address is no longer allocated to the container",
                          fmt::format("{} is not held by {} in weftd", a, c.env.container_id));
    }
  }
  return {};
}

CniResult<void> check_interface(const Context& c, const CniSuccess& prev, std::optional<int> index,
                                const std::vector<Cidr>& wanted) {
  auto ns = Netns::open_path(c.env.netns);
  if (!ns)
    return cni_error(kCodeUnknownContainer, "the container's netns does not exist", ns.error());
  auto state = inspect_interface(*ns, c.env.ifname);
  if (!state) {
    return check_failed(
        "the container interface is missing",
        fmt::format("{} in {}: {}", c.env.ifname, c.env.netns, state.error().message));
  }
  if (index) {
    const CniInterface& rec = prev.interfaces[static_cast<std::size_t>(*index)];
    if (!rec.mac.empty() && !same_mac(rec.mac, state->link.mac.to_string())) {
      return check_failed("the container interface has another MAC",
                          fmt::format("recorded {}, found {}", rec.mac, state->link.mac));
    }
    if (rec.mtu && *rec.mtu != state->link.mtu) {
      return check_failed("the container interface has another MTU",
                          fmt::format("recorded {}, found {}", *rec.mtu, state->link.mtu));
    }
  }
  for (const Cidr& a : wanted) {
    if (std::find(state->addresses.begin(), state->addresses.end(), a) == state->addresses.end()) {
      return check_failed("an address is missing from the container interface",
                          fmt::format("{} on {}", a, c.env.ifname));
    }
  }
  for (const CniRoute& r : prev.routes) {
    const bool found = std::any_of(state->routes.begin(), state->routes.end(), [&](const Route& k) {
      return k.dst == r.dst && (!r.gw || (k.gateway && *k.gateway == *r.gw));
    });
    if (!found) {
      return check_failed("a route is missing in the container",
                          fmt::format("{} via {}", r.dst, r.gw ? r.gw->to_string() : "-"));
    }
  }
  return {};
}

CniResult<void> check_host_end(const Context& c) {
  WEFT_TRY(auto host, host_netlink());
  const std::string name = host_ifname_for(c.env.container_id, c.env.ifname);
  auto link = host->link_by_name(name);
  if (!link)
    return check_failed("the host end of the veth is missing", name);
  if (link->master_name != c.conf.bridge) {
    return check_failed(
        "the host end is not a port of the bridge",
        fmt::format("{} has master \"{}\", want \"{}\"", name, link->master_name, c.conf.bridge));
  }
  return {};
}

}  // namespace

CniResult<void> cmd_check(Context& c) {
  WEFT_TRY(auto prev, prev_result(c));
  std::optional<int> index;
  for (std::size_t i = 0; i < prev.interfaces.size(); ++i) {
    if (prev.interfaces[i].name == c.env.ifname && prev.interfaces[i].sandbox == c.env.netns) {
      index = static_cast<int>(i);
    }
  }
  if (!index && !prev.interfaces.empty()) {
    return check_failed("prevResult has no interface for the container",
                        fmt::format("{} in {}", c.env.ifname, c.env.netns));
  }
  const auto wanted = recorded_addresses(prev, index);
  WEFT_TRY_VOID(c.weftd.ready());
  WEFT_TRY_VOID(check_allocations(c, wanted));
  WEFT_TRY_VOID(check_interface(c, prev, index, wanted));
  return check_host_end(c);
}

CniResult<void> ipam_check(Context& c) {
  WEFT_TRY_VOID(c.weftd.ready());
  WEFT_TRY(auto held, c.weftd.lookup(c.env.container_id));
  if (held.empty()) {
    return check_failed("weftd holds no address for the container", c.env.container_id);
  }
  if (c.conf.prev_result) {
    WEFT_TRY(auto prev, parse_success(*c.conf.prev_result));
    for (const CniIp& ip : prev.ips) {
      if (std::find(held.begin(), held.end(), ip.address) == held.end()) {
        return check_failed("an address of prevResult is no longer allocated",
                            ip.address.to_string());
      }
    }
  }
  return {};
}

}  // namespace weft::cni
