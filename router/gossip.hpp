// Gossip: replicated state channels over the mesh (topology is channel 1, IPAM channel 2).
//
// Design note:
//  - A channel owns a CRDT. It merges updates from neighbours and remembers what was new to
//    it (its pending delta); local changes are pending too. The gossip layer batches: a
//    change schedules a flush (the router waits a short `gossip_delay` first, so a burst of
//    changes leaves as one message), and at the flush each channel's delta goes to
//    ~log2(N)+1 random neighbours. Only what was new to us is forwarded, so an update dies
//    out once everyone has it.
//  - Anti-entropy repairs what loss and fan-out missed: periodically we send a channel
//    digest to one random neighbour, which answers with an UPDATE of what it has newer and,
//    when we have something it lacks, with its own digest (push-pull). A new neighbour gets
//    our digests at once (no reply asked: it sends its own).
//  - Unicast messages travel hop by hop along unicast routes (IPAM asks a given peer for
//    space); broadcasts along the source's broadcast tree. Both carry a hop budget so that
//    inconsistent routes during convergence cannot loop forever.
//  - Malformed input from a peer is counted and dropped, never fatal.
//
// Contract: everything runs on the router's control thread. Channels and links must
// outlive the Gossip object.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "common/rng.hpp"
#include "router/gossip_codec.hpp"
#include "router/peer_name.hpp"

namespace weft::router {

// What a channel answers to a neighbour's digest.
struct DigestAnswer {
  std::vector<std::uint8_t> update;  // what we have newer than the digest (empty: nothing)
  bool peer_has_newer = false;       // the digest shows state we lack
};

// One replicated state. Implementations: TopologyChannel (router/topology_channel.hpp),
// IPAM's ring (ipam/).
//
// Contract: called on the control thread only. Payloads are untrusted: parse errors are
// returned (the message is dropped and counted). Merges must be commutative, associative
// and idempotent, since updates arrive in any order, repeated, or not at all (then
// anti-entropy repairs).
class GossipChannel {
 public:
  virtual ~GossipChannel() = default;
  virtual ChannelId channel_id() const = 0;
  virtual std::string_view channel_name() const = 0;

  // Merges an update from neighbour `from`; returns true when something was new to us
  // (it is then part of the pending delta).
  virtual Result<bool> on_update(PeerName from, std::span<const std::uint8_t> update) = 0;
  // Returns and clears the pending delta, encoded as an update; empty when nothing is pending.
  virtual std::vector<std::uint8_t> take_delta() = 0;
  // The same, one update per neighbour of `to` (same order; empty: nothing for it), so that
  // a channel can leave out what a neighbour itself sent us. Default: take_delta() for all.
  virtual std::vector<std::vector<std::uint8_t>> take_deltas(std::span<const PeerName> to) {
    return std::vector<std::vector<std::uint8_t>>(to.size(), take_delta());
  }
  // A compact summary of our whole state.
  virtual std::vector<std::uint8_t> digest() const = 0;
  // Compares a neighbour's digest with our state.
  virtual Result<DigestAnswer> on_digest(PeerName from, std::span<const std::uint8_t> digest) = 0;

  // A message sent to us with GossipSender::unicast / broadcast by `source`.
  virtual void on_unicast(PeerName source, std::span<const std::uint8_t> payload) {
    (void)source;
    (void)payload;
  }
  virtual void on_broadcast(PeerName source, std::span<const std::uint8_t> payload) {
    (void)source;
    (void)payload;
  }
};

// What a channel may ask of the mesh (returned by Router::register_channel).
//
// Contract: control thread only; never blocks.
class GossipSender {
 public:
  virtual ~GossipSender() = default;
  // Our state on `channel` changed locally: its delta goes out at the next flush.
  virtual void changed(ChannelId channel) = 0;
  // Sends `payload` to `dest`'s channel along unicast routes (to ourselves: delivered at
  // once). Fails with kUnavailable when `dest` is unreachable. Delivery is best effort.
  virtual Result<void> unicast(ChannelId channel, PeerName dest,
                               std::vector<std::uint8_t> payload) = 0;
  // Sends `payload` to every other reachable peer's channel along our broadcast tree.
  virtual void broadcast(ChannelId channel, std::vector<std::uint8_t> payload) = 0;
};

// What the gossip layer needs from the router (a fake in the unit tests).
class MeshLinks {
 public:
  virtual ~MeshLinks() = default;
  virtual PeerName self() const = 0;
  // Peers we hold an established connection to.
  virtual std::vector<PeerName> neighbours() const = 0;
  // Queues a message on the connection to `neighbour`; false when there is none.
  virtual bool send(PeerName neighbour, std::vector<std::uint8_t> message) = 0;
  virtual std::optional<PeerName> next_hop(PeerName dest) const = 0;
  virtual std::vector<PeerName> broadcast_next_hops(PeerName source) const = 0;
  // Peers in the topology (for the fan-out).
  virtual std::size_t peer_count() const = 0;
  // Asks for flush() to be called soon (after the batching delay).
  virtual void request_flush() = 0;
};

struct GossipStats {
  std::uint64_t updates_sent = 0;
  std::uint64_t update_bytes_sent = 0;
  std::uint64_t digests_sent = 0;
  std::uint64_t digest_bytes_sent = 0;
  std::uint64_t updates_received = 0;
  std::uint64_t digests_received = 0;
  std::uint64_t routed_sent = 0;     // unicast and broadcast, originated or forwarded
  std::uint64_t routed_dropped = 0;  // no route or hop budget spent
  std::uint64_t malformed = 0;       // rejected payloads
  std::uint64_t unknown_channel = 0;
};

class Gossip final : public GossipSender {
 public:
  Gossip(MeshLinks& links, Rng& rng);

  void add_channel(GossipChannel& channel);
  GossipChannel* channel(ChannelId id) const;

  void changed(ChannelId channel) override;
  Result<void> unicast(ChannelId channel, PeerName dest,
                       std::vector<std::uint8_t> payload) override;
  void broadcast(ChannelId channel, std::vector<std::uint8_t> payload) override;

  // A gossip message (UPDATE, DIGEST, UNICAST, BROADCAST) from neighbour `from`.
  void handle(PeerName from, const MeshMessage& message);
  // Sends each channel's pending delta to the fan-out neighbours.
  void flush();
  // Starts a push-pull digest exchange with one random neighbour on every channel.
  void anti_entropy();
  // A connection to `neighbour` was established: send it our digests.
  void neighbour_up(PeerName neighbour);

  // ~log2(peers)+1.
  std::size_t fanout() const;
  const GossipStats& stats() const { return stats_; }

 private:
  struct Pending {
    bool local = false;          // a local change is part of the delta
    std::set<PeerName> sources;  // neighbours whose updates were new to us
  };
  void send_digest(GossipChannel& channel, PeerName to, std::uint8_t flags);
  void route(ChannelId channel, PeerName from, const MeshMessage& message);
  void send_routed(PeerName neighbour, const MeshMessage& message);

  MeshLinks& links_;
  Rng& rng_;
  std::map<ChannelId, GossipChannel*> channels_;
  std::map<ChannelId, Pending> pending_;
  GossipStats stats_;
};

}  // namespace weft::router
