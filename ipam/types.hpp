// Small shared types of the IPAM library: peer ids and allocation keys.
//
// Design note: ipam does not depend on the router. A peer is a plain 64-bit id (the router's
// 48-bit PeerName value fits); 0 means "nobody".
#pragma once

#include <compare>
#include <cstdint>
#include <string>

#include "common/address.hpp"

namespace weft::ipam {

using PeerId = std::uint64_t;
inline constexpr PeerId kNoPeer = 0;

// What an allocation is keyed by: one address per (container, interface, family).
struct AllocKey {
  std::string container;
  std::string ifname;
  IpFamily family = IpFamily::kV4;
  auto operator<=>(const AllocKey&) const = default;
};

// One handed-out address: `address` carries the subnet's prefix length (10.32.0.5/12).
struct Allocation {
  AllocKey key;
  Cidr address;
  bool operator==(const Allocation&) const = default;
};

}  // namespace weft::ipam
