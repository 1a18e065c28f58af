// Bootstrap: how the first ring comes to exist (`--ipalloc-init`).
//
// Design note:
//  - seed=A,B,...: every peer computes the same ring from the list (Ring::seeded), at once,
//    with no messages; peers outside the list own nothing until they ask for space.
//  - observer: never seeds; waits for a ring from gossip and asks for space when it needs it.
//  - consensus[=N]: initial peers broadcast HELLO (with every candidate they know of) while
//    they have no ring. A peer that knows
//    N candidates (itself included; N defaults to the number of initial peers) and is the
//    lowest of them PROPOSEs that set to each member. A member ACCEPTs the first proposer it
//    hears from and rejects every other one, for good (the promise is persisted). The
//    proposer seeds the ring only when every member accepted. Two seeded rings would need
//    two proposals accepted by disjoint sets of >= N peers: impossible when N is over half
//    of the initial peers (so consensus=N with N <= half is refused when the number of
//    initial peers is known). Any ring arriving by gossip ends the bootstrap.
//    Liveness: racing proposers (possible only with N below the number of initial peers)
//    can block each other; the operator then restarts with seed=. Lost messages are
//    retried on every tick.
//
// Contract: a pure state machine: inputs are ticks, messages and "a ring arrived"; outputs
// are Actions for the caller to send, persist and act on. Not thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <span>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "ipam/messages.hpp"
#include "ipam/types.hpp"

namespace weft::ipam {

struct BootstrapConfig {
  enum class Mode : std::uint8_t { kConsensus, kSeed, kObserver };
  Mode mode = Mode::kConsensus;
  std::size_t quorum = 0;         // consensus: 0 = initial_peers
  std::vector<PeerId> seeds;      // seed mode
  std::size_t initial_peers = 1;  // this peer and its command-line targets
};

// Parses "consensus", "consensus=3", "seed=aa:bb:cc:dd:ee:ff,...", "observer". Peer names
// are 48-bit MAC-style ("aa:bb:cc:dd:ee:ff", '-' also accepted).
Result<BootstrapConfig> parse_ipalloc_init(std::string_view text, std::size_t initial_peers);
Result<PeerId> parse_peer_id(std::string_view text);

struct BootstrapActions {
  std::optional<Message> broadcast;
  std::vector<std::pair<PeerId, Message>> unicasts;
  std::optional<std::vector<PeerId>> seed;  // seed the rings with these peers now
  bool persist = false;                     // encode_state() changed
};

class Bootstrap {
 public:
  enum class Phase : std::uint8_t { kWaiting = 0, kProposing = 1, kDone = 2 };

  Bootstrap(BootstrapConfig config, PeerId self);

  // Restores a persisted state (after restart); malformed bytes are kMalformed.
  Result<void> restore(std::span<const std::uint8_t> state);
  std::vector<std::uint8_t> encode_state() const;

  // Periodic (every 250 ms to 1 s): hellos, retries, and the seed list at the first tick.
  BootstrapActions tick();
  BootstrapActions on_message(PeerId from, const Message& message);
  // A non-empty ring arrived (gossip or store): the bootstrap is over.
  void ring_arrived();

  Phase phase() const { return phase_; }
  std::size_t quorum() const { return quorum_; }
  const std::set<PeerId>& candidates() const { return candidates_; }
  std::optional<PeerId> promised() const { return promised_; }

 private:
  BootstrapActions maybe_propose();

  BootstrapConfig config_;
  PeerId self_;
  std::size_t quorum_;
  Phase phase_ = Phase::kWaiting;
  std::set<PeerId> candidates_;     // initial peers heard from (and us)
  std::optional<PeerId> promised_;  // the proposer we accepted (maybe us)
  std::vector<PeerId> proposal_;    // ours, while proposing
  std::set<PeerId> accepted_;       // members that accepted our proposal
};

}  // namespace weft::ipam
