// LibnlNetlink: bridge ports (hairpin) and bridge FDB entries (VXLAN flood and static
// remote-MAC entries).
#include <array>

#include <netlink/route/link/bridge.h>

#include "common/netlink_libnl.hpp"
#include <linux/if_bridge.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>

namespace weft::nl_detail {
namespace {

// An FDB request template. Note the order: libnl refuses a dst whose family differs from
// the neighbour's, so the dst goes in before the family becomes AF_BRIDGE.
NeighPtr fdb_template(int index, const MacAddress& mac, const std::optional<IpAddress>& dst) {
  NeighPtr n(rtnl_neigh_alloc());
  if (!n) {
    return n;
  }
  rtnl_neigh_set_ifindex(n.get(), index);
  AddrPtr ll = to_nl_addr(mac);
  rtnl_neigh_set_lladdr(n.get(), ll.get());
  if (dst) {
    AddrPtr d = to_nl_addr(*dst);
    rtnl_neigh_set_dst(n.get(), d.get());
  }
  rtnl_neigh_set_family(n.get(), AF_BRIDGE);
  rtnl_neigh_set_flags(n.get(), NTF_SELF);
  rtnl_neigh_set_state(n.get(), NUD_PERMANENT | NUD_NOARP);
  return n;
}

std::string fdb_text(const MacAddress& mac, const std::optional<IpAddress>& dst) {
  return dst ? fmt::format("{} dst {}", mac.to_string(), dst->to_string()) : mac.to_string();
}

}  // namespace

Result<void> LibnlNetlink::set_port_flag(std::string_view name, int attribute, bool on,
                                         std::string_view flag) {
  const std::string what = fmt::format("set {} {} on {}", flag, on ? "on" : "off", name);
  auto index = index_of(what, name);
  if (!index) {
    return index.error();
  }
  // libnl's AF_BRIDGE change path needs a bridge-port object from a dump; the request
  // itself is small: RTM_SETLINK, AF_BRIDGE, IFLA_PROTINFO { attribute:u8 }.
  MsgPtr msg(nlmsg_alloc_simple(RTM_SETLINK, NLM_F_REQUEST | NLM_F_ACK));
  if (!msg) {
    return make_error(Errc::kIo, "{}: out of memory", what);
  }
  ifinfomsg ifi{};
  ifi.ifi_family = AF_BRIDGE;
  ifi.ifi_index = *index;
  nlattr* protinfo = nullptr;
  if (nlmsg_append(msg.get(), &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0 ||
      (protinfo = nla_nest_start(msg.get(), IFLA_PROTINFO | NLA_F_NESTED)) == nullptr ||
      nla_put_u8(msg.get(), attribute, on ? 1 : 0) < 0) {
    return make_error(Errc::kIo, "{}: message too large", what);
  }
  nla_nest_end(msg.get(), protinfo);
  // nl_send_sync frees the message.
  return call(what, [&] { return nl_send_sync(sock_.get(), msg.release()); });
}

Result<void> LibnlNetlink::set_hairpin(std::string_view name, bool on) {
  return set_port_flag(name, IFLA_BRPORT_MODE, on, "hairpin");
}

Result<void> LibnlNetlink::set_isolated(std::string_view name, bool on) {
  return set_port_flag(name, IFLA_BRPORT_ISOLATED, on, "isolated");
}

Result<bool> LibnlNetlink::hairpin(std::string_view name) {
  const std::string what = fmt::format("get hairpin of {}", name);
  auto index = index_of(what, name);
  if (!index) {
    return index.error();
  }
  auto ports = link_cache(what, AF_BRIDGE);
  if (!ports) {
    return ports.error();
  }
  LinkPtr port(rtnl_link_get(ports->get(), *index));
  if (!port || rtnl_link_is_bridge(port.get()) == 0 || rtnl_link_get_master(port.get()) == 0) {
    return make_error(Errc::kInvalidArgument, "{}: not a bridge port", what);
  }
  return (rtnl_link_bridge_get_flags(port.get()) & RTNL_BRIDGE_HAIRPIN_MODE) != 0;
}

Result<void> LibnlNetlink::add_fdb(std::string_view link, const MacAddress& mac,
                                   const std::optional<IpAddress>& dst, FdbMode mode) {
  const std::string what = fmt::format(
      "{} fdb {} on {}", mode == FdbMode::kAppend ? "append" : "replace", fdb_text(mac, dst), link);
  auto index = index_of(what, link);
  if (!index) {
    return index.error();
  }
  NeighPtr n = fdb_template(*index, mac, dst);
  if (!n) {
    return make_error(Errc::kIo, "{}: out of memory", what);
  }
  const int flags = mode == FdbMode::kAppend ? NLM_F_APPEND : NLM_F_REPLACE;
  return call(what, [&] { return rtnl_neigh_add(sock_.get(), n.get(), NLM_F_CREATE | flags); });
}

Result<void> LibnlNetlink::del_fdb(std::string_view link, const MacAddress& mac,
                                   const std::optional<IpAddress>& dst) {
  const std::string what = fmt::format("delete fdb {} on {}", fdb_text(mac, dst), link);
  auto index = index_of(what, link);
  if (!index) {
    return index.error();
  }
  NeighPtr n = fdb_template(*index, mac, dst);
  if (!n) {
    return make_error(Errc::kIo, "{}: out of memory", what);
  }
  return call(what, [&] { return rtnl_neigh_delete(sock_.get(), n.get(), 0); });
}

Result<std::vector<FdbEntry>> LibnlNetlink::list_fdb(std::string_view link) {
  const std::string what = fmt::format("list fdb of {}", link);
  auto index = index_of(what, link);
  if (!index) {
    return index.error();
  }
  auto names = link_cache(what, AF_UNSPEC);
  if (!names) {
    return names.error();
  }
  std::vector<FdbEntry> out;
  auto ok = dump(what, RTM_GETNEIGH, AF_BRIDGE, [&](nlmsghdr* hdr) {
    rtnl_neigh* raw = nullptr;
    if (rtnl_neigh_parse(hdr, &raw) < 0) {
      return;
    }
    NeighPtr n(raw);
    if (rtnl_neigh_get_family(n.get()) != AF_BRIDGE || rtnl_neigh_get_ifindex(n.get()) != *index) {
      return;
    }
    FdbEntry e;
    e.mac = mac_from_nl_addr(rtnl_neigh_get_lladdr(n.get()));
    e.dst = ip_from_nl_addr(rtnl_neigh_get_dst(n.get()));
    e.self = (rtnl_neigh_get_flags(n.get()) & NTF_SELF) != 0;
    e.permanent = (rtnl_neigh_get_state(n.get()) & NUD_PERMANENT) != 0;
    const int master = rtnl_neigh_get_master(n.get());
    std::array<char, IFNAMSIZ + 1> buf{};
    if (!e.self && master > 0 && rtnl_link_i2name(names->get(), master, buf.data(), buf.size())) {
      e.master = buf.data();
    }
    out.push_back(std::move(e));
  });
  if (!ok) {
    return ok.error();
  }
  return out;
}

}  // namespace weft::nl_detail
