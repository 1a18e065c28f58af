// SleeveMacTable: which peer a remote MAC address lives behind, learned from the source
// MAC and source peer of frames the sleeve receives; entries age out so that a container
// that moved (or a peer that left) is flooded for again instead of black-holed.
//
// Contract: single-threaded (the datapath thread). Time comes from the caller (the engine's
// injected Clock). Bounded: at kMaxEntries the oldest-looking entries are evicted by a
// sweep. Multicast source MACs are never learned.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <unordered_map>

#include "common/clock.hpp"

namespace weft::datapath {

class SleeveMacTable {
 public:
  static constexpr std::size_t kMaxEntries = 65536;

  explicit SleeveMacTable(Clock::Duration max_age = std::chrono::minutes(5)) : max_age_(max_age) {}

  // Records that `mac` (48 bits, first byte most significant) is behind `peer`. Returns
  // true when this is new or moved.
  bool learn(std::uint64_t mac, std::uint64_t peer, Clock::TimePoint now);
  // The peer, unless unknown or older than max_age.
  std::optional<std::uint64_t> lookup(std::uint64_t mac, Clock::TimePoint now) const;
  // Forgets every MAC behind `peer` (the peer went away).
  void forget_peer(std::uint64_t peer);
  // Drops aged entries; returns how many.
  std::size_t expire(Clock::TimePoint now);
  std::size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    std::uint64_t peer;
    Clock::TimePoint seen;
  };
  Clock::Duration max_age_;
  std::unordered_map<std::uint64_t, Entry> entries_;
};

// The destination / source MAC of an Ethernet frame (>= 14 bytes) as a 48-bit integer.
std::uint64_t frame_dst_mac(const std::uint8_t* frame);
std::uint64_t frame_src_mac(const std::uint8_t* frame);
inline bool mac_is_multicast(std::uint64_t mac) {
  return ((mac >> 40) & 1) != 0;
}

}  // namespace weft::datapath
