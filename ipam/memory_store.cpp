#include <algorithm>

#include "ipam/store.hpp"

namespace weft::ipam {

Result<void> MemoryStore::add_allocation(const Allocation& allocation) {
  auto& all = state_.allocations;
  for (const auto& a : all) {
    if (a.key == allocation.key || a.address.address() == allocation.address.address()) {
      return make_error(Errc::kConflict, "ipam store: {} or its key is stored already",
                        allocation.address.to_string());
    }
  }
  all.insert(
      std::upper_bound(all.begin(), all.end(), allocation,
                       [](const Allocation& x, const Allocation& y) { return x.key < y.key; }),
      allocation);
  return {};
}

Result<void> MemoryStore::remove_allocations(std::span<const Allocation> allocations) {
  auto& all = state_.allocations;
  for (const auto& gone : allocations) {
    all.erase(std::remove(all.begin(), all.end(), gone), all.end());
  }
  return {};
}

Result<void> MemoryStore::save_ring(const Ring& ring) {
  for (auto& r : state_.rings) {
    if (r.family() == ring.family()) {
      r = ring;
      return {};
    }
  }
  state_.rings.push_back(ring);
  return {};
}

Result<void> MemoryStore::save_bootstrap(std::span<const std::uint8_t> state) {
  state_.bootstrap.assign(state.begin(), state.end());
  return {};
}

}  // namespace weft::ipam
