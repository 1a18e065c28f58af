// weft-cni ADD and DEL (see the design note in plugin.hpp).
#include <algorithm>
#include <memory>

#include "cni/announce.hpp"
#include "cni/delegate.hpp"
#include "cni/plugin_context.hpp"
#include "common/attach.hpp"
#include "common/netlink.hpp"
#include "common/netns.hpp"

namespace weft::cni {

namespace {

// What the addresses step produced: the container's addresses with their gateways, the
// routes to install, and DNS to pass through.
struct Addressing {
  CniSuccess result;  // ips (no interface index yet), routes, dns
};

CniResult<std::unique_ptr<Netlink>> netlink_in(const Netns& ns, std::string_view what) {
  auto nl = open_netlink(ns);
  if (!nl)
    return cni_error(kCodeInternal, fmt::format("cannot open netlink in {}", what), nl.error());
  return std::move(*nl);
}

// The bridge address in the subnet of `c`, if any.
std::optional<IpAddress> gateway_in(const std::vector<Cidr>& bridge_addrs, const Cidr& c) {
  for (const Cidr& b : bridge_addrs) {
    if (b.family() == c.family() && b.prefix_length() == c.prefix_length() &&
        c.masked().contains(b.address())) {
      return b.address();
    }
  }
  return std::nullopt;
}

bool has_default_route(const std::vector<CniRoute>& routes, IpFamily f) {
  return std::any_of(routes.begin(), routes.end(), [&](const CniRoute& r) {
    return r.dst.family() == f && r.dst.prefix_length() == 0;
  });
}

Cidr default_dst(IpFamily f) {
  return *parse_cidr(f == IpFamily::kV4 ? "0.0.0.0/0" : "::/0");
}

// Addresses from weftd; gateways are the bridge's addresses (exposed on demand).
CniResult<Addressing> weft_addressing(Context& c, Netlink& host, Rollback& undo) {
  WEFT_TRY(auto cidrs, c.weftd.allocate(c.env.container_id, c.env.ifname, c.conf.families));
  undo.add([&c] { (void)c.weftd.release(c.env.container_id, c.env.ifname); });
  if (cidrs.empty())
    return cni_error(kCodeInternal, "weftd allocated no address");
  Addressing out;
  std::vector<Cidr> bridge_addrs;
  if (c.conf.default_route) {
    auto listed = host.list_addresses(c.conf.bridge);
    if (listed)
      bridge_addrs = *listed;
    const bool missing = std::any_of(cidrs.begin(), cidrs.end(),
                                     [&](const Cidr& a) { return !gateway_in(bridge_addrs, a); });
    if (missing) {
      WEFT_TRY(auto exposed, c.weftd.expose());
      bridge_addrs.insert(bridge_addrs.end(), exposed.begin(), exposed.end());
    }
  }
  for (const Cidr& a : cidrs) {
    CniIp ip{a, std::nullopt, std::nullopt};
    if (c.conf.default_route) {
      ip.gateway = gateway_in(bridge_addrs, a);
      if (ip.gateway && !has_default_route(out.result.routes, a.family())) {
        out.result.routes.push_back({default_dst(a.family()), ip.gateway});
      }
    }
    out.result.ips.push_back(ip);
  }
  return out;
}

// Addresses from a delegated IPAM plugin; its gateways go on the bridge.
CniResult<Addressing> delegated_addressing(Context& c, Netlink& host, Rollback& undo) {
  const std::string config(c.config_text);
  WEFT_TRY(auto doc, run_delegate(c.conf.ipam_type, "ADD", config, c.env.path));
  undo.add([&c, config] { (void)run_delegate(c.conf.ipam_type, "DEL", config, c.env.path); });
  WEFT_TRY(auto parsed, parse_success(doc));
  if (parsed.ips.empty()) {
    return cni_error(kCodeDelegateFailed, fmt::format("{} returned no address", c.conf.ipam_type));
  }
  Addressing out;
  out.result.dns = parsed.dns;
  auto listed = host.list_addresses(c.conf.bridge);
  std::vector<Cidr> bridge_addrs = listed ? *listed : std::vector<Cidr>{};
  std::vector<Cidr> to_expose;
  for (CniIp ip : parsed.ips) {
    ip.interface.reset();
    if (ip.gateway && !gateway_in(bridge_addrs, ip.address)) {
      auto gw = Cidr::make_host(*ip.gateway, ip.address.prefix_length());
      if (gw)
        to_expose.push_back(*gw);
    }
    out.result.ips.push_back(ip);
  }
  if (!to_expose.empty())
    WEFT_TRY_VOID(c.weftd.expose(to_expose));
  for (CniRoute r : parsed.routes) {
    if (!r.gw) {
      for (const CniIp& ip : parsed.ips) {
        if (ip.gateway && ip.address.family() == r.dst.family())
          r.gw = ip.gateway;
      }
    }
    out.result.routes.push_back(r);
  }
  if (c.conf.default_route) {
    for (const CniIp& ip : parsed.ips) {
      if (ip.gateway && !has_default_route(out.result.routes, ip.address.family())) {
        out.result.routes.push_back({default_dst(ip.address.family()), ip.gateway});
      }
    }
  }
  return out;
}

std::vector<Cidr> addresses_of(const CniSuccess& r) {
  std::vector<Cidr> out;
  for (const auto& ip : r.ips)
    out.push_back(ip.address);
  return out;
}

}  // namespace

CniResult<std::unique_ptr<Netlink>> host_netlink() {
  auto self = Netns::current();
  if (!self)
    return cni_error(kCodeInternal, "cannot open the host netns", self.error());
  return netlink_in(*self, "the host");
}

void delete_link_if_present(Netlink& nl, const std::string& name) {
  if (nl.link_by_name(name))
    (void)nl.delete_link(name);
}

CniResult<CniSuccess> cmd_add(Context& c) {
  auto ns = Netns::open_path(c.env.netns);
  if (!ns)
    return cni_error(kCodeUnknownContainer, "the container's netns does not exist", ns.error());
  auto self = Netns::current();
  if (!self)
    return cni_error(kCodeInternal, "cannot open the host netns", self.error());
  WEFT_TRY(auto host, host_netlink());
  WEFT_TRY(auto inside, netlink_in(*ns, c.env.netns));
  if (inside->link_by_name(c.env.ifname)) {
    return cni_error(kCodeInterfaceExists, "the interface already exists in the container",
                     fmt::format("{} in {}", c.env.ifname, c.env.netns));
  }
  auto bridge = host->link_by_name(c.conf.bridge);
  if (!bridge) {
    return cni_error(kCodeTryAgainLater, "the weft bridge is missing: is weftd running?",
                     bridge.error());
  }
  const std::string host_ifname = host_ifname_for(c.env.container_id, c.env.ifname);
  api::ContainerRecord record{c.env.container_id, c.env.ifname, c.env.netns, host_ifname, "", {},
                              c.source()};
  Rollback undo;
  WEFT_TRY_VOID(c.weftd.register_container(record));
  undo.add([&c] { (void)c.weftd.unregister_container(c.env.container_id, c.env.ifname); });
  Addressing addressing;
  if (c.delegated()) {
    WEFT_TRY(addressing, delegated_addressing(c, *host, undo));
  } else {
    WEFT_TRY(addressing, weft_addressing(c, *host, undo));
  }
  CniSuccess& result = addressing.result;

  AttachSpec spec;
  spec.host_netns = &*self;
  spec.container_netns = &*ns;
  spec.bridge = c.conf.bridge;
  spec.host_ifname = host_ifname;
  spec.ifname = c.env.ifname;
  spec.addresses = addresses_of(result);
  for (const CniRoute& r : result.routes) {
    spec.routes.push_back(Route{r.dst, r.gw, c.env.ifname});
  }
  spec.mtu = c.conf.mtu.value_or(bridge->mtu);
  spec.hairpin = c.conf.hairpin;
  spec.announce = true;
  auto attached = attach_container(spec);
  if (!attached) {
    const bool taken = attached.error().code == make_error_code(Errc::kAlreadyExists);
    return cni_error(taken ? kCodeInterfaceExists : kCodeInternal,
                     "cannot attach the container to the bridge", attached.error());
  }
  undo.add([&ns, &c] { (void)detach_container(*ns, c.env.ifname); });
  (void)announce_addresses(*ns, c.env.ifname, attached->mac, spec.addresses);

  record.mac = attached->mac.to_string();
  record.addresses = spec.addresses;
  WEFT_TRY_VOID(c.weftd.register_container(record));
  undo.disarm();

  auto host_link = host->link_by_name(host_ifname);
  result.interfaces = {
      CniInterface{host_ifname, host_link ? host_link->mac.to_string() : "", "", std::nullopt},
      CniInterface{c.env.ifname, attached->mac.to_string(), c.env.netns, attached->mtu}};
  for (auto& ip : result.ips)
    ip.interface = 1;
  return result;
}

CniResult<void> cmd_del(Context& c) {
  // The interface first, so that a released address is never still in use. Deleting the
  // container end deletes the host end; only without the netns is the host end looked up.
  bool detached = false;
  if (!c.env.netns.empty()) {
    if (auto ns = Netns::open_path(c.env.netns); ns) {
      detached = static_cast<bool>(detach_container(*ns, c.env.ifname));
    }
  }
  if (!detached) {
    if (auto host = host_netlink(); host) {
      delete_link_if_present(**host, host_ifname_for(c.env.container_id, c.env.ifname));
    }
  }
  CniResult<void> released;
  if (c.delegated()) {
    auto r = run_delegate(c.conf.ipam_type, "DEL", std::string(c.config_text), c.env.path);
    if (!r)
      released = r.error();
  } else {
    released = c.weftd.release(c.env.container_id, c.env.ifname);
  }
  WEFT_TRY_VOID(released);
  return c.weftd.unregister_container(c.env.container_id, c.env.ifname);
}

}  // namespace weft::cni
