// TopologyChannel: the Topology CRDT as gossip channel 1.
//
// Updates carry whole peer records (a record is small: its owner's connections); the
// pending delta is the set of names whose records changed since the last flush, encoded at
// flush time so that a record that changed twice goes out once, and a record dropped by
// garbage collection in between does not go out at all. A neighbour is not sent the
// records it sent us itself (in flooding, neighbours in the same wave would otherwise swap
// them). Digests list (name, version, uid).
//
// Contract: control thread only; `topology` outlives the channel.
#pragma once

#include <array>
#include <map>
#include <span>

#include "router/gossip.hpp"
#include "router/topology.hpp"

namespace weft::router {

class TopologyChannel final : public GossipChannel {
 public:
  explicit TopologyChannel(Topology& topology);

  ChannelId channel_id() const override { return kTopologyChannel; }
  std::string_view channel_name() const override { return "topology"; }
  Result<bool> on_update(PeerName from, std::span<const std::uint8_t> update) override;
  std::vector<std::uint8_t> take_delta() override;
  // Leaves out, per neighbour, the records it sent us itself.
  std::vector<std::vector<std::uint8_t>> take_deltas(std::span<const PeerName> to) override;
  std::vector<std::uint8_t> digest() const override;
  Result<DigestAnswer> on_digest(PeerName from, std::span<const std::uint8_t> digest) override;

  // Our own record changed locally (connections): it joins the pending delta.
  void own_record_changed();
  std::size_t pending() const { return pending_.size(); }

 private:
  // Up to kMaxSources neighbours that sent us a pending record's current version.
  static constexpr std::size_t kMaxSources = 4;
  struct Sources {
    std::array<PeerName, kMaxSources> from{};
    std::size_t count = 0;
    bool contains(PeerName n) const;
    void add(PeerName n);
  };
  std::vector<const PeerRecord*> take_records();

  Topology& topology_;
  std::map<PeerName, Sources> pending_;
};

}  // namespace weft::router
