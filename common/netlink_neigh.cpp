// LibnlNetlink: IP neighbour (ARP / NDP) entries.
#include "common/netlink_libnl.hpp"
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>

namespace weft::nl_detail {
namespace {

NeighPtr neigh_template(int index, const IpAddress& ip) {
  NeighPtr n(rtnl_neigh_alloc());
  AddrPtr dst = to_nl_addr(ip);
  if (!n || !dst) {
    return nullptr;
  }
  rtnl_neigh_set_ifindex(n.get(), index);
  rtnl_neigh_set_dst(n.get(), dst.get());  // also sets the family
  return n;
}

}  // namespace

Result<void> LibnlNetlink::add_neigh(std::string_view link, const IpAddress& ip,
                                     const MacAddress& mac) {
  const std::string what =
      fmt::format("add neighbour {} lladdr {} on {}", ip.to_string(), mac.to_string(), link);
  auto index = index_of(what, link);
  if (!index) {
    return index.error();
  }
  NeighPtr n = neigh_template(*index, ip);
  AddrPtr ll = to_nl_addr(mac);
  if (!n || !ll) {
    return make_error(Errc::kIo, "{}: out of memory", what);
  }
  rtnl_neigh_set_lladdr(n.get(), ll.get());
  rtnl_neigh_set_state(n.get(), NUD_PERMANENT);
  return call(what,
              [&] { return rtnl_neigh_add(sock_.get(), n.get(), NLM_F_CREATE | NLM_F_REPLACE); });
}

Result<void> LibnlNetlink::del_neigh(std::string_view link, const IpAddress& ip) {
  const std::string what = fmt::format("delete neighbour {} on {}", ip.to_string(), link);
  auto index = index_of(what, link);
  if (!index) {
    return index.error();
  }
  NeighPtr n = neigh_template(*index, ip);
  if (!n) {
    return make_error(Errc::kIo, "{}: out of memory", what);
  }
  return call(what, [&] { return rtnl_neigh_delete(sock_.get(), n.get(), 0); });
}

Result<std::vector<Neighbour>> LibnlNetlink::list_neigh(std::string_view link) {
  const std::string what = fmt::format("list neighbours of {}", link);
  auto index = index_of(what, link);
  if (!index) {
    return index.error();
  }
  std::vector<Neighbour> out;
  auto collect = [&](nlmsghdr* hdr) {
    rtnl_neigh* raw = nullptr;
    if (rtnl_neigh_parse(hdr, &raw) < 0) {
      return;
    }
    NeighPtr n(raw);
    const int family = rtnl_neigh_get_family(n.get());
    if ((family != AF_INET && family != AF_INET6) || rtnl_neigh_get_ifindex(n.get()) != *index) {
      return;
    }
    auto ip = ip_from_nl_addr(rtnl_neigh_get_dst(n.get()));
    if (!ip) {
      return;
    }
    out.push_back(Neighbour{*ip, mac_from_nl_addr(rtnl_neigh_get_lladdr(n.get())),
                            (rtnl_neigh_get_state(n.get()) & NUD_PERMANENT) != 0});
  };
  for (int family : {AF_INET, AF_INET6}) {
    if (auto ok = dump(what, RTM_GETNEIGH, family, collect); !ok) {
      return ok.error();
    }
  }
  return out;
}

}  // namespace weft::nl_detail
