#include "router/identity.hpp"

#include <array>
#include <vector>

#include "common/log.hpp"

namespace weft::router {
namespace {

constexpr sqlite::Migration kMigrations[] = {
    {1, "CREATE TABLE identity (key TEXT PRIMARY KEY, value BLOB NOT NULL)"},
};

Result<std::optional<std::vector<std::uint8_t>>> load_value(sqlite::Database& db,
                                                            std::string_view key) {
  WEFT_TRY(auto row, (db.query_one<std::vector<std::uint8_t>>(
                         "SELECT value FROM identity WHERE key = ?", key)));
  if (!row) {
    return std::optional<std::vector<std::uint8_t>>();
  }
  return std::optional<std::vector<std::uint8_t>>(std::move(*row));
}

Result<void> store_value(sqlite::Database& db, std::string_view key,
                         std::span<const std::uint8_t> value) {
  WEFT_TRY(auto changed,
           db.execute("INSERT OR REPLACE INTO identity (key, value) VALUES (?, ?)", key, value));
  (void)changed;
  return {};
}

std::array<std::uint8_t, 6> name_bytes(PeerName name) {
  std::array<std::uint8_t, 6> out{};
  for (size_t i = 0; i < out.size(); ++i) {
    out[i] = static_cast<std::uint8_t>(name.value >> (8 * (5 - i)));
  }
  return out;
}

PeerName name_from_bytes(std::span<const std::uint8_t> bytes) {
  std::uint64_t v = 0;
  for (auto b : bytes) {
    v = (v << 8) | b;
  }
  return PeerName{v};
}

Result<PeerName> resolve_name(sqlite::Database& db, std::optional<PeerName> requested) {
  WEFT_TRY(auto stored, load_value(db, "name"));
  std::optional<PeerName> stored_name;
  if (stored && stored->size() == 6) {
    stored_name = name_from_bytes(*stored);
  } else if (stored) {
    log::warn("stored peer name is corrupt; replacing it", {{"bytes", stored->size()}});
  }
  PeerName name = requested.value_or(stored_name.value_or(random_peer_name()));
  if (requested && stored_name && *stored_name != *requested) {
    log::warn("peer name changed by --name", {{"old", *stored_name}, {"new", *requested}});
  }
  if (!stored_name || *stored_name != name) {
    WEFT_TRY_VOID(store_value(db, "name", name_bytes(name)));
  }
  return name;
}

Result<KeyPair> resolve_static_key(sqlite::Database& db) {
  WEFT_TRY(auto stored, load_value(db, "static_secret"));
  if (stored && stored->size() == kKeySize) {
    KeyPair pair;
    std::copy(stored->begin(), stored->end(), pair.secret_key.bytes.begin());
    secure_zero(*stored);
    pair.public_key = public_key_of(pair.secret_key);
    return pair;
  }
  KeyPair pair = generate_keypair();
  WEFT_TRY_VOID(store_value(db, "static_secret", pair.secret_key.bytes));
  log::info("generated static key pair", {{"public_key", key_to_base64(pair.public_key)}});
  return pair;
}

}  // namespace

std::span<const sqlite::Migration> identity_migrations() {
  return kMigrations;
}

PeerName random_peer_name() {
  std::array<std::uint8_t, 6> bytes{};
  random_bytes(bytes);
  bytes[0] = static_cast<std::uint8_t>((bytes[0] | 0x02) & ~0x01);
  return name_from_bytes(bytes);
}

Result<Identity> load_or_create_identity(sqlite::Database& db, std::optional<PeerName> requested,
                                         bool want_static_key) {
  return db.transact([&](sqlite::Database& tx) -> Result<Identity> {
    Identity id;
    WEFT_TRY(id.name, resolve_name(tx, requested));
    if (want_static_key) {
      WEFT_TRY(auto pair, resolve_static_key(tx));
      id.static_key = pair;
    }
    return id;
  });
}

}  // namespace weft::router
