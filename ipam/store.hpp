// Store: where the allocator keeps what must survive a restart (kill -9 included): the
// rings, the allocations and the bootstrap state.
//
// Contract: called on the allocator's (control) thread; each call is atomic and durable
// against a process kill when it returns ok (an allocation is committed before the address
// is returned to anyone). Errors are kIo / kUnavailable (busy) / kConflict (an address or key
// already stored). Implementations: SqliteStore (sqlite_store.hpp), MemoryStore (tests).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "common/result.hpp"
#include "ipam/ring.hpp"
#include "ipam/types.hpp"

namespace weft::ipam {

struct StoredState {
  std::vector<Ring> rings;              // at most one per family
  std::vector<Allocation> allocations;  // in key order
  std::vector<std::uint8_t> bootstrap;  // opaque (Bootstrap::encode_state)
};

class Store {
 public:
  virtual ~Store() = default;
  virtual Result<StoredState> load() = 0;
  virtual Result<void> add_allocation(const Allocation& allocation) = 0;
  // Removes these allocations (all or none).
  virtual Result<void> remove_allocations(std::span<const Allocation> allocations) = 0;
  // Replaces the stored ring of the ring's family.
  virtual Result<void> save_ring(const Ring& ring) = 0;
  virtual Result<void> save_bootstrap(std::span<const std::uint8_t> state) = 0;
};

// Keeps everything in memory (tests, benchmarks, and weftd without a data directory).
class MemoryStore final : public Store {
 public:
  Result<StoredState> load() override { return state_; }
  Result<void> add_allocation(const Allocation& allocation) override;
  Result<void> remove_allocations(std::span<const Allocation> allocations) override;
  Result<void> save_ring(const Ring& ring) override;
  Result<void> save_bootstrap(std::span<const std::uint8_t> state) override;
  const StoredState& state() const { return state_; }

 private:
  StoredState state_;
};

}  // namespace weft::ipam
