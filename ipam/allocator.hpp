// Allocator: one peer's IPAM: its view of the rings (one per family), the free space of the
// ranges it owns, the addresses it handed out, bootstrap, donations and rmpeer.
//
// Design note:
//  - Allocations are keyed by (container, ifname, family) and idempotent: asking again
//    returns the same address. Every allocation is committed to the Store before it is
//    returned, and the Store is loaded at start, so a restart after kill -9 neither forgets
//    nor repeats an address. Free space is rebuilt from the ring and the allocations (it is
//    never stored).
//  - Out of space (in the range or the requested subnet), the allocator asks the reachable
//    peer with the largest free hint in that window for a donation (SPACE_REQUEST) and
//    answers kUnavailable ("retry"); allocate_wait() retries until a deadline. The donor gives
//    half of its largest free run there: it changes its ring, stores it, then sends the ring
//    (SPACE_GRANT) and gossips it. A lost grant is repaired by gossip.
//  - rmpeer and the quarantine of reclaimed entries: see the design note in ring.hpp.
//
// Contract: control thread only. Store, Network, Clock and Rng outlive the Allocator.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "common/clock.hpp"
#include "common/result.hpp"
#include "common/rng.hpp"
#include "ipam/bootstrap.hpp"
#include "ipam/network.hpp"
#include "ipam/ring.hpp"
#include "ipam/space.hpp"
#include "ipam/store.hpp"

namespace weft::ipam {

struct AllocatorConfig {
  std::optional<Cidr> range_v4;  // --ipalloc-range (at least one family)
  std::optional<Cidr> range_v6;
  std::optional<Cidr> default_subnet_v4;  // --ipalloc-default-subnet (default: the range)
  std::optional<Cidr> default_subnet_v6;
  BootstrapConfig bootstrap;
  Clock::Duration settle_delay = std::chrono::seconds(10);    // quarantine of reclaims
  Clock::Duration request_timeout = std::chrono::seconds(2);  // a donation request
};

enum class FamilyChoice { kDefault, kV4, kV6, kDual };
Result<FamilyChoice> parse_family_choice(std::string_view text);  // "", ipv4, ipv6, dual

struct PeerShareStatus {
  PeerId peer = kNoPeer;
  U128 owned = 0;
  double share = 0;        // of the range
  std::uint64_t free = 0;  // the owner's hint
  bool reachable = false;
};
struct RingStatus {
  IpFamily family = IpFamily::kV4;
  AddressRange range;
  std::uint64_t id = 0;
  std::size_t entries = 0;
  U128 free_here = 0;         // allocatable by us now
  std::size_t allocated = 0;  // addresses held by containers here, in this family
  std::vector<PeerShareStatus> peers;
};
struct AllocatorStats {
  std::uint64_t allocations = 0, releases = 0, donations_given = 0, donations_received = 0;
  std::uint64_t space_requests = 0, conflicts = 0, malformed = 0, store_errors = 0;
};
struct AllocatorStatus {
  PeerId self = kNoPeer;
  bool ready = false;     // every configured family has a ring
  std::string bootstrap;  // waiting | proposing | done
  std::vector<RingStatus> rings;
  std::size_t allocations = 0;
  std::size_t stray = 0;  // addresses we hold in ranges we no longer own
  AllocatorStats stats;
};

class Allocator {
 public:
  Allocator(AllocatorConfig config, PeerId self, Store& store, Network& network, Clock& clock);

  // Loads rings, allocations and bootstrap state from the store. Call once, first.
  Result<void> load();

