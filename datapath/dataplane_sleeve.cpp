// Dataplane: the sleeve part — the `weft-sleeve` TAP on the bridge, the UDP 6783 socket, the
// sleeve thread, per-peer sessions from the control connections' handshakes, and routes
// from the mesh.
//
// Design note: the TAP and VXLAN ports of the bridge are all isolated from each other, so a
// host never bridges frames between datapaths (that would loop broadcasts in mixed meshes);
// frames reach other hosts from local containers only, and relaying is done by the sleeve
// engine by peer name. A session is kept with every connected peer that offers the sleeve,
// also those on fastdp, so that relays can run through any neighbour; unicast routes leave
// out peers reached directly on fastdp, and our own broadcast fan-out leaves out our fastdp
// neighbours (the bridge floods to them through VXLAN already).
//
// Known issue (not diagnosed yet): the first unicast frames over a sleeve link that has
// carried no data yet can take ~3 s to get through (seen for the first ARP exchange between
// two hosts whose connection the other side dialled, and for the first relayed exchange),
// although the link's path is confirmed; afterwards traffic is immediate. The netns tests
// allow for it.
#include "common/log.hpp"
#include "common/tap.hpp"
#include "datapath/dataplane.hpp"
#include "datapath/sleeve_crypto.hpp"
#include <fmt/format.h>

