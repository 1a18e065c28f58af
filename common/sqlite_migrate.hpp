// Schema migrations for sqlite::Database, versioned with PRAGMA user_version.
//
// Contract: `migrations` lists every schema step the code knows, versions strictly increasing
// from >= 1 (kInvalidArgument otherwise). migrate() applies the ones above the database's
// user_version in order, each in its own IMMEDIATE transaction together with the new
// user_version, so a failing step leaves version and schema as they were; a step that another
// process applied meanwhile is skipped. A database newer than the code knows is refused with
// kUnsupported (an old binary must not write a schema it does not understand). The SQL of a
// step may hold several statements but no BEGIN/COMMIT of its own.
#pragma once

#include <span>
#include <string_view>

#include "common/result.hpp"
#include "common/sqlite.hpp"

namespace weft::sqlite {

struct Migration {
  int version;
  std::string_view sql;
};

// PRAGMA user_version (0 for a fresh database).
Result<int> schema_version(Database& db);

// Brings `db` to the newest version in `migrations`; returns that version.
Result<int> migrate(Database& db, std::span<const Migration> migrations);

}  // namespace weft::sqlite
