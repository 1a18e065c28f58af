#include "tests/support/fake_netlink.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace weft::test {

namespace {

Result<void> bad_name(std::string_view name) {
  if (name.empty() || name.size() > 15 || name.find_first_of("/: ") != std::string_view::npos) {
    return make_error(Errc::kInvalidArgument, "bad link name \"{}\"", name);
  }
  return {};
}

}  // namespace

void FakeNetlink::fail_next(std::string operation, Errc code) {
  failures_[std::move(operation)] = code;
}

std::size_t FakeNetlink::calls(std::string_view operation) const {
  auto it = calls_.find(operation);
  return it == calls_.end() ? 0 : it->second;
}

Result<void> FakeNetlink::enter(std::string_view operation) {
  ++calls_[std::string(operation)];
  if (auto it = failures_.find(operation); it != failures_.end()) {
    const Errc code = it->second;
    failures_.erase(it);
    return make_error(code, "{}: injected failure", operation);
  }
  return {};
}

Result<FakeNetlink::Link*> FakeNetlink::get(std::string_view name, std::string_view operation) {
  WEFT_TRY_VOID(enter(operation));
  auto it = links_.find(name);
  if (it == links_.end()) {
    return make_error(Errc::kNotFound, "{} {}: No such device", operation, name);
  }
  return &it->second;
}

const FakeNetlink::Link* FakeNetlink::find(std::string_view name) const {
  auto it = links_.find(name);
  return it == links_.end() ? nullptr : &it->second;
}

