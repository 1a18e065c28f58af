// TopologyChannel: the Topology CRDT as gossip channel 1.
//
// Updates carry whole peer records (a record is small: its owner's connections); the
// pending delta is the set of names whose records changed since the last flush, encoded at
// flush time so that a record that changed twice goes out once, and a record dropped by
// garbage collection in between does not go out at all. Digests list (name, version, uid).
//
// Contract: control thread only; `topology` outlives the channel.
#pragma once

#include <functional>
#include <set>

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
  std::vector<std::uint8_t> digest() const override;
  Result<DigestAnswer> on_digest(PeerName from, std::span<const std::uint8_t> digest) override;

  // Our own record changed locally (connections): it joins the pending delta.
  void own_record_changed();
  std::size_t pending() const { return pending_.size(); }

 private:
  Topology& topology_;
  std::set<PeerName> pending_;
};

}  // namespace weft::router
