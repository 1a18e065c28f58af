// Datagram: one UDP datagram of a batch (the sleeve's UDP 6783), the unit that
// UdpBatchSocket (udp_batch.hpp) sends and receives with sendmmsg/recvmmsg and that the
// sleeve engine reads and writes. A value type; no I/O here.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "common/endpoint.hpp"

namespace weft {

// Largest UDP payload over IPv4 (65535 - 20 IP - 8 UDP); also the bound over IPv6.
inline constexpr std::size_t kMaxDatagramSize = 65507;

// One datagram of a batch. `buffer` is storage, `size` how many of its bytes are the
// payload, so a batch reused across calls keeps its capacity: a receive grows
// `buffer` when a datagram does not fit (never shrinks it) and sets `size`.
struct Datagram {
  Endpoint peer;  // destination when sending, source when received
  std::vector<std::uint8_t> buffer;
  std::size_t size = 0;

  std::span<const std::uint8_t> payload() const { return {buffer.data(), size}; }
  // Copies `bytes` into the buffer (reusing its capacity) and sets size.
  void assign(std::span<const std::uint8_t> bytes) {
    if (buffer.size() < bytes.size()) {
      buffer.resize(bytes.size());
    }
    std::copy(bytes.begin(), bytes.end(), buffer.begin());
    size = bytes.size();
  }
};

}  // namespace weft
