// ReplayWindow: the sleeve's anti-replay filter over 64-bit datagram counters, the bitmap
// scheme of WireGuard (RFC 6479): a ring of 64-bit blocks; moving the window forward clears
// whole blocks, so each datagram costs O(1) and the state is 512 bytes.
//
// Contract: accepts a counter at most once; accepts any unseen counter no more than
// kWindowSize below the greatest accepted one (reordering tolerance); rejects everything
// older and UINT64_MAX. would_accept() is the same test without recording, used before the
// (costly) AEAD open; accept() records only after authentication. Single-threaded value.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace weft::datapath {

class ReplayWindow {
 public:
  static constexpr std::size_t kBlocks = 64;
  static constexpr std::uint64_t kWindowSize = (kBlocks - 1) * 64;  // 4032 datagrams

  bool would_accept(std::uint64_t counter) const;
  // Checks and records; false when the counter is a replay or too old.
  bool accept(std::uint64_t counter);
  void reset();

 private:
  std::uint64_t greatest_ = 0;  // greatest accepted counter + 1 (0: none yet)
  std::array<std::uint64_t, kBlocks> bitmap_{};
};

}  // namespace weft::datapath
