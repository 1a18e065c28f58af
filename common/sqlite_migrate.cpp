#include "common/sqlite_migrate.hpp"

#include "common/log.hpp"

namespace weft::sqlite {
namespace {

Result<void> check_order(std::span<const Migration> migrations) {
  int previous = 0;
  for (const Migration& m : migrations) {
    if (m.version <= previous) {
      return make_error(Errc::kInvalidArgument,
                        "sqlite migrate: version {} after {} (versions must increase from 1)",
                        m.version, previous);
    }
    previous = m.version;
  }
  return {};
}

Error too_new(const Database& db, int version, int known) {
  return make_error(Errc::kUnsupported,
                    "sqlite migrate: database {} has schema version {}, newer than the {} this "
                    "build knows; use a newer weft",
                    db.path(), version, known);
}

// One step in its own transaction; user_version is re-read under the write lock.
Result<void> apply(Database& db, const Migration& m, int known) {
  return db.transact([&](Database& d) -> Result<void> {
    auto current = schema_version(d);
    if (!current) {
      return current.error();
    }
    if (*current > known) {
      return too_new(d, *current, known);
    }
    if (*current >= m.version) {
      return {};  // applied by another connection meanwhile
    }
    if (auto ok = d.exec(m.sql); !ok) {
      Error error = ok.error();
      error.message = fmt::format("migration to version {}: {}", m.version, error.message);
      return error;
    }
    return d.exec(fmt::format("PRAGMA user_version = {}", m.version));
  });
}

}  // namespace

Result<int> schema_version(Database& db) {
  auto version = db.query_one<int>("PRAGMA user_version");
  if (!version) {
    return version.error();
  }
  return version->value_or(0);
}

Result<int> migrate(Database& db, std::span<const Migration> migrations) {
  if (auto ok = check_order(migrations); !ok) {
    return ok.error();
  }
  const int known = migrations.empty() ? 0 : migrations.back().version;
  auto current = schema_version(db);
  if (!current) {
    return current.error();
  }
  if (*current > known) {
    return too_new(db, *current, known);
  }
  for (const Migration& m : migrations) {
    if (m.version <= *current) {
      continue;
    }
    if (auto ok = apply(db, m, known); !ok) {
      return ok.error();
    }
    log::info("sqlite schema migrated", {{"path", db.path()}, {"version", m.version}});
  }
  return known;
}

}  // namespace weft::sqlite
