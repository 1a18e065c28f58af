#include "datapath/sleeve.hpp"

#include <cassert>

#include "common/log.hpp"
#include "datapath/sleeve_peer.hpp"

namespace weft::datapath {
namespace {

std::size_t ceiling_for(const Endpoint& ep, std::size_t underlay_mtu) {
  const bool v4 =
      ep.address().is_v4() || (ep.address().is_v6() && ep.address().to_v6().is_v4_mapped());
  const std::size_t headers = v4 ? 28 : 48;
  const std::size_t d = underlay_mtu > headers ? underlay_mtu - headers : 0;
  return std::clamp<std::size_t>(d, kMinDatagram, kMaxDatagramSize);
}

}  // namespace

void SleeveStats::for_each(const std::function<void(std::string_view, std::uint64_t)>& fn) const {
  fn("rx_datagrams", rx_datagrams);
  fn("rx_bytes", rx_bytes);
  fn("tx_datagrams", tx_datagrams);
  fn("tx_bytes", tx_bytes);
  fn("tap_frames_in", tap_frames_in);
  fn("tap_frames_out", tap_frames_out);
  fn("relayed_frames", relayed_frames);
  fn("flooded_frames", flooded_frames);
  fn("probes_sent", probes_sent);
  fn("probe_acks", probe_acks);
  fn("icmp_too_big", icmp_too_big);
  fn("drop_malformed", drop_malformed);
  fn("drop_unknown_index", drop_unknown_index);
  fn("drop_auth_failed", drop_auth_failed);
  fn("drop_replay", drop_replay);
  fn("drop_oversize", drop_oversize);
  fn("drop_no_route", drop_no_route);
  fn("drop_hops", drop_hops);
  fn("drop_send", drop_send);
}

Datagram& SleeveOutput::add_datagram() {
  if (datagram_count_ == datagrams_.size()) {
    datagrams_.emplace_back();
  }
  Datagram& d = datagrams_[datagram_count_++];
  d.size = 0;
  return d;
}

std::vector<std::uint8_t>& SleeveOutput::add_frame() {
  if (frame_count_ == frames_.size()) {
    frames_.emplace_back();
  }
  auto& f = frames_[frame_count_++];
  f.clear();
  return f;
}

SleeveEngine::SleeveEngine(SleeveConfig config) : config_(config), macs_(config.mac_max_age) {
  assert(config_.clock != nullptr);
}

SleeveEngine::~SleeveEngine() = default;

SleeveEngine::Peer* SleeveEngine::find(std::uint64_t peer) {
  auto it = peers_.find(peer);
  return it == peers_.end() ? nullptr : it->second.get();
}

Result<void> SleeveEngine::add_peer(const SleeveSession& s) {
  if (s.peer == 0 || s.peer == config_.self) {
    return make_error(Errc::kInvalidArgument, "sleeve session for peer {:012x}", s.peer);
  }
  if (peers_.contains(s.peer)) {
    return make_error(Errc::kAlreadyExists, "sleeve peer {:012x} exists", s.peer);
  }
  if (by_rx_index_.contains(s.rx_index)) {
    return make_error(Errc::kConflict, "sleeve receiver index {} in use", s.rx_index);
  }
  WEFT_TRY(auto tx, SleeveCipher::create(s.suite, s.tx_key));
  WEFT_TRY(auto rx, SleeveCipher::create(s.suite, s.rx_key));
  auto p = std::make_unique<Peer>(s, std::move(tx), std::move(rx));
  p->ceiling = ceiling_for(s.endpoint, config_.underlay_mtu);
  p->hi = p->ceiling;
  p->last_probe = config_.clock->now() - config_.probe_interval;  // probe on the next tick
  by_rx_index_[s.rx_index] = p.get();
  peers_[s.peer] = std::move(p);
  return {};
}

Result<void> SleeveEngine::update_peer(const SleeveSession& s) {
  Peer* p = find(s.peer);
  if (p == nullptr) {
    return make_error(Errc::kNotFound, "sleeve peer {:012x} unknown", s.peer);
  }
  if (s.rx_index != p->session.rx_index) {
    auto it = by_rx_index_.find(s.rx_index);
    if (it != by_rx_index_.end()) {
      return make_error(Errc::kConflict, "sleeve receiver index {} in use", s.rx_index);
    }
  }
  const bool rekey = s.tx_key != p->session.tx_key || s.rx_key != p->session.rx_key ||
                     s.tx_index != p->session.tx_index || s.rx_index != p->session.rx_index ||
                     s.suite != p->session.suite;
  if (rekey) {
    WEFT_TRY(auto tx, SleeveCipher::create(s.suite, s.tx_key));
    WEFT_TRY(auto rx, SleeveCipher::create(s.suite, s.rx_key));
    p->tx = std::move(tx);
    p->rx = std::move(rx);
    p->tx_counter = 0;
    p->window.reset();
    p->pending.clear();
    by_rx_index_.erase(p->session.rx_index);
    by_rx_index_[s.rx_index] = p;
  }
  if (s.endpoint != p->session.endpoint) {
    p->ceiling = ceiling_for(s.endpoint, config_.underlay_mtu);
    p->lo = 0;
    p->hi = p->ceiling;
    p->hi_failed = false;
    p->probe_id = 0;
  }
  p->session = s;
  return {};
}

void SleeveEngine::remove_peer(std::uint64_t peer) {
  auto it = peers_.find(peer);
  if (it == peers_.end()) {
    return;
  }
  std::erase(dirty_, it->second.get());
  by_rx_index_.erase(it->second->session.rx_index);
  peers_.erase(it);
  macs_.forget_peer(peer);
}

void SleeveEngine::set_routes(SleeveRoutes routes) {
  routes_ = std::move(routes);
}

std::size_t SleeveEngine::max_frame(std::uint64_t peer) const {
  auto it = peers_.find(peer);
  return it == peers_.end() ? 0 : it->second->max_frame();
}

std::vector<SleevePeerStatus> SleeveEngine::peer_status() const {
  std::vector<SleevePeerStatus> out;
  const auto now = config_.clock->now();
  for (const auto& [name, p] : peers_) {
    out.push_back(SleevePeerStatus{
        .peer = name,
        .endpoint = p->session.endpoint,
        .suite = p->session.suite,
        .path_ok = p->last_rx && now - *p->last_rx <= config_.path_timeout,
        .max_datagram = p->max_datagram(),
        .pmtu_settled = p->settled(),
        .max_frame = p->max_frame(),
        .tx_counter = p->tx_counter,
        .rx_datagrams = p->rx_datagrams,
        .tx_datagrams = p->tx_datagrams,
    });
  }
  return out;
}

void SleeveEngine::tick(SleeveOutput& out) {
  const auto now = config_.clock->now();
  for (auto& [name, p] : peers_) {
    if (!p->has_endpoint() || now - p->last_probe < config_.probe_interval) {
      continue;
    }
    p->last_probe = now;
    send_probe(*p, PacketType::kProbe, 0, kSleeveHeaderSize + kProbeRecordSize, out);
    tick_pmtu(*p, now, out);
  }
  macs_.expire(now);
}

void SleeveEngine::tick_pmtu(Peer& p, Clock::TimePoint now, SleeveOutput& out) {
  if (p.probe_id != 0) {
    if (now - p.probe_sent < config_.probe_interval) {
      return;  // still waiting for the answer
    }
    p.probe_id = 0;
    // Only a miss while the path answers heartbeats says something about the size.
    if (p.last_rx && now - *p.last_rx <= 2 * config_.probe_interval && ++p.probe_misses >= 2) {
      if (p.probe_size <= p.lo) {
        p.lo = 0;  // a confirmed size stopped working (the path changed): search again
      }
      p.hi = std::max(p.probe_size - 1, std::max(p.lo, kMinDatagram));
      p.hi_failed = true;
      p.probe_misses = 0;
      log::info("sleeve pmtu probe unanswered",
                {{"peer", fmt::format("{:012x}", p.session.peer)}, {"size", p.probe_size}});
    }
  }
  std::size_t size = 0;
  if (p.settled()) {
    if (now - p.confirmed < kPmtuRecheckIntervals * config_.probe_interval) {
      return;
    }
    size = p.lo;  // re-confirm now and then: path MTUs can shrink
  } else {
    // First the ceiling itself; after a miss, bisect (assuming kMinDatagram works until a
    // larger size is acknowledged).
    const std::size_t floor = p.lo != 0 ? p.lo : std::min(kMinDatagram, p.hi);
    size = p.hi_failed ? (floor + p.hi + 1) / 2 : p.hi;
  }
  p.probe_id = next_probe_id_++;
  if (p.probe_id == 0) {
    p.probe_id = next_probe_id_++;
  }
  p.probe_size = size;
  p.probe_sent = now;
  send_probe(p, PacketType::kProbe, p.probe_id, size, out);
}

}  // namespace weft::datapath