namespace weft::datapath {

using router::PeerName;
using router::Routes;

namespace {
constexpr const char* kSleeveDevice = "weft-sleeve";
}  // namespace

SleeveSuite Dataplane::sleeve_suite(const DatapathInfo* peer) const {
  // Both ends pick the same suite from the same facts (encryption is a mesh-wide setting;
  // AES-NI is advertised in the datapath info).
  if (!config_.encryption_required) {
    return SleeveSuite::kNone;
  }
  if (peer != nullptr && peer->sleeve_aes && sleeve_suite_available(SleeveSuite::kAes256Gcm)) {
    return SleeveSuite::kAes256Gcm;
  }
  return SleeveSuite::kChaCha20Poly1305;
}

void Dataplane::start_sleeve(bool v6_underlay) {
  auto fail = [&](const Error& e) {
    sleeve_error_ = e.message;
    log::warn("sleeve unavailable", {{"error", e.to_string()}});
  };
  auto ns = Netns::current();
  if (!ns) {
    return fail(ns.error());
  }
  (void)nl_->delete_link(kSleeveDevice);  // left over by a killed weftd
  auto taps = open_tap(*ns, TapConfig{.name = kSleeveDevice});
  if (!taps) {
    return fail(taps.error());
  }
  // The TAP takes the bridge's MTU, which is sized for fastdp; frames the sleeve path cannot
  // carry in one packet get an ICMP "fragmentation needed" / "packet too big" from the
  // engine, so senders learn the smaller path MTU per destination (as with Weave's sleeve).
  const std::uint32_t mtu = sleeve_overlay_mtu(underlay_mtu_, v6_underlay, sleeve_suite());
  for (const auto& r :
       {nl_->set_mtu(kSleeveDevice, overlay_mtu_), nl_->set_master(kSleeveDevice, config_.bridge),
        nl_->set_isolated(kSleeveDevice, true), nl_->set_up(kSleeveDevice)}) {
    if (!r) {
      return fail(r.error());
    }
  }
  auto udp = UdpBatchSocket::open(*ns, Endpoint(boost::asio::ip::address_v6::any(), 6783));
  if (!udp) {
    return fail(udp.error());
  }
  SleeveConfig cfg;
  cfg.self = router_.name().value;
  cfg.clock = &clock_;
  cfg.underlay_mtu = underlay_mtu_;
  auto dp = SleeveDatapath::start(cfg, std::move((*taps)[0]), std::move(*udp));
  if (!dp) {
    return fail(dp.error());
  }
  sleeve_ = std::move(*dp);
  log::info("sleeve ready", {{"device", kSleeveDevice},
                             {"port", 6783},
                             {"suite", sleeve_suite_name(sleeve_suite())},
                             {"path_mtu", mtu}});
}

std::optional<PeerDatapath> Dataplane::sleeve_peer(PeerName peer, const IpAddress& underlay,
                                                   const DatapathInfo* info) {
  if (!sleeve_ || info == nullptr || !info->sleeve) {
    return std::nullopt;
  }
  auto conn = router_.connection_info(peer);
  if (!conn) {
    return std::nullopt;
  }
  const Endpoint endpoint(underlay.to_asio(), info->sleeve_port);
  auto it = sleeve_sessions_.find(peer);
  const SleeveSuite suite = sleeve_suite(info);
  if (it == sleeve_sessions_.end() || it->second.rx_index != conn->sleeve_rx_index ||
      it->second.endpoint != endpoint || it->second.suite != suite) {
    // New connection (new keys) or a new address: (re)start the session.
    SleeveSession s;
    s.peer = peer.value;
    s.tx_index = conn->sleeve_tx_index;
    s.rx_index = conn->sleeve_rx_index;
    std::copy(conn->sleeve_tx_key.begin(), conn->sleeve_tx_key.end(), s.tx_key.begin());
    std::copy(conn->sleeve_rx_key.begin(), conn->sleeve_rx_key.end(), s.rx_key.begin());
    s.suite = suite;
    s.endpoint = endpoint;
    sleeve_->add_or_update_peer(s);
    sleeve_sessions_[peer] = {conn->sleeve_rx_index, endpoint, suite};
  }
  bool path_ok = false;
  for (const auto& st : sleeve_->peer_status()) {
    path_ok = path_ok || (st.peer == peer.value && st.path_ok);
  }
  return PeerDatapath{.kind = DatapathKind::kSleeve,
                      .detail = path_ok ? "" : "udp path not confirmed yet",
                      .encrypted = suite != SleeveSuite::kNone,
                      .rtt = std::nullopt};
}

void Dataplane::sleeve_routes(const std::map<PeerName, PeerDatapath>& direct) {
  if (!sleeve_) {
    return;
  }
  for (auto it = sleeve_sessions_.begin(); it != sleeve_sessions_.end();) {
    if (!direct.contains(it->first)) {
      sleeve_->remove_peer(it->first.value);
      it = sleeve_sessions_.erase(it);
    } else {
      ++it;
    }
  }
  auto on_fastdp = [&](PeerName p) {
    auto it = direct.find(p);
    return it != direct.end() && it->second.kind == DatapathKind::kFastdp;
  };
  const Routes& routes = router_.routes();
  SleeveRoutes out;
  const PeerName self = router_.name();
  for (const auto& [name, record] : router_.topology().records()) {
    if (name == self || on_fastdp(name)) {
      continue;
    }
    if (auto hop = routes.next_hop(name); hop && sleeve_sessions_.contains(*hop)) {
      out.next_hop[name.value] = hop->value;
    }
    std::vector<std::uint64_t> hops;
    for (PeerName h : routes.broadcast_next_hops(name)) {
      if (sleeve_sessions_.contains(h)) {
        hops.push_back(h.value);
      }
    }
    out.broadcast[name.value] = std::move(hops);
  }
  std::vector<std::uint64_t> own;
  for (PeerName h : routes.broadcast_next_hops(self)) {
    if (sleeve_sessions_.contains(h) && !on_fastdp(h)) {
      own.push_back(h.value);
    }
  }
  out.broadcast[self.value] = std::move(own);
  sleeve_->set_routes(std::move(out));
}

SleeveStatus Dataplane::sleeve_status() const {
  if (!sleeve_) {
    return {.available = false,
            .error = sleeve_error_,
            .suite = SleeveSuite::kNone,
            .stats = {},
            .peers = {}};
  }
  SleeveStatus out{.available = true,
                   .error = "",
                   .suite = sleeve_suite(),
                   .stats = sleeve_->stats(),
                   .peers = {}};
  for (const auto& p : sleeve_->peer_status()) {
    out.peers.push_back({.peer = PeerName{p.peer},
                         .path_ok = p.path_ok,
                         .pmtu = p.max_datagram,
                         .pmtu_settled = p.pmtu_settled,
                         .suite = p.suite});
  }
  return out;
}

}  // namespace weft::datapath
