// Network: what the allocator needs from the mesh. Implemented over the router's gossip
// channel by weftd/ipam_channel.hpp; tests wire allocators back to back.
//
// Contract: control thread only; never blocks; delivery is best effort (messages may be lost
// or duplicated: the allocator retries on tick()).
#pragma once

#include <cstdint>
#include <vector>

#include "ipam/types.hpp"

namespace weft::ipam {

class Network {
 public:
  virtual ~Network() = default;
  // Sends `message` to `to`'s allocator; false when `to` is unreachable.
  virtual bool unicast(PeerId to, std::vector<std::uint8_t> message) = 0;
  // Sends `message` to every other reachable peer's allocator.
  virtual void broadcast(std::vector<std::uint8_t> message) = 0;
  // Our rings changed locally: gossip them.
  virtual void rings_changed() = 0;
  // Whether `peer` is currently reachable over the mesh.
  virtual bool reachable(PeerId peer) const = 0;
};

}  // namespace weft::ipam
