#include "datapath/fastdp.hpp"

#include <algorithm>

#include "common/log.hpp"

namespace weft::datapath {

using router::PeerName;

namespace {

bool contains(const std::vector<MacAddress>& v, const MacAddress& m) {
  return std::find(v.begin(), v.end(), m) != v.end();
}

const MacAddress kFlood{};

}  // namespace

std::string vxlan_device_name(IpFamily family) {
  return family == IpFamily::kV4 ? "weft-vx4" : "weft-vx6";
}

FastDatapath::FastDatapath(Netlink& netlink, std::string bridge, std::uint16_t port)
    : nl_(netlink), bridge_(std::move(bridge)), port_(port) {}

Result<MacAddress> FastDatapath::ensure_device(IpFamily family, const IpAddress& local,
                                               std::uint32_t underlay_mtu) {
  const std::string dev = vxlan_device_name(family);
  if (local.family() != family) {
    return make_error(Errc::kInvalidArgument, "{}: local address {} of the wrong family", dev,
                      local.to_string());
  }
  const std::uint32_t mtu = underlay_mtu - vxlan_overhead(family);
  auto existing = nl_.link_by_name(dev);
  if (existing) {
    const bool same = existing->kind == "vxlan" && existing->vxlan &&
                      existing->vxlan->vni == kVni && existing->vxlan->port == port_ &&
                      existing->vxlan->local == local && !existing->vxlan->learning;
    if (!same) {
      log::info("re-creating vxlan device with new settings", {{"device", dev}});
      WEFT_TRY_VOID(nl_.delete_link(dev));
      existing = make_error(Errc::kNotFound, "deleted");
    }
  }
  if (!existing) {
    WEFT_TRY_VOID(nl_.create_vxlan({.name = dev,
                                    .vni = kVni,
                                    .local = local,
                                    .group = std::nullopt,
                                    .port = port_,
                                    .underlay_device = std::nullopt,
                                    .learning = false,
                                    .mtu = mtu,
                                    .udp_checksum = family == IpFamily::kV6}));
    // Peers programmed earlier on a device that went away are programmed again below.
    for (auto it = peers_.begin(); it != peers_.end();) {
      it = it->second.underlay.family() == family ? peers_.erase(it) : std::next(it);
    }
  } else if (existing->mtu != mtu) {
    WEFT_TRY_VOID(nl_.set_mtu(dev, mtu));
  }
  WEFT_TRY_VOID(nl_.set_master(dev, bridge_));
  WEFT_TRY_VOID(nl_.set_isolated(dev, true));
  WEFT_TRY_VOID(nl_.set_up(dev));
  WEFT_TRY(const LinkInfo link, nl_.link_by_name(dev));
  devices_[family] = Device{link.mac, mtu, local};
  return link.mac;
}

std::optional<MacAddress> FastDatapath::device_mac(IpFamily family) const {
  auto it = devices_.find(family);
  return it == devices_.end() ? std::nullopt : std::optional(it->second.mac);
}

std::optional<std::uint32_t> FastDatapath::device_mtu(IpFamily family) const {
  auto it = devices_.find(family);
  return it == devices_.end() ? std::nullopt : std::optional(it->second.mtu);
}

namespace {

// The FDB entries a peer config stands for: (mac, dst) pairs; the all-zero MAC is the flood
// entry (appended, one per peer), the others replace any entry for the same MAC.
std::vector<MacAddress> entries_of(const FastdpPeer& p) {
  std::vector<MacAddress> out;
  if (p.device_mac) {
    out.push_back(*p.device_mac);
  }
  if (p.forwarding) {
    out.push_back(kFlood);
    for (const MacAddress& m : p.macs) {
      if (!contains(out, m)) {
        out.push_back(m);
      }
    }
  }
  return out;
}

}  // namespace

Result<void> FastDatapath::add_entries(const std::string& dev, const FastdpPeer& p,
                                       const FastdpPeer* before) {
  const auto old = before != nullptr && before->underlay == p.underlay ? entries_of(*before)
                                                                       : std::vector<MacAddress>{};
  for (const MacAddress& m : entries_of(p)) {
    if (!contains(old, m)) {
      WEFT_TRY_VOID(
          nl_.add_fdb(dev, m, p.underlay, m == kFlood ? FdbMode::kAppend : FdbMode::kReplace));
    }
  }
  return {};
}

void FastDatapath::remove_entries(const std::string& dev, const FastdpPeer& p,
                                  const FastdpPeer* after) {
  const auto keep = after != nullptr && after->underlay == p.underlay ? entries_of(*after)
                                                                      : std::vector<MacAddress>{};
  for (const MacAddress& m : entries_of(p)) {
    if (contains(keep, m)) {
      continue;
    }
    if (auto r = nl_.del_fdb(dev, m, p.underlay); !r && r.error().code != Errc::kNotFound) {
      log::warn("cannot remove fdb entry", {{"device", dev}, {"error", r.error().to_string()}});
    }
  }
}

Result<void> FastDatapath::set_peer(PeerName peer, const FastdpPeer& config) {
  const IpFamily family = config.underlay.family();
  if (!devices_.contains(family)) {
    return make_error(Errc::kUnavailable, "no fast datapath device for {} peers",
                      family == IpFamily::kV4 ? "IPv4" : "IPv6");
  }
  auto it = peers_.find(peer);
  if (it != peers_.end() && it->second == config) {
    return {};
  }
  if (it != peers_.end()) {
    remove_entries(vxlan_device_name(it->second.underlay.family()), it->second, &config);
  }
  const FastdpPeer* before =
      it != peers_.end() && it->second.underlay == config.underlay ? &it->second : nullptr;
  auto ok = add_entries(vxlan_device_name(family), config, before);
  peers_[peer] = config;
  if (!ok) {
    // Leave nothing half-programmed: the next set_peer starts from scratch.
    remove_entries(vxlan_device_name(family), config, nullptr);
    peers_.erase(peer);
  }
  return ok;
}

Result<void> FastDatapath::remove_peer(PeerName peer) {
  auto it = peers_.find(peer);
  if (it == peers_.end()) {
    return {};
  }
  remove_entries(vxlan_device_name(it->second.underlay.family()), it->second, nullptr);
  peers_.erase(it);
  return {};
}

std::vector<PeerName> FastDatapath::peers() const {
  std::vector<PeerName> out;
  for (const auto& [name, p] : peers_) {
    out.push_back(name);
  }
  return out;
}

void FastDatapath::teardown() {
  for (const auto& [family, d] : devices_) {
    if (auto r = nl_.delete_link(vxlan_device_name(family)); !r) {
      log::warn("cannot delete vxlan device",
                {{"device", vxlan_device_name(family)}, {"error", r.error().to_string()}});
    }
  }
  devices_.clear();
  peers_.clear();
}

}  // namespace weft::datapath