std::vector<std::string> FakeNetlink::fdb_lines(std::string_view link) const {
  std::vector<std::string> out;
  if (const Link* l = find(link)) {
    for (const FdbEntry& e : l->fdb) {
      if (e.self) {
        out.push_back(e.mac.to_string() + " " + (e.dst ? e.dst->to_string() : "-"));
      }
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

void FakeNetlink::learn(std::string_view link, const MacAddress& mac) {
  auto it = links_.find(link);
  if (it != links_.end()) {
    it->second.fdb.push_back({.mac = mac,
                              .dst = std::nullopt,
                              .self = false,
                              .permanent = false,
                              .master = it->second.info.master_name});
  }
}

Result<void> FakeNetlink::add_link(std::string_view name, std::string_view kind,
                                   std::optional<std::uint32_t> mtu) {
  WEFT_TRY_VOID(bad_name(name));
  if (links_.contains(name)) {
    return make_error(Errc::kAlreadyExists, "create {} {}: File exists", kind, name);
  }
  Link l;
  l.info.index = next_index_++;
  l.info.name = std::string(name);
  l.info.kind = std::string(kind);
  l.info.mtu = mtu.value_or(1500);
  // A locally administered MAC from the index, as stable as the kernel's random one.
  l.info.mac =
      MacAddress(MacAddress::Bytes{0x0a, 0x58, 0, 0, static_cast<std::uint8_t>(l.info.index >> 8),
                                   static_cast<std::uint8_t>(l.info.index)});
  links_.emplace(std::string(name), std::move(l));
  return {};
}

Result<void> FakeNetlink::create_bridge(std::string_view name, std::optional<std::uint32_t> mtu) {
  WEFT_TRY_VOID(enter("create_bridge"));
  return add_link(name, "bridge", mtu);
}

Result<void> FakeNetlink::create_veth(const VethConfig& config) {
  WEFT_TRY_VOID(enter("create_veth"));
  if (config.peer_netns != nullptr) {
    return make_error(Errc::kUnsupported, "create veth: other namespaces are not modelled");
  }
  WEFT_TRY_VOID(add_link(config.name, "veth", config.mtu));
  return add_link(config.peer_name, "veth", config.mtu);
}

Result<void> FakeNetlink::create_vxlan(const VxlanConfig& config) {
  WEFT_TRY_VOID(enter("create_vxlan"));
  WEFT_TRY_VOID(add_link(config.name, "vxlan", config.mtu));
  links_.find(config.name)->second.info.vxlan = VxlanInfo{.vni = config.vni,
                                                          .port = config.port,
                                                          .local = config.local,
                                                          .learning = config.learning,
                                                          .underlay_index = 0};
  return {};
}

Result<void> FakeNetlink::create_link(std::string_view name, std::string_view kind) {
  WEFT_TRY_VOID(enter("create_link"));
  return add_link(name, kind, std::nullopt);
}

Result<std::vector<OwnedFd>> FakeNetlink::create_tap(const TapConfig&) {
  WEFT_TRY_VOID(enter("create_tap"));
  return make_error(Errc::kUnsupported, "create tap: not modelled by the fake");
}

Result<void> FakeNetlink::delete_link(std::string_view name) {
  WEFT_TRY(Link * l, get(name, "delete_link"));
  const std::string gone = l->info.name;
  links_.erase(links_.find(name));
  for (auto& [n, other] : links_) {
    if (other.info.master_name == gone) {
      other.info.master_name.clear();
      other.info.master_index = 0;
    }
  }
  return {};
}

Result<LinkInfo> FakeNetlink::link_by_name(std::string_view name) {
  WEFT_TRY(Link * l, get(name, "link_by_name"));
  return l->info;
}

Result<std::vector<LinkInfo>> FakeNetlink::list_links() {
  WEFT_TRY_VOID(enter("list_links"));
  std::vector<LinkInfo> out;
  for (const auto& [name, l] : links_) {
    out.push_back(l.info);
  }
  return out;
}

Result<void> FakeNetlink::set_up(std::string_view name) {
  WEFT_TRY(Link * l, get(name, "set_up"));
  l->info.up = true;
  return {};
}

Result<void> FakeNetlink::set_down(std::string_view name) {
  WEFT_TRY(Link * l, get(name, "set_down"));
  l->info.up = false;
  return {};
}

Result<void> FakeNetlink::set_mtu(std::string_view name, std::uint32_t mtu) {
  WEFT_TRY(Link * l, get(name, "set_mtu"));
  if (mtu < 68 || mtu > 65535) {
    return make_error(Errc::kInvalidArgument, "set mtu {} {}: Invalid argument", name, mtu);
  }
  l->info.mtu = mtu;
  return {};
}

Result<void> FakeNetlink::set_mac(std::string_view name, const MacAddress& mac) {
  WEFT_TRY(Link * l, get(name, "set_mac"));
  l->info.mac = mac;
  return {};
}

Result<void> FakeNetlink::rename(std::string_view name, std::string_view new_name) {
  WEFT_TRY(Link * l, get(name, "rename"));
  WEFT_TRY_VOID(bad_name(new_name));
  if (links_.contains(new_name)) {
    return make_error(Errc::kAlreadyExists, "rename {}: File exists", name);
  }
  Link moved = *l;
  moved.info.name = std::string(new_name);
  links_.erase(links_.find(name));
  links_.emplace(std::string(new_name), std::move(moved));
  return {};
}

Result<void> FakeNetlink::set_master(std::string_view name, std::string_view bridge) {
  WEFT_TRY(Link * l, get(name, "set_master"));
  auto b = links_.find(bridge);
  if (b == links_.end() || b->second.info.kind != "bridge") {
    return make_error(Errc::kNotFound, "set master {} {}: No such device", name, bridge);
  }
  l->info.master_name = std::string(bridge);
  l->info.master_index = b->second.info.index;
  return {};
}

Result<void> FakeNetlink::set_nomaster(std::string_view name) {
  WEFT_TRY(Link * l, get(name, "set_nomaster"));
  l->info.master_name.clear();
  l->info.master_index = 0;
  return {};
}

Result<void> FakeNetlink::set_hairpin(std::string_view name, bool on) {
  WEFT_TRY(Link * l, get(name, "set_hairpin"));
  if (l->info.master_index == 0) {
    return make_error(Errc::kInvalidArgument, "set hairpin {}: not a bridge port", name);
  }
  l->hairpin = on;
  return {};
}

Result<bool> FakeNetlink::hairpin(std::string_view name) {
  WEFT_TRY(Link * l, get(name, "hairpin"));
  return l->hairpin;
}

Result<void> FakeNetlink::set_isolated(std::string_view name, bool on) {
  WEFT_TRY(Link * l, get(name, "set_isolated"));
  if (l->info.master_index == 0) {
    return make_error(Errc::kInvalidArgument, "set isolated {}: not a bridge port", name);
  }
  l->isolated = on;
  return {};
}

Result<void> FakeNetlink::move_to_netns(std::string_view name, const Netns&) {
  WEFT_TRY_VOID(get(name, "move_to_netns"));
  return make_error(Errc::kUnsupported, "move {}: other namespaces are not modelled", name);
}

Result<void> FakeNetlink::add_address(std::string_view link, const Cidr& address) {
  WEFT_TRY(Link * l, get(link, "add_address"));
  if (std::find(l->addresses.begin(), l->addresses.end(), address) != l->addresses.end()) {
    return make_error(Errc::kAlreadyExists, "add address {} {}: File exists", link,
                      address.to_string());
  }
  l->addresses.push_back(address);
  return {};
}

Result<void> FakeNetlink::del_address(std::string_view link, const Cidr& address) {
  WEFT_TRY(Link * l, get(link, "del_address"));
  auto it = std::find(l->addresses.begin(), l->addresses.end(), address);
  if (it == l->addresses.end()) {
    return make_error(Errc::kNotFound, "del address {} {}: Cannot assign requested address", link,
                      address.to_string());
  }
  l->addresses.erase(it);
  return {};
}

Result<std::vector<Cidr>> FakeNetlink::list_addresses(std::string_view link) {
  WEFT_TRY(Link * l, get(link, "list_addresses"));
  return l->addresses;
}

Result<void> FakeNetlink::add_route(const Route& route) {
  WEFT_TRY_VOID(enter("add_route"));
  if (std::find(routes_.begin(), routes_.end(), route) != routes_.end()) {
    return make_error(Errc::kAlreadyExists, "add route {}: File exists", route.dst.to_string());
  }
  routes_.push_back(route);
  return {};
}

Result<void> FakeNetlink::del_route(const Route& route) {
  WEFT_TRY_VOID(enter("del_route"));
  auto it = std::find(routes_.begin(), routes_.end(), route);
  if (it == routes_.end()) {
    return make_error(Errc::kNotFound, "del route {}: No such process", route.dst.to_string());
  }
  routes_.erase(it);
  return {};
}

Result<std::vector<Route>> FakeNetlink::list_routes(std::optional<IpFamily> family,
                                                    std::uint32_t table) {
  WEFT_TRY_VOID(enter("list_routes"));
  std::vector<Route> out;
  for (const Route& r : routes_) {
    if (r.table == table && (!family || r.dst.family() == *family)) {
      out.push_back(r);
    }
  }
  return out;
}

// As the kernel's VXLAN FDB: several entries may share the all-zero MAC only when appended
// with different destinations; replace keeps one entry per MAC.
Result<void> FakeNetlink::add_fdb(std::string_view link, const MacAddress& mac,
                                  const std::optional<IpAddress>& dst, FdbMode mode) {
  WEFT_TRY(Link * l, get(link, "add_fdb"));
  auto same_mac = [&](const FdbEntry& e) {
    return e.self && e.mac == mac;
  };
  if (mode == FdbMode::kReplace) {
    std::erase_if(l->fdb, same_mac);
  } else if (std::any_of(l->fdb.begin(), l->fdb.end(),
                         [&](const FdbEntry& e) { return same_mac(e) && e.dst == dst; })) {
    return make_error(Errc::kAlreadyExists, "fdb append {} {}: File exists", link, mac.to_string());
  }
  l->fdb.push_back({.mac = mac, .dst = dst, .self = true, .permanent = true, .master = ""});
  return {};
}

Result<void> FakeNetlink::del_fdb(std::string_view link, const MacAddress& mac,
                                  const std::optional<IpAddress>& dst) {
  WEFT_TRY(Link * l, get(link, "del_fdb"));
  auto it = std::find_if(l->fdb.begin(), l->fdb.end(), [&](const FdbEntry& e) {
    return e.self && e.mac == mac && (!dst || e.dst == dst);
  });
  if (it == l->fdb.end()) {
    const bool known = std::any_of(l->fdb.begin(), l->fdb.end(),
                                   [&](const FdbEntry& e) { return e.self && e.mac == mac; });
    if (known) {
      return {};  // a destination the MAC does not have: a no-op, as in the kernel
    }
    return make_error(Errc::kNotFound, "fdb del {} {}: No such file or directory", link,
                      mac.to_string());
  }
  l->fdb.erase(it);
  return {};
}

Result<std::vector<FdbEntry>> FakeNetlink::list_fdb(std::string_view link) {
  WEFT_TRY(Link * l, get(link, "list_fdb"));
  return l->fdb;
}

Result<void> FakeNetlink::add_neigh(std::string_view link, const IpAddress& ip,
                                    const MacAddress& mac) {
  WEFT_TRY(Link * l, get(link, "add_neigh"));
  l->neigh[ip] = mac;
  return {};
}

Result<void> FakeNetlink::del_neigh(std::string_view link, const IpAddress& ip) {
  WEFT_TRY(Link * l, get(link, "del_neigh"));
  if (l->neigh.erase(ip) == 0) {
    return make_error(Errc::kNotFound, "neigh del {} {}: No such file or directory", link,
                      ip.to_string());
  }
  return {};
}

Result<std::vector<Neighbour>> FakeNetlink::list_neigh(std::string_view link) {
  WEFT_TRY(Link * l, get(link, "list_neigh"));
  std::vector<Neighbour> out;
  for (const auto& [ip, mac] : l->neigh) {
    out.push_back({.ip = ip, .mac = mac, .permanent = true});
  }
  return out;
}

}  // namespace weft::test
