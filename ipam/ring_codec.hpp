// Wire and storage format of a Ring (gossiped on the ipam channel, stored in sqlite).
//
//   u8 'R', u8 format (1), u8 family (4|6), first, last (4 or 16 bytes each), u64 id,
//   u32 count, count x { token (4|16 bytes), u64 owner, u64 version, u64 free, u8 flags }
// Integers big-endian; tokens strictly increasing. parse_ring is a pure function of untrusted
// bytes (fuzzed by tests/fuzz/ipam_ring_fuzz.cpp) and checks every Ring invariant.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "common/result.hpp"
#include "ipam/ring.hpp"

namespace weft::ipam {

std::vector<std::uint8_t> encode_ring(const Ring& ring);
void append_ring(std::vector<std::uint8_t>& out, const Ring& ring);
Result<Ring> parse_ring(std::span<const std::uint8_t> bytes);
// Parses one ring from the front of `bytes` and advances it past the ring.
Result<Ring> parse_ring_prefix(std::span<const std::uint8_t>& bytes);

}  // namespace weft::ipam
