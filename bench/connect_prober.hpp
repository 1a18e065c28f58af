// ConnectProber: what a pod sees of the rules in force, moment by moment. A thread inside the
// pod's network namespace starts a TCP connect to every target at a fixed pace (a fresh socket
// each time, so no retransmission blurs the moment a verdict changed) and tallies how each
// attempt ended. ProbeServer: listeners inside a namespace that accept and close.
//
// Why a fresh attempt every interval and not one connect at a time: a dropped SYN is only sent
// again after a second; with attempts started every millisecond, the first one that connects
// dates the moment the rules let it through to within the interval.
//
// Contract: start() once, then stop() once (the destructor stops too). connected() may be
// called from any thread; everything else from the owner's thread. Times are steady_clock
// (CLOCK_MONOTONIC: the same in every namespace). Errors: start() returns kIo/kNotFound when
// the namespace cannot be joined or a listener cannot be bound.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/ip_address.hpp"
#include "common/netns.hpp"
#include "common/result.hpp"

namespace weft::bench {

using SteadyTime = std::chrono::steady_clock::time_point;

struct ProbeTarget {
  IpAddress address;
  std::uint16_t port = 0;
};

struct AttemptTally {
  std::uint64_t attempts = 0;
  std::uint64_t refused = 0;
  std::uint64_t timed_out = 0;  // no answer within the timeout: dropped
  std::uint64_t errors = 0;
  std::vector<SteadyTime> connected;  // the start of each attempt that connected

  std::optional<SteadyTime> first_connected() const {
    if (connected.empty()) {
      return std::nullopt;
    }
    return *std::min_element(connected.begin(), connected.end());
  }
  std::size_t connected_before(SteadyTime t) const {
    return static_cast<std::size_t>(
        std::count_if(connected.begin(), connected.end(), [t](SteadyTime c) { return c < t; }));
  }
};

struct ProbePace {
  std::chrono::microseconds interval{1000};  // between attempts, per target
  // An attempt with no answer after this was dropped; below the kernel's first SYN
  // retransmission (1 s), so every attempt is one SYN.
  std::chrono::milliseconds timeout{100};
};

class ConnectProber {
 public:
  ConnectProber(std::vector<ProbeTarget> targets, ProbePace pace);
  ~ConnectProber();
  ConnectProber(const ConnectProber&) = delete;
  ConnectProber& operator=(const ConnectProber&) = delete;

  Result<void> start(const Netns& ns);
  // Whether an attempt to targets[i] has connected yet (any thread).
  bool connected(std::size_t i) const;
  // Ends the probing; one tally per target, in the order given.
  std::vector<AttemptTally> stop();

 private:
  void run();

  const std::vector<ProbeTarget> targets_;
  const ProbePace pace_;
  // Written by the probe thread, read by the owner after the join.
  std::vector<AttemptTally> tallies_;
  // Shared between the threads.
  std::unique_ptr<std::atomic<bool>[]> connected_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

// Listens on every address of both families, on each of `ports`, inside one namespace; every
// connection is accepted and closed.
class ProbeServer {
 public:
  ProbeServer() = default;
  ~ProbeServer();
  ProbeServer(const ProbeServer&) = delete;
  ProbeServer& operator=(const ProbeServer&) = delete;

  Result<void> start(const Netns& ns, const std::vector<std::uint16_t>& ports);
  void stop();

 private:
  std::vector<OwnedFd> listeners_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace weft::bench
