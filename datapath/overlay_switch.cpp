#include "datapath/overlay_switch.hpp"

#include <algorithm>

namespace weft::datapath {

Result<DatapathMode> parse_datapath_mode(std::string_view text) {
  if (text == "auto") {
    return DatapathMode::kAuto;
  }
  if (text == "fastdp") {
    return DatapathMode::kFastdp;
  }
  if (text == "sleeve") {
    return DatapathMode::kSleeve;
  }
  return make_error(Errc::kInvalidArgument, "--datapath {}: want auto, fastdp or sleeve", text);
}

std::string_view to_string(DatapathMode mode) {
  switch (mode) {
    case DatapathMode::kAuto:
      return "auto";
    case DatapathMode::kFastdp:
      return "fastdp";
    case DatapathMode::kSleeve:
      return "sleeve";
  }
  return "auto";
}

OverlaySwitch::OverlaySwitch(Clock& clock, FastDatapath& fastdp, SwitchConfig config)
    : clock_(clock), fastdp_(fastdp), config_(std::move(config)) {}

SwitchDecision OverlaySwitch::fall_back(PeerName peer, std::string why, bool keep_heartbeats) {
  if (!keep_heartbeats && fastdp_.has_peer(peer)) {
    (void)fastdp_.remove_peer(peer);
  }
  return {.fastdp = false, .why = std::move(why), .rtt = std::nullopt};
}

SwitchDecision OverlaySwitch::decide(const SwitchPeer& peer, const LocalPathFn& local) {
  const bool trusted = std::any_of(config_.trusted_subnets.begin(), config_.trusted_subnets.end(),
                                   [&](const Cidr& c) { return c.contains(peer.underlay); });
  if (config_.mode == DatapathMode::kSleeve) {
    return fall_back(peer.name, "fastdp disabled (--datapath sleeve)");
  }
  if (config_.encryption_required && !trusted) {
    return fall_back(peer.name, "encryption required");
  }
  if (peer.offer == nullptr || !peer.offer->fastdp) {
    return fall_back(peer.name, "peer offers no fastdp");
  }
  const IpFamily family = peer.underlay.family();
  const LocalPath path = local(family, peer.underlay);
  if (!path.ready) {
    return fall_back(peer.name, "fastdp unavailable here: " + path.error);
  }
  const auto device_mac = peer.offer->vxlan_mac(family);
  if (!device_mac) {
    // Its device appears once it has seen us (published with its next record).
    return fall_back(peer.name, "waiting for the peer's vxlan device");
  }
  const auto now = clock_.now();
  const auto since = confirming_since_.try_emplace(peer.name, now).first->second;
  const bool confirmed = path.last_pong && now - *path.last_pong < config_.heartbeat_timeout;
  auto ok = fastdp_.set_peer(peer.name, {.underlay = peer.underlay,
                                         .device_mac = device_mac,
                                         .macs = peer.offer->macs,
                                         .forwarding = confirmed});
  if (!ok) {
    return fall_back(peer.name, "cannot program vxlan: " + ok.error().message);
  }
  if (confirmed) {
    return {.fastdp = true, .why = "", .rtt = path.rtt};
  }
  if (!path.last_pong && now - since < config_.heartbeat_timeout) {
    return fall_back(peer.name, "confirming the vxlan path", true);
  }
  return fall_back(peer.name, "vxlan heartbeats unanswered", true);
}

void OverlaySwitch::retain(const std::vector<PeerName>& connected) {
  for (PeerName p : fastdp_.peers()) {
    if (std::find(connected.begin(), connected.end(), p) == connected.end()) {
      (void)fastdp_.remove_peer(p);
    }
  }
  std::erase_if(confirming_since_, [&](const auto& entry) {
    return std::find(connected.begin(), connected.end(), entry.first) == connected.end();
  });
}

}  // namespace weft::datapath
