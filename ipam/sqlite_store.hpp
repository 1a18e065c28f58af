// SqliteStore: the Store in weftd's sqlite database (WAL), tables ipam_* created by
// migrations (common/sqlite_migrate.hpp).
//
// Design note: allocations commit with the database's synchronous setting (NORMAL by
// default: durable across kill -9, see common/sqlite.hpp) in one small transaction each; a
// unique index on the address makes a duplicate impossible even if the allocator were wrong
// (kConflict). Ring saves switch to FULL around their transaction: other peers rely on a
// donation being remembered across a power loss too.
//
// Contract: owns its connection; control thread only.
#pragma once

#include <string>

#include "common/sqlite.hpp"
#include "ipam/store.hpp"

namespace weft::ipam {

class SqliteStore final : public Store {
 public:
  // Opens (creating) `path` and migrates the ipam tables.
  static Result<SqliteStore> open(const std::string& path, sqlite::Options options = {});
  // Uses an open database (weftd shares one connection with its identity table).
  static Result<SqliteStore> attach(sqlite::Database db);

  Result<StoredState> load() override;
  Result<void> add_allocation(const Allocation& allocation) override;
  Result<void> remove_allocations(std::span<const Allocation> allocations) override;
  Result<void> save_ring(const Ring& ring) override;
  Result<void> save_bootstrap(std::span<const std::uint8_t> state) override;

  sqlite::Database& db() { return db_; }

 private:
  explicit SqliteStore(sqlite::Database db) : db_(std::move(db)) {}
  sqlite::Database db_;
};

}  // namespace weft::ipam
