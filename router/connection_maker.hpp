// ConnectionMaker: which peer addresses to dial and when (the Router does the dialling).
//
// Design note:
//  - Targets are keyed by normalized address ("host:port", "[v6]:port"; the default port
//    is added when missing). Explicit targets come from the command line and `weft
//    connect`, and are always dialled; discovered targets are addresses of peers we learnt
//    from the topology, dialled only while we hold fewer than `conn_limit` connections and
//    only when discovery is on. A discovered target that leaves the topology is dropped
//    unless a dial is in flight.
//  - States: connecting (dial in flight), pending (connected, waiting to hear from the peer),
//    established, retrying (the connection ended; next try after a short delay), failed
//    (the last dial failed; next try after exponential backoff). A target is tied to the
//    peer name learnt on its first successful dial, so a connection to that peer made in
//    the other direction satisfies it too.
//  - Backoff after n consecutive failures: base = min(max_backoff, initial_backoff *
//    2^(n-1)), the delay drawn uniformly from [base/2, base] ("equal jitter") so that peers
//    restarted together do not redial in lockstep. Randomness and time are injected.
//
// Contract: pure state machine, control thread only; no I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.hpp"
#include "common/result.hpp"
#include "common/rng.hpp"
#include "router/peer_name.hpp"

namespace weft::router {

enum class TargetState { kConnecting, kPending, kEstablished, kRetrying, kFailed };
std::string_view to_string(TargetState state);

struct ConnectionMakerConfig {
  Clock::Duration initial_backoff = std::chrono::seconds(1);
  Clock::Duration max_backoff = std::chrono::minutes(2);
  std::size_t conn_limit = 200;
  bool discovery = true;
  std::uint16_t default_port = 6783;
};

struct Target {
  std::string address{};  // normalized
  bool explicit_target = false;
  TargetState state = TargetState::kRetrying;
  int attempts = 0;  // consecutive failed dials
  std::string last_error{};
  Clock::TimePoint next_try{};  // meaningful in kRetrying / kFailed
  std::optional<PeerName> peer{};
};

// "host", "host:port", "[v6]", "[v6]:port" -> "host:port" / "[v6]:port".
Result<std::string> normalize_address(std::string_view text, std::uint16_t default_port);

class ConnectionMaker {
 public:
  ConnectionMaker(ConnectionMakerConfig config, Rng& rng);

  const ConnectionMakerConfig& config() const { return config_; }
  // Adds (or promotes to) an explicit target, due at once; returns the normalized address.
  Result<std::string> add(std::string_view address, Clock::TimePoint now);
  // Removes a target; returns its peer when known (the caller closes that connection).
  // Returns nullopt-in-optional semantics: `found` false when there was no such target.
  struct Forgotten {
    bool found = false;
    std::optional<PeerName> peer;
  };
  Forgotten forget(std::string_view address);
  // Replaces the discovered addresses (normalized) with `addresses`.
  void set_discovered(const std::vector<std::string>& addresses, Clock::TimePoint now);

  // Targets to dial now, marked connecting. `open` = connections held plus dials in flight.
  std::vector<std::string> take_due(Clock::TimePoint now, std::size_t open);
  // Earliest next_try of a waiting target that take_due() would dial (nullopt: none).
  std::optional<Clock::TimePoint> next_due(std::size_t open) const;

  void dial_failed(std::string_view address, std::string error, Clock::TimePoint now,
                   bool permanent = false);
  // The dial reached `peer` (the connection may still be dropped as a duplicate).
  void dial_succeeded(std::string_view address, PeerName peer);
  // Our connection to `peer` (either direction) is established / ended.
  void peer_established(PeerName peer);
  void peer_lost(PeerName peer, std::string reason, Clock::TimePoint now);
  // `peer` showed up in the topology again (e.g. restarted and connected elsewhere): targets
  // tied to it that are backing off are due after a short jittered delay (at most
  // initial_backoff); their failure count is kept, so a peer that still refuses backs off.
  void peer_appeared(PeerName peer, Clock::TimePoint now);

  const std::map<std::string, Target>& targets() const { return targets_; }
  const Target* find(std::string_view address) const;
  std::size_t connecting() const;

  // The delay before attempt `attempts + 1` after `attempts` failures (jittered).
  Clock::Duration backoff(int attempts);

 private:
  bool dialable(const Target& t, std::size_t open) const;

  ConnectionMakerConfig config_;
  Rng& rng_;
  std::map<std::string, Target> targets_;
};

}  // namespace weft::router
