// weft-ipam: weftd's allocator as an IPAM plugin for other main plugins (bridge, macvlan,
// ...). It answers the abbreviated result (ips without interface, routes from its config)
// and records its attachments in weftd's registry as "cni-ipam:<network>" for GC.
#include "cni/plugin_context.hpp"

namespace weft::cni {

CniResult<CniSuccess> ipam_add(Context& c) {
  api::ContainerRecord record{c.env.container_id, c.env.ifname, c.env.netns, "", "", {},
                              c.source()};
  Rollback undo;
  WEFT_TRY_VOID(c.weftd.register_container(record));
  undo.add([&c] { (void)c.weftd.unregister_container(c.env.container_id, c.env.ifname); });
  WEFT_TRY(auto cidrs, c.weftd.allocate(c.env.container_id, c.env.ifname, c.conf.families));
  undo.add([&c] { (void)c.weftd.release(c.env.container_id, c.env.ifname); });
  record.addresses = cidrs;
  WEFT_TRY_VOID(c.weftd.register_container(record));
  undo.disarm();
  CniSuccess out;
  for (const Cidr& a : cidrs)
    out.ips.push_back(CniIp{a, std::nullopt, std::nullopt});
  for (const Cidr& dst : c.conf.ipam_routes)
    out.routes.push_back(CniRoute{dst, std::nullopt});
  return out;
}

CniResult<void> ipam_del(Context& c) {
  WEFT_TRY_VOID(c.weftd.release(c.env.container_id, c.env.ifname));
  return c.weftd.unregister_container(c.env.container_id, c.env.ifname);
}

}  // namespace weft::cni
