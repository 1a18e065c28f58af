// Internal to the sleeve engine: the state kept per direct sleeve neighbour.
#pragma once

#include <optional>
#include <vector>

#include "datapath/sleeve.hpp"
#include "datapath/sleeve_crypto.hpp"
#include "datapath/sleeve_replay_window.hpp"
#include "datapath/sleeve_wire.hpp"

namespace weft::datapath {

// A settled PMTU is re-confirmed every this many probe intervals.
inline constexpr int kPmtuRecheckIntervals = 10;

struct SleeveEngine::Peer {
  SleeveSession session;
  SleeveCipher tx;
  SleeveCipher rx;
  std::uint64_t tx_counter = 0;
  ReplayWindow window;

  // Batch being filled: header placeholder || frame records (empty when nothing pending).
  std::vector<std::uint8_t> pending;

  // Path health and PMTU search (see the design note in sleeve.hpp).
  std::optional<Clock::TimePoint> last_rx;
  Clock::TimePoint last_probe{};
  std::size_t ceiling = 0;     // largest datagram the underlay allows
  std::size_t lo = 0;          // largest acknowledged probe size (0: none)
  std::size_t hi = 0;          // upper bound (sizes above failed, or the ceiling)
  bool hi_failed = false;      // a probe at some size went unanswered
  std::uint32_t probe_id = 0;  // PMTU probe in flight (0: none)
  std::size_t probe_size = 0;
  Clock::TimePoint probe_sent{};
  int probe_misses = 0;
  Clock::TimePoint confirmed{};  // when a PMTU probe was last acknowledged

  std::uint64_t rx_datagrams = 0, tx_datagrams = 0;

  Peer(SleeveSession s, SleeveCipher t, SleeveCipher r)
      : session(std::move(s)), tx(std::move(t)), rx(std::move(r)) {}

  // Current datagram size estimate.
  std::size_t max_datagram() const {
    if (!hi_failed) {
      return hi;
    }
    return std::max(lo, std::min(kMinDatagram, hi));
  }
  bool settled() const { return lo != 0 && hi - lo < 8; }
  // Bytes of frame records one datagram carries.
  std::size_t max_records() const {
    const std::size_t fixed = kSleeveHeaderSize + tx.overhead();
    const std::size_t d = max_datagram();
    return d > fixed ? d - fixed : 0;
  }
  std::size_t max_frame() const {
    const std::size_t r = max_records();
    return r > kFrameRecordHeaderSize ? std::min(r - kFrameRecordHeaderSize, kMaxFrameSize) : 0;
  }
  bool has_endpoint() const { return session.endpoint.port() != 0; }
};

}  // namespace weft::datapath