  // POST /ip/{id}[/{cidr}]: one address per family asked for (dual: one of each), inside
  // `subnet` when given (else the default subnet). Errors: kUnavailable (no ring yet, or
  // asked a peer for space: retry), kExhausted (nobody has space), kInvalidArgument,
  // kConflict (the key holds an address outside `subnet`).
  Result<std::vector<Allocation>> allocate(std::string_view container, std::string_view ifname,
                                           FamilyChoice family,
                                           std::optional<Cidr> subnet = std::nullopt);
  // allocate(), retried every 100 ms while kUnavailable until `timeout` passed.
  boost::asio::awaitable<Result<std::vector<Allocation>>> allocate_wait(std::string container,
                                                                        std::string ifname,
                                                                        FamilyChoice family,
                                                                        std::optional<Cidr> subnet,
                                                                        Clock::Duration timeout);
  // PUT /ip/{id}/{addr}: claims `address` (its prefix length is kept; a bare address gets
  // the default subnet's). kConflict when another key holds it or another peer owns it.
  Result<Allocation> claim(std::string_view container, std::string_view ifname, Cidr address);
  // GET /ip/{id}; GET /ip.
  std::vector<Allocation> lookup(std::string_view container) const;
  std::vector<Allocation> list() const;
  // DELETE /ip/{id} (every address of the container, or only those of `ifname` when given)
  // and DELETE /ip/{id}/{addr}; returns how many were released (0 is not an error: release
  // is idempotent).
  Result<std::size_t> release(std::string_view container,
                              std::optional<IpAddress> address = std::nullopt,
                              std::optional<std::string_view> ifname = std::nullopt);
  // DELETE /peer/{name}: takes over a gone peer's ranges; returns the addresses claimed.
  Result<U128> rmpeer(PeerId dead);

  // --- the mesh side (weftd/ipam_channel.cpp) ---
  // Encodes the rings; parses and merges a neighbour's (kConflict: refused, logged).
  std::vector<std::uint8_t> encode_rings() const;
  Result<bool> merge_rings(std::span<const std::uint8_t> bytes);
  void on_message(PeerId from, std::span<const std::uint8_t> bytes);
  // A neighbour's digest shows a ring seeded apart from ours: counted and logged (loudly,
  // rate-limited); nothing is merged.
  void note_conflict(PeerId from, IpFamily family, std::uint64_t their_id);
  // Periodically, every 250 ms (the bootstrap retries lost messages at this pace; the
  // rest is cheap when nothing changed): bootstrap, quarantine, free hints, request timeouts.
  void tick();

  bool ready() const;
  PeerId self() const { return self_; }
  const Ring* ring(IpFamily family) const;
  U128 free_count(IpFamily family) const;
  // Our allocations in ranges another peer owns (after a lost reclaim race).
  std::vector<Allocation> stray() const;
  AllocatorStatus status() const;
  const AllocatorStats& stats() const { return stats_; }

 private:
  struct Family {
    Ring ring;
    Space space;
    std::vector<Run> owned;  // settled runs we own (the space's source)
    Cidr default_subnet;
    std::optional<Clock::TimePoint> requested_at;  // a donation request outstanding
    // Peers whose last grant was empty (their free hint counts addresses outside the window,
    // e.g. a /24's .0 and .255) -> when: not asked again for request_timeout, so that a
    // range with nothing left answers kExhausted instead of "retry" forever.
    std::map<PeerId, Clock::TimePoint> had_nothing;
    std::map<U128, Clock::TimePoint> quarantine;  // our claimed tokens -> since
  };

  Family* family(IpFamily f);
  const Family* family(IpFamily f) const;
  Result<Allocation> allocate_one(const AllocKey& key, std::optional<Cidr> subnet);
  Result<Run> window_of(const Family& fam, const Cidr& subnet) const;
  void request_space(Family& fam, Run window);
  void grant_space(PeerId to, IpFamily f, std::optional<Run> window);
  // After a ring change: our settled runs and the free space; quarantine bookkeeping.
  void rebuild(Family& fam);
  void ring_changed(Family& fam, bool gossip);
  void seed(const std::vector<PeerId>& peers);
  void apply(const BootstrapActions& actions);
  void save_ring(const Family& fam);

  AllocatorConfig config_;
  PeerId self_;
  Store& store_;
  Network& network_;
  Clock& clock_;
  Bootstrap bootstrap_;
  std::vector<Family> families_;  // v4 first when configured
  std::map<AllocKey, Allocation> allocations_;
  std::map<IpAddress, AllocKey> by_address_;
  AllocatorStats stats_;
};

}  // namespace weft::ipam
