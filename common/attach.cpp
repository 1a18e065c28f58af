#include "common/attach.hpp"

#include <cstdio>

#include "common/log.hpp"
#include <fmt/format.h>

namespace weft {

namespace {

// Writes "1" to /proc/sys/net/ipv4/conf/<ifname>/arp_notify inside `ns` (/proc/sys/net is
// the namespace of the thread that opens it).
Result<void> enable_arp_notify(const Netns& ns, const std::string& ifname) {
  return run_in_netns(ns, [&]() -> Result<void> {
    const std::string path = fmt::format("/proc/sys/net/ipv4/conf/{}/arp_notify", ifname);
    FILE* f = std::fopen(path.c_str(), "w");
    if (f == nullptr)
      return errno_error("open " + path);
    const bool ok = std::fputs("1\n", f) >= 0;
    const bool closed = std::fclose(f) == 0;
    if (!ok || !closed)
      return errno_error("write " + path);
    return {};
  });
}

Result<void> configure_container_end(Netlink& nl, const AttachSpec& spec) {
  WEFT_TRY_VOID(nl.set_up("lo"));
  if (spec.mac) {
    WEFT_TRY_VOID(nl.set_mac(spec.ifname, *spec.mac));
  }
  for (const Cidr& a : spec.addresses) {
    WEFT_TRY_VOID(nl.add_address(spec.ifname, a));
  }
  if (spec.announce) {
    WEFT_TRY_VOID(enable_arp_notify(*spec.container_netns, spec.ifname));
  }
  WEFT_TRY_VOID(nl.set_up(spec.ifname));
  for (Route r : spec.routes) {
    if (r.device.empty()) {
      r.device = spec.ifname;
    }
    WEFT_TRY_VOID(nl.add_route(r));
  }
  return {};
}

}  // namespace

Result<Attachment> attach_container(const AttachSpec& spec) {
  if (spec.host_netns == nullptr || spec.container_netns == nullptr) {
    return make_error(Errc::kInvalidArgument, "attach: host and container netns are required");
  }
  if (spec.host_ifname.empty() || spec.ifname.empty()) {
    return make_error(Errc::kInvalidArgument, "attach: interface names are required");
  }
  WEFT_TRY(auto host, open_netlink(*spec.host_netns));
  WEFT_TRY(auto cont, open_netlink(*spec.container_netns));
  WEFT_TRY(const LinkInfo bridge, host->link_by_name(spec.bridge));
  if (bridge.kind != "bridge") {
    return make_error(Errc::kInvalidArgument, "attach: {} is a {}, not a bridge", spec.bridge,
                      bridge.kind.empty() ? "device" : bridge.kind);
  }
  if (cont->link_by_name(spec.ifname)) {
    return make_error(Errc::kAlreadyExists, "attach: the container already has {}", spec.ifname);
  }
  const std::uint32_t mtu = spec.mtu.value_or(bridge.mtu);
  WEFT_TRY_VOID(host->create_veth({.name = spec.host_ifname,
                                   .peer_name = spec.ifname,
                                   .peer_netns = spec.container_netns,
                                   .mtu = mtu}));
  // From here on, a failure deletes the pair (both ends, and what was set on them).
  auto undo = [&](Error e) -> Result<Attachment> {
    if (auto d = host->delete_link(spec.host_ifname); !d) {
      log::warn("attach: cannot undo veth",
                {{"link", spec.host_ifname}, {"error", d.error().to_string()}});
    }
    return e;
  };
  if (auto r = host->set_master(spec.host_ifname, spec.bridge); !r) {
    return undo(r.error());
  }
  if (spec.hairpin) {
    if (auto r = host->set_hairpin(spec.host_ifname, true); !r) {
      return undo(r.error());
    }
  }
  if (auto r = host->set_up(spec.host_ifname); !r) {
    return undo(r.error());
  }
  if (auto r = configure_container_end(*cont, spec); !r) {
    return undo(r.error());
  }
  auto host_link = host->link_by_name(spec.host_ifname);
  auto cont_link = cont->link_by_name(spec.ifname);
  if (!host_link) {
    return undo(host_link.error());
  }
  if (!cont_link) {
    return undo(cont_link.error());
  }
  return Attachment{.host_ifname = spec.host_ifname,
                    .ifname = spec.ifname,
                    .mac = cont_link->mac,
                    .host_index = host_link->index,
                    .mtu = cont_link->mtu};
}

Result<void> detach_container(const Netns& container_netns, const std::string& ifname) {
  WEFT_TRY(auto nl, open_netlink(container_netns));
  auto r = nl->delete_link(ifname);
  if (!r && r.error().code == make_error_code(Errc::kNotFound)) {
    return {};
  }
  return r;
}

Result<InterfaceState> inspect_interface(const Netns& netns, const std::string& ifname) {
  WEFT_TRY(auto nl, open_netlink(netns));
  InterfaceState s;
  WEFT_TRY(auto link, nl->link_by_name(ifname));
  s.link = std::move(link);
  WEFT_TRY(auto addrs, nl->list_addresses(ifname));
  for (const Cidr& a : addrs) {
    if (!a.address().is_link_local()) {
      s.addresses.push_back(a);
    }
  }
  WEFT_TRY(auto routes, nl->list_routes(std::nullopt));
  for (auto& r : routes) {
    if (r.device == ifname) {
      s.routes.push_back(std::move(r));
    }
  }
  return s;
}

}  // namespace weft
