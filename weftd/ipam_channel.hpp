// IpamChannel: the IPAM allocator's rings as gossip channel 2, and its messages (bootstrap,
// space requests and grants) by unicast/broadcast on the same channel.
//
// Design note: the rings are small (one entry per range a peer owns), so an update carries
// both rings whole and the delta is "the rings changed" (pending flag). A digest is
// (family, ring id, hash) per ring: equal hashes mean equal rings; different hashes make
// both sides send their rings (push-pull); different non-zero ids are two rings seeded apart:
// nothing is sent, the allocator logs the conflict (merging would be refused anyway).
//
// Contract: control thread only. attach() before the router delivers anything; the
// allocator, sender and reachability function outlive the channel's use.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "ipam/allocator.hpp"
#include "ipam/network.hpp"
#include "router/gossip.hpp"

namespace weft::weftd {

using router::ChannelId;
using router::DigestAnswer;
using router::GossipChannel;
using router::GossipSender;
using router::kIpamChannel;
using router::PeerName;

class IpamChannel final : public GossipChannel, public ipam::Network {
 public:
  IpamChannel() = default;
  // `reachable` tells whether a peer is reachable now (e.g. Router::routes().reachable).
  void attach(GossipSender& sender, std::function<bool(PeerName)> reachable);
  void set_allocator(ipam::Allocator& allocator) { allocator_ = &allocator; }

  // GossipChannel
  ChannelId channel_id() const override { return kIpamChannel; }
  std::string_view channel_name() const override { return "ipam"; }
  Result<bool> on_update(PeerName from, std::span<const std::uint8_t> update) override;
  std::vector<std::uint8_t> take_delta() override;
  std::vector<std::uint8_t> digest() const override;
  Result<DigestAnswer> on_digest(PeerName from, std::span<const std::uint8_t> digest) override;
  void on_unicast(PeerName source, std::span<const std::uint8_t> payload) override;
  void on_broadcast(PeerName source, std::span<const std::uint8_t> payload) override;

  // ipam::Network
  bool unicast(ipam::PeerId to, std::vector<std::uint8_t> message) override;
  void broadcast(std::vector<std::uint8_t> message) override;
  void rings_changed() override;
  bool reachable(ipam::PeerId peer) const override;

 private:
  GossipSender* sender_ = nullptr;
  std::function<bool(PeerName)> reachable_;
  ipam::Allocator* allocator_ = nullptr;
  bool pending_ = false;
};

}  // namespace weft::weftd
