// LibnlNetlink: creating, querying and changing links (bridge, veth, generic kinds).
#include <array>

#include <netlink/route/link/veth.h>
#include <netlink/route/link/vxlan.h>

#include "common/netlink_libnl.hpp"
#include <net/if.h>

namespace weft::nl_detail {
namespace {

std::string master_name_of(nl_sock* sock, nl_cache* names, int master) {
  if (master == 0) {
    return {};
  }
  std::array<char, IFNAMSIZ + 1> buf{};
  if (names != nullptr) {
    return rtnl_link_i2name(names, master, buf.data(), buf.size()) != nullptr
               ? std::string(buf.data())
               : std::string();
  }
  rtnl_link* raw = nullptr;
  if (rtnl_link_get_kernel(sock, master, nullptr, &raw) < 0) {
    return {};
  }
  LinkPtr m(raw);
  const char* n = rtnl_link_get_name(m.get());
  return n != nullptr ? n : "";
}

VxlanInfo vxlan_info_of(rtnl_link* link) {
  VxlanInfo v;
  std::uint32_t value = 0;
  if (rtnl_link_vxlan_get_id(link, &value) == 0) {
    v.vni = value;
  }
  if (rtnl_link_vxlan_get_port(link, &value) == 0) {
    v.port = static_cast<std::uint16_t>(value);
  }
  if (rtnl_link_vxlan_get_link(link, &value) == 0) {
    v.underlay_index = static_cast<int>(value);
  }
  nl_addr* local = nullptr;
  if (rtnl_link_vxlan_get_local(link, &local) == 0) {
    AddrPtr owned(local);
    v.local = ip_from_nl_addr(owned.get());
  }
  v.learning = rtnl_link_vxlan_get_learning(link) > 0;
  return v;
}

}  // namespace

LinkInfo LibnlNetlink::to_link_info(rtnl_link* link, nl_cache* names) {
  LinkInfo info;
  info.index = rtnl_link_get_ifindex(link);
  const char* name = rtnl_link_get_name(link);
  info.name = name != nullptr ? name : "";
  const char* kind = rtnl_link_get_type(link);
  info.kind = kind != nullptr ? kind : "";
  info.mtu = rtnl_link_get_mtu(link);
  info.mac = mac_from_nl_addr(rtnl_link_get_addr(link));
  info.up = (rtnl_link_get_flags(link) & IFF_UP) != 0;
  info.master_index = rtnl_link_get_master(link);
  info.master_name = master_name_of(sock_.get(), names, info.master_index);
  info.rx_packets = rtnl_link_get_stat(link, RTNL_LINK_RX_PACKETS);
  info.tx_packets = rtnl_link_get_stat(link, RTNL_LINK_TX_PACKETS);
  if (rtnl_link_is_vxlan(link) != 0) {
    info.vxlan = vxlan_info_of(link);
  }
  return info;
}

Result<void> LibnlNetlink::create_bridge(std::string_view name, std::optional<std::uint32_t> mtu) {
  const std::string what = fmt::format("create bridge {}", name);
  LinkPtr link(rtnl_link_alloc());
  if (!link || rtnl_link_set_type(link.get(), "bridge") < 0) {
    return make_error(Errc::kIo, "{}: cannot allocate", what);
  }
  if (mtu) {
    rtnl_link_set_mtu(link.get(), *mtu);
  }
  return add_link(what, name, link.get());
}

Result<void> LibnlNetlink::create_veth(const VethConfig& config) {
  const std::string what = fmt::format("create veth {} peer {}", config.name, config.peer_name);
  if (!valid_ifname(config.peer_name)) {
    return make_error(Errc::kInvalidArgument, "{}: invalid interface name '{}'", what,
                      config.peer_name);
  }
  LinkPtr link(rtnl_link_veth_alloc());
  if (!link) {
    return make_error(Errc::kIo, "{}: cannot allocate", what);
  }
  LinkPtr peer(rtnl_link_veth_get_peer(link.get()));
  rtnl_link_set_name(peer.get(), config.peer_name.c_str());
  if (config.peer_netns != nullptr) {
    rtnl_link_set_ns_fd(peer.get(), config.peer_netns->fd());
  }
  if (config.mtu) {
    rtnl_link_set_mtu(link.get(), *config.mtu);
    rtnl_link_set_mtu(peer.get(), *config.mtu);
  }
  return add_link(what, config.name, link.get());
}

Result<void> LibnlNetlink::create_link(std::string_view name, std::string_view kind) {
  const std::string what = fmt::format("create {} {}", kind, name);
  const std::string k(kind);
  LinkPtr link(rtnl_link_alloc());
  if (!link) {
    return make_error(Errc::kIo, "{}: cannot allocate", what);
  }
  if (const int rc = rtnl_link_set_type(link.get(), k.c_str()); rc < 0) {
    return failure(what, rc);
  }
  return add_link(what, name, link.get());
}

Result<void> LibnlNetlink::delete_link(std::string_view name) {
  const std::string what = fmt::format("delete link {}", name);
  auto index = index_of(what, name);
  if (!index) {
    return index.error();
  }
  LinkPtr link(rtnl_link_alloc());
  rtnl_link_set_ifindex(link.get(), *index);
  return call(what, [&] { return rtnl_link_delete(sock_.get(), link.get()); });
}

Result<LinkInfo> LibnlNetlink::link_by_name(std::string_view name) {
  auto link = get_link(fmt::format("get link {}", name), name);
  if (!link) {
    return link.error();
  }
  return to_link_info(link->get(), nullptr);
}

Result<std::vector<LinkInfo>> LibnlNetlink::list_links() {
  auto cache = link_cache("list links", AF_UNSPEC);
  if (!cache) {
    return cache.error();
  }
  std::vector<LinkInfo> out;
  for (nl_object* o = nl_cache_get_first(cache->get()); o != nullptr; o = nl_cache_get_next(o)) {
    out.push_back(to_link_info(reinterpret_cast<rtnl_link*>(o), cache->get()));
  }
  return out;
}

Result<void> LibnlNetlink::set_up(std::string_view name) {
  return change_link(fmt::format("set link {} up", name), name,
                     [](rtnl_link* c) { rtnl_link_set_flags(c, IFF_UP); });
}

Result<void> LibnlNetlink::set_down(std::string_view name) {
  return change_link(fmt::format("set link {} down", name), name,
                     [](rtnl_link* c) { rtnl_link_unset_flags(c, IFF_UP); });
}

Result<void> LibnlNetlink::set_mtu(std::string_view name, std::uint32_t mtu) {
  return change_link(fmt::format("set mtu {} of {}", mtu, name), name,
                     [&](rtnl_link* c) { rtnl_link_set_mtu(c, mtu); });
}

Result<void> LibnlNetlink::set_mac(std::string_view name, const MacAddress& mac) {
  AddrPtr addr = to_nl_addr(mac);
  return change_link(fmt::format("set mac {} of {}", mac.to_string(), name), name,
                     [&](rtnl_link* c) { rtnl_link_set_addr(c, addr.get()); });
}

Result<void> LibnlNetlink::rename(std::string_view name, std::string_view new_name) {
  const std::string what = fmt::format("rename link {} to {}", name, new_name);
  if (!valid_ifname(new_name)) {
    return make_error(Errc::kInvalidArgument, "{}: invalid interface name '{}'", what, new_name);
  }
  const std::string n(new_name);
  return change_link(what, name, [&](rtnl_link* c) { rtnl_link_set_name(c, n.c_str()); });
}

Result<void> LibnlNetlink::set_master(std::string_view name, std::string_view bridge) {
  const std::string what = fmt::format("set master of {} to {}", name, bridge);
  auto master = index_of(what, bridge);
  if (!master) {
    return master.error();
  }
  return change_link(what, name, [&](rtnl_link* c) { rtnl_link_set_master(c, *master); });
}

Result<void> LibnlNetlink::set_nomaster(std::string_view name) {
  return change_link(fmt::format("release {} from its master", name), name,
                     [](rtnl_link* c) { rtnl_link_set_master(c, 0); });
}

Result<void> LibnlNetlink::move_to_netns(std::string_view name, const Netns& target) {
  return change_link(fmt::format("move link {} to netns {}", name, target.path()), name,
                     [&](rtnl_link* c) { rtnl_link_set_ns_fd(c, target.fd()); });
}

}  // namespace weft::nl_detail
