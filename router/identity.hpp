// Identity: who this weftd is across restarts: its peer name (48-bit, MAC-style) and, when
// static keys are on, its X25519 key pair. Kept in the daemon's sqlite database (the same
// file holds the IPAM ring later), written in a transaction before the daemon uses it.
//
// The per-launch uid is not stored: a restarted peer announces a new uid so that peers can
// tell a restart from a stale record.
#pragma once

#include <optional>

#include "common/sqlite.hpp"
#include "common/sqlite_migrate.hpp"
#include "router/crypto.hpp"
#include "router/peer_name.hpp"

namespace weft::router {

struct Identity {
  PeerName name;
  std::optional<KeyPair> static_key;
};

// Schema migrations of the daemon database owned by the router (identity table).
std::span<const sqlite::Migration> identity_migrations();

// Loads the stored identity, creating what is missing:
//  - `requested` (from --name) wins over a stored name and replaces it (logged);
//  - without either, a random locally administered unicast name is generated;
//  - with `want_static_key`, a stored key pair is reused or one is generated and stored.
Result<Identity> load_or_create_identity(sqlite::Database& db, std::optional<PeerName> requested,
                                         bool want_static_key);

// A random 48-bit name with the locally-administered bit set and the multicast bit clear.
PeerName random_peer_name();

}  // namespace weft::router
