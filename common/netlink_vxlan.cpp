// LibnlNetlink: kernel VXLAN devices (the fast datapath's encapsulation).
#include <netlink/route/link/vxlan.h>

#include "common/netlink_libnl.hpp"

namespace weft::nl_detail {

Result<void> LibnlNetlink::create_vxlan(const VxlanConfig& config) {
  const std::string what = fmt::format("create vxlan {}", config.name);
  if (config.vni >= (1u << 24)) {
    return make_error(Errc::kInvalidArgument, "{}: vni {} out of range", what, config.vni);
  }
  if (config.local && config.group && config.local->is_v4() != config.group->is_v4()) {
    return make_error(Errc::kInvalidArgument, "{}: local {} and group {} differ in family", what,
                      config.local->to_string(), config.group->to_string());
  }
  LinkPtr link(rtnl_link_vxlan_alloc());
  if (!link) {
    return make_error(Errc::kIo, "{}: cannot allocate", what);
  }
  rtnl_link* l = link.get();
  rtnl_link_vxlan_set_id(l, config.vni);
  rtnl_link_vxlan_set_port(l, config.port);
  rtnl_link_vxlan_set_learning(l, config.learning ? 1 : 0);
  bool v6 = false;
  if (config.local) {
    AddrPtr a = to_nl_addr(*config.local);
    rtnl_link_vxlan_set_local(l, a.get());
    v6 = config.local->is_v6();
  }
  if (config.group) {
    AddrPtr a = to_nl_addr(*config.group);
    rtnl_link_vxlan_set_group(l, a.get());
    v6 = config.group->is_v6();
  }
  if (v6) {
    const std::uint8_t zero = config.udp_checksum ? 0 : 1;
    rtnl_link_vxlan_set_udp_zero_csum6_tx(l, zero);
    rtnl_link_vxlan_set_udp_zero_csum6_rx(l, zero);
  } else {
    rtnl_link_vxlan_set_udp_csum(l, config.udp_checksum ? 1 : 0);
  }
  if (config.underlay_device) {
    auto index = index_of(what, *config.underlay_device);
    if (!index) {
      return index.error();
    }
    rtnl_link_vxlan_set_link(l, static_cast<std::uint32_t>(*index));
  }
  if (config.mtu) {
    rtnl_link_set_mtu(l, *config.mtu);
  }
  return add_link(what, config.name, l);
}

}  // namespace weft::nl_detail
