#include "datapath/dataplane.hpp"

#include <algorithm>

#include <boost/asio/ip/udp.hpp>

#include "common/host_port.hpp"
#include "common/log.hpp"
#include "datapath/sleeve_crypto.hpp"
#include <fmt/format.h>

namespace weft::datapath {

using router::PeerName;
using router::PeerRecord;
using router::Router;
using router::RouterStatus;

namespace asio = boost::asio;

std::string_view to_string(DatapathKind kind) {
  switch (kind) {
    case DatapathKind::kFastdp:
      return "fastdp";
    case DatapathKind::kSleeve:
      return "sleeve";
    case DatapathKind::kNone:
      return "none";
  }
  return "none";
}

namespace {

// The source address the kernel would use towards `dst` (a connected UDP socket sends
// nothing).
Result<IpAddress> source_towards(const asio::any_io_executor& ex, const IpAddress& dst) {
  asio::ip::udp::socket s(ex);
  boost::system::error_code ec;
  const asio::ip::udp::endpoint to(dst.to_asio(), kFastdpPort);
  s.open(to.protocol(), ec);
  if (!ec) {
    s.connect(to, ec);
  }
  if (ec) {
    return make_error(Errc::kUnavailable, "no route to {}: {}", dst.to_string(), ec.message());
  }
  const auto local = s.local_endpoint(ec);
  if (ec) {
    return make_error(Errc::kIo, "source address towards {}: {}", dst.to_string(), ec.message());
  }
  return IpAddress::from_asio(local.address()).unmap();
}

std::optional<IpAddress> host_of(const std::string& address) {
  auto hp = parse_host_port(address);
  if (!hp) {
    return std::nullopt;
  }
  auto ip = parse_ip_address(hp->host);
  return ip ? std::optional(ip->unmap()) : std::nullopt;
}

bool is_weft_device(const LinkInfo& l, const std::string& bridge) {
  return l.name == bridge || l.master_name == bridge || l.name.rfind("weft", 0) == 0;
}

}  // namespace

Dataplane::Dataplane(asio::any_io_executor executor, Clock& clock, Rng& rng, Router& router,
                     std::unique_ptr<Netlink> netlink, DataplaneConfig config)
    : executor_(std::move(executor)),
      clock_(clock),
      rng_(rng),
      router_(router),
      config_(std::move(config)),
      nl_(std::move(netlink)),
      tasks_(executor_) {}

Dataplane::~Dataplane() {
  tasks_.cancel();
}

Result<void> Dataplane::start() {
  // The underlay: the largest MTU among our non-weft links that are up; IPv6 encapsulation
  // costs more, so a host with an IPv6 underlay address sizes for it.
  WEFT_TRY(const auto links, nl_->list_links());
  bool v6 = false;
  std::uint32_t mtu = 0;
  for (const auto& l : links) {
    if (!l.up || l.name == "lo" || is_weft_device(l, config_.bridge)) {
      continue;
    }
    mtu = std::max(mtu, l.mtu);
    if (auto addrs = nl_->list_addresses(l.name)) {
      for (const auto& a : *addrs) {
        v6 = v6 || (a.address().is_v6() && !a.address().is_link_local());
      }
    }
  }
  underlay_mtu_ = mtu == 0 ? 1500 : mtu;
  overlay_mtu_ =
      config_.mtu.value_or(underlay_mtu_ - vxlan_overhead(v6 ? IpFamily::kV6 : IpFamily::kV4));
  if (auto existing = nl_->link_by_name(config_.bridge); !existing) {
    WEFT_TRY_VOID(nl_->create_bridge(config_.bridge, overlay_mtu_));
  } else if (existing->kind != "bridge") {
    return make_error(Errc::kConflict, "{} exists and is a {}, not a bridge", config_.bridge,
                      existing->kind);
  } else {
    WEFT_TRY_VOID(nl_->set_mtu(config_.bridge, overlay_mtu_));
  }
  // A fixed bridge MAC: left alone, the kernel gives a bridge the lowest MAC of its ports, so
  // it would change whenever the sleeve TAP or a VXLAN device comes or goes — and containers
  // would keep sending to the gateway's old MAC until their neighbour entry expired.
  {
    const std::uint64_t n = router_.name().value;
    MacAddress::Bytes b{};
    for (int i = 0; i < 6; ++i) {
      b[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(n >> (8 * (5 - i)));
    }
    b[0] = static_cast<std::uint8_t>((b[0] | 0x02) & 0xfe);  // local, unicast
    WEFT_TRY_VOID(nl_->set_mac(config_.bridge, MacAddress(b)));
  }
  WEFT_TRY_VOID(nl_->set_up(config_.bridge));
  fastdp_ = std::make_unique<FastDatapath>(*nl_, config_.bridge);
  switch_ = std::make_unique<OverlaySwitch>(
      clock_, *fastdp_,
      SwitchConfig{.mode = config_.mode,
                   .encryption_required = config_.encryption_required,
                   .trusted_subnets = config_.trusted_subnets,
                   .heartbeat_timeout = config_.heartbeat_timeout});
  start_sleeve(v6);
  exposer_ = std::make_unique<Exposer>(*nl_, config_.bridge);
  if (auto addrs = nl_->list_addresses(config_.bridge)) {
    for (const Cidr& a : *addrs) {
      if (a.address().is_link_local()) {
        continue;
      }
      if (auto ok = exposer_->expose(a); !ok) {
        log::warn("cannot restore exposed address",
                  {{"address", fmt::format("{}", a)}, {"error", ok.error().to_string()}});
      }
    }
  }
  log::info("bridge ready", {{"bridge", config_.bridge},
                             {"mtu", overlay_mtu_},
                             {"underlay_mtu", underlay_mtu_},
                             {"datapath", to_string(config_.mode)}});
  tasks_.spawn(
      [](Dataplane* self) -> asio::awaitable<void> {
        while (true) {
          self->refresh();
          const bool slept = co_await self->clock_.sleep_for(self->config_.tick);
          if (!slept) {
            co_return;
          }
        }
      }(this),
      "dataplane-tick");
  return {};
}

asio::awaitable<void> Dataplane::stop() {
  stopping_ = true;
  tasks_.cancel();
  co_await tasks_.join();
  for (auto& [family, fs] : families_) {
    if (fs.prober) {
      co_await fs.prober->stop();
    }
  }
  if (fastdp_) {
    fastdp_->teardown();
  }
  if (sleeve_) {
    sleeve_->stop();
    sleeve_.reset();
  }
}

Dataplane::FamilyState& Dataplane::family_state(IpFamily family, const IpAddress& towards) {
  FamilyState& fs = families_[family];
  if (fs.local || stopping_) {
    return fs;
  }
  auto local = source_towards(executor_, towards);
  if (!local) {
    fs.error = local.error().message;
    return fs;
  }
  auto mac = fastdp_->ensure_device(family, *local, underlay_mtu_);
  if (!mac) {
    fs.error = mac.error().message;
    log::warn("fast datapath unavailable",
              {{"family", family == IpFamily::kV4 ? "ipv4" : "ipv6"}, {"error", fs.error}});
    return fs;
  }
  auto link = nl_->link_by_name(vxlan_device_name(family));
  auto bridge = nl_->link_by_name(config_.bridge);
  auto prober = std::make_unique<FastdpProber>(executor_, clock_, rng_, router_.name());
  if (!link || !bridge) {
    fs.error = !link ? link.error().message : bridge.error().message;
    return fs;
  }
  if (auto ok = prober->open(link->index, bridge->index, *mac, config_.tick); !ok) {
    fs.error = ok.error().message;
    log::warn("fastdp heartbeats unavailable", {{"error", fs.error}});
    return fs;
  }
  fs.prober = std::move(prober);
  fs.local = *local;
  fs.error.clear();
  log::info("fast datapath ready", {{"device", vxlan_device_name(family)},
                                    {"local", local->to_string()},
                                    {"mtu", *fastdp_->device_mtu(family)}});
  return fs;
}

LocalPath Dataplane::local_path(IpFamily family, const IpAddress& towards, PeerName peer) {
  FamilyState& fs = family_state(family, towards);
  if (!fs.local || !fs.prober) {
    return {.ready = false, .error = fs.error, .last_pong = std::nullopt, .rtt = std::nullopt};
  }
  return {.ready = true,
          .error = "",
          .last_pong = fs.prober->last_pong(peer),
          .rtt = fs.prober->rtt(peer)};
}

PeerDatapath Dataplane::decide(PeerName peer, const IpAddress& underlay, const DatapathInfo* info) {
  // A sleeve session with every connected peer that offers one: relays may run through it
  // even when its own traffic goes over fastdp.
  auto sleeve = sleeve_peer(peer, underlay, info);
  const SwitchDecision d = switch_->decide(
      {.name = peer, .underlay = underlay, .offer = info},
      [&](IpFamily family, const IpAddress& towards) { return local_path(family, towards, peer); });
  if (d.fastdp) {
    return {.kind = DatapathKind::kFastdp, .detail = "", .encrypted = false, .rtt = d.rtt};
  }
  if (sleeve) {
    sleeve->detail = sleeve->detail.empty() ? d.why : d.why + "; " + sleeve->detail;
    return *sleeve;
  }
  return PeerDatapath{.kind = DatapathKind::kNone,
                      .detail = (sleeve_ ? "peer offers no sleeve; "
                                         : "sleeve unavailable: " + sleeve_error_ + "; ") +
                                d.why,
                      .encrypted = false,
                      .rtt = std::nullopt};
}

std::vector<MacAddress> Dataplane::local_macs() {
  std::vector<MacAddress> out;
  auto links = nl_->list_links();
  if (!links) {
    return macs_;
  }
  for (const auto& l : *links) {
    if (l.master_name != config_.bridge || l.kind != "veth") {
      continue;
    }
    if (auto fdb = nl_->list_fdb(l.name)) {
      for (const auto& e : *fdb) {
        if (!e.self && !e.permanent && !e.mac.is_multicast() && !e.mac.is_zero()) {
          out.push_back(e.mac);
        }
      }
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

void Dataplane::publish() {
  DatapathInfo info;
  info.sleeve = sleeve_ != nullptr;
  info.sleeve_aes = sleeve_suite_available(SleeveSuite::kAes256Gcm);
  info.fastdp = config_.mode != DatapathMode::kSleeve;
  for (const IpFamily f : {IpFamily::kV4, IpFamily::kV6}) {
    if (auto mac = fastdp_->device_mac(f)) {
      info.vxlan.push_back({f, *mac});
    }
  }
  info.macs = macs_;
  router_.set_datapath_info(encode_datapath_info(info));
}

void Dataplane::refresh() {
  if (stopping_ || !nl_) {
    return;
  }
  // Families we can serve: a VXLAN device appears once a peer of that family connects.
  const RouterStatus status = router_.status();
  std::map<PeerName, PeerDatapath> next;
  std::map<IpFamily, std::map<PeerName, MacAddress>> probe;
  for (const auto& c : status.connections) {
    if (c.state != router::TargetState::kEstablished || !c.peer || next.contains(*c.peer)) {
      continue;
    }
    const auto underlay = host_of(c.address);
    if (!underlay) {
      continue;
    }
    const PeerRecord* record = router_.topology().find(*c.peer);
    std::optional<DatapathInfo> info;
    if (record != nullptr && !record->datapath.empty()) {
      if (auto parsed = parse_datapath_info(record->datapath)) {
        info = std::move(*parsed);
      }
    }
    next[*c.peer] = decide(*c.peer, *underlay, info ? &*info : nullptr);
    if (fastdp_->has_peer(*c.peer) && info) {
      if (auto mac = info->vxlan_mac(underlay->family())) {
        probe[underlay->family()][*c.peer] = *mac;
      }
    }
  }
  std::vector<PeerName> connected;
  connected.reserve(next.size());
  for (const auto& [name, dp] : next) {
    connected.push_back(name);
  }
  switch_->retain(connected);
  sleeve_routes(next);
  for (auto& [family, fs] : families_) {
    if (fs.prober) {
      fs.prober->set_targets(probe[family]);
    }
  }
  peers_ = std::move(next);
  macs_ = local_macs();
  publish();
}

Result<void> Dataplane::expose(const Cidr& address) {
  if (!exposer_) {
    return make_error(Errc::kUnavailable, "the data plane is not running");
  }
  return exposer_->expose(address);
}

Result<void> Dataplane::hide(const Cidr& address) {
  if (!exposer_) {
    return make_error(Errc::kUnavailable, "the data plane is not running");
  }
  return exposer_->hide(address);
}

std::optional<PeerDatapath> Dataplane::peer(PeerName peer) const {
  auto it = peers_.find(peer);
  return it == peers_.end() ? std::nullopt : std::optional(it->second);
}

DataplaneStatus Dataplane::status() const {
  DataplaneStatus out;
  out.bridge = config_.bridge;
  out.mtu = overlay_mtu_;
  out.underlay_mtu = underlay_mtu_;
  out.mode = config_.mode;
  out.encryption_required = config_.encryption_required;
  if (exposer_) {
    out.exposed = exposer_->exposed();
  }
  for (const auto& [family, fs] : families_) {
    if (fs.local && fastdp_) {
      out.devices.push_back({.family = family,
                             .name = vxlan_device_name(family),
                             .local = *fs.local,
                             .mtu = fastdp_->device_mtu(family).value_or(0),
                             .mac = fastdp_->device_mac(family).value_or(MacAddress())});
    }
    if (!fs.error.empty()) {
      out.errors[family] = fs.error;
    }
    if (fs.prober) {
      out.heartbeats[family] = fs.prober->stats();
    }
  }
  out.local_macs = macs_.size();
  out.sleeve = sleeve_status();
  return out;
}

}  // namespace weft::datapath
