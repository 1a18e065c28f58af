#include "ipam/sqlite_store.hpp"

#include <array>

#include "common/sqlite_migrate.hpp"
#include "ipam/ring_codec.hpp"

namespace weft::ipam {

namespace {

constexpr std::array<sqlite::Migration, 1> kMigrations{{
    {1,
     "CREATE TABLE IF NOT EXISTS ipam_ring(family INTEGER PRIMARY KEY, data BLOB NOT NULL);"
     "CREATE TABLE IF NOT EXISTS ipam_alloc(container TEXT NOT NULL, ifname TEXT NOT NULL,"
     " family INTEGER NOT NULL, address TEXT NOT NULL, prefix INTEGER NOT NULL,"
     " PRIMARY KEY(container, ifname, family));"
     "CREATE UNIQUE INDEX IF NOT EXISTS ipam_alloc_address ON ipam_alloc(address);"
     "CREATE TABLE IF NOT EXISTS ipam_meta(key TEXT PRIMARY KEY, value BLOB NOT NULL);"},
}};

}  // namespace

Result<SqliteStore> SqliteStore::open(const std::string& path, sqlite::Options options) {
  WEFT_TRY(auto db, sqlite::Database::open(path, options));
  return attach(std::move(db));
}

Result<SqliteStore> SqliteStore::attach(sqlite::Database db) {
  // The ipam migrations own user_version only when ipam is alone in the file; weftd's own
  // schema is expected to include these tables otherwise. CREATE ... IF NOT EXISTS keeps
  // running them harmless.
  if (auto v = sqlite::schema_version(db); v && *v == 0) {
    WEFT_TRY_VOID(sqlite::migrate(db, kMigrations));
  } else {
    WEFT_TRY_VOID(db.exec(kMigrations[0].sql));
  }
  return SqliteStore(std::move(db));
}

Result<StoredState> SqliteStore::load() {
  StoredState state;
  WEFT_TRY(auto rings,
           db_.query_all<std::vector<std::uint8_t>>("SELECT data FROM ipam_ring ORDER BY family"));
  for (const auto& bytes : rings) {
    WEFT_TRY(auto ring, parse_ring(bytes));
    state.rings.push_back(std::move(ring));
  }
  WEFT_TRY(auto rows, (db_.query_all<std::string, std::string, int, std::string, int>(
                          "SELECT container, ifname, family, address, prefix FROM ipam_alloc "
                          "ORDER BY container, ifname, family")));
  for (const auto& [container, ifname, family, address, prefix] : rows) {
    WEFT_TRY(auto ip, parse_ip_address(address));
    WEFT_TRY(auto cidr, Cidr::make_host(ip, prefix));
    state.allocations.push_back(
        Allocation{AllocKey{container, ifname, static_cast<IpFamily>(family)}, cidr});
  }
  WEFT_TRY(auto boot, db_.query_one<std::vector<std::uint8_t>>(
                          "SELECT value FROM ipam_meta WHERE key = 'bootstrap'"));
  if (boot) {
    state.bootstrap = std::move(*boot);
  }
  return state;
}

Result<void> SqliteStore::add_allocation(const Allocation& a) {
  return db_.transact([&](sqlite::Database& d) -> Result<void> {
    WEFT_TRY_VOID(
        d.execute("INSERT INTO ipam_alloc(container, ifname, family, address, prefix) "
                  "VALUES(?1, ?2, ?3, ?4, ?5)",
                  a.key.container, a.key.ifname, static_cast<int>(a.key.family),
                  a.address.address().to_string(), a.address.prefix_length()));
    return {};
  });
}

Result<void> SqliteStore::remove_allocations(std::span<const Allocation> allocations) {
  return db_.transact([&](sqlite::Database& d) -> Result<void> {
    for (const auto& a : allocations) {
      WEFT_TRY_VOID(
          d.execute("DELETE FROM ipam_alloc WHERE container = ?1 AND ifname = ?2 AND family = ?3",
                    a.key.container, a.key.ifname, static_cast<int>(a.key.family)));
    }
    return {};
  });
}

Result<void> SqliteStore::save_ring(const Ring& ring) {
  const auto old = db_.synchronous();
  WEFT_TRY_VOID(db_.set_synchronous(sqlite::Synchronous::kFull));
  const auto bytes = encode_ring(ring);
  auto saved = db_.transact([&](sqlite::Database& d) -> Result<void> {
    WEFT_TRY_VOID(d.execute("INSERT OR REPLACE INTO ipam_ring(family, data) VALUES(?1, ?2)",
                            static_cast<int>(ring.family()), bytes));
    return {};
  });
  WEFT_TRY_VOID(db_.set_synchronous(old));
  return saved;
}

Result<void> SqliteStore::save_bootstrap(std::span<const std::uint8_t> state) {
  return db_.transact([&](sqlite::Database& d) -> Result<void> {
    WEFT_TRY_VOID(
        d.execute("INSERT OR REPLACE INTO ipam_meta(key, value) VALUES('bootstrap', ?1)", state));
    return {};
  });
}

}  // namespace weft::ipam
