// Container registry: which containers are attached to this host's weft bridge, as told by
// the CNI plugin (or any other client of the API), kept in weftd's database so that `weft ps`
// and the status page can list them across restarts. The routes and the record are in
// api/containers.hpp; weftd/http_api.cpp binds them to the registry.
//
// Design note (schema): the table is created with CREATE TABLE IF NOT EXISTS when the
// registry opens the database, outside the versioned migrations (router/identity.cpp owns the
// database's user_version). A later schema change should move it into that migration list.
//
// Design note (attached): a record says what the client attached; "attached" is computed per
// list from one netlink link dump: the host end exists in weftd's namespace and is a port of
// the bridge. The registry does not create or remove links.
//
// Contract: ContainerStore and ContainerRegistry are used on one thread (weftd's control
// thread); calls block on sqlite (one small transaction per change).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/containers.hpp"
#include "common/netlink.hpp"
#include "common/result.hpp"
#include "common/sqlite.hpp"

namespace weft::weftd {

using api::ContainerRecord;

// The records in weftd's sqlite database (table `containers`).
class ContainerStore {
 public:
  // Opens (creating it if needed) the database file and the table.
  static Result<ContainerStore> open(const std::string& path);

  // Replaces the record of (id, ifname), in one transaction.
  Result<void> put(const ContainerRecord& record);
  // Removes one interface, or every interface of `id` when `ifname` is nullopt; returns how
  // many records went.
  Result<std::int64_t> remove(const std::string& id, const std::optional<std::string>& ifname);
  // Every record, sorted by id then ifname.
  Result<std::vector<ContainerRecord>> list();
  Result<std::int64_t> count();

 private:
  explicit ContainerStore(sqlite::Database db) : db_(std::move(db)) {}
  sqlite::Database db_;
};

// The store with weftd's view of the links: what the registry routes do.
class ContainerRegistry {
 public:
  // Links of weftd's namespace (for "attached" and the bridge MAC); an error means unknown.
  using LinkLister = std::function<Result<std::vector<LinkInfo>>()>;
  // Wall-clock unix seconds (the records' "created").
  using UnixClock = std::function<std::int64_t()>;

  ContainerRegistry(ContainerStore store, std::string bridge, LinkLister links, UnixClock now);

  // PUT: stores `record` (a parsed body) with "created" set to now; returns what was stored.
  // Errors are storage failures (kIo and friends), logged here.
  Result<ContainerRecord> put(ContainerRecord record);
  // DELETE: one interface, or every interface when `ifname` is nullopt; how many went.
  Result<std::int64_t> remove(const std::string& id, const std::optional<std::string>& ifname);
  // GET: every record with "attached", and the bridge when its link is visible.
  Result<api::ContainerList> list();
  // Number of records (for /report); nullopt when the store fails.
  std::optional<std::int64_t> count();

 private:
  ContainerStore store_;
  std::string bridge_;
  LinkLister links_;
  UnixClock now_;
};

// Wall-clock seconds since the epoch (system_clock).
ContainerRegistry::UnixClock system_unix_clock();

// A LinkLister over a netlink socket opened (on first use) in the calling thread's namespace.
ContainerRegistry::LinkLister current_netns_links();

}  // namespace weft::weftd
