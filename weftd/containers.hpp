// Container registry: which containers are attached to this host's weft bridge, as told by
// the CNI plugin (or any other client of the API), kept in weftd's database so that `weft ps`
// and the status page can list them across restarts. HTTP API (mutating routes on the unix
// socket only):
//   PUT    /containers/{id}/{ifname}   body {"netns", "host_ifname", "mac", "addresses",
//                                      "source"}; replaces the record; 200 + the record
//   DELETE /containers/{id}/{ifname}   200 {"removed": N} (idempotent)
//   DELETE /containers/{id}            every interface of the container; 200 {"removed": N}
//   GET    /containers                 (unix socket and status server) {"containers": [...],
//                                      "bridge": {"name", "mac"}} sorted by id then ifname
//
// Design note (schema): the table is created with CREATE TABLE IF NOT EXISTS when the
// registry opens the database, outside the versioned migrations (router/identity.cpp owns the
// database's user_version). A later schema change should move it into that migration list.
//
// Design note (attached): a record says what the client attached; "attached" is computed per
// GET from one netlink link dump: the host end exists in weftd's namespace and is a port of
// the bridge. The registry does not create or remove links.
//
// Contract: ContainerStore and ContainerRegistry are used on one thread (weftd's control
// thread); calls block on sqlite (one small transaction per change). Bodies are untrusted:
// parse_container_body is a pure function (fuzzed) that never throws.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/http.hpp"
#include "common/netlink.hpp"
#include "common/result.hpp"
#include "common/sqlite.hpp"

namespace weft {
class HttpServer;
}

namespace weft::weftd {

struct ContainerRecord {
  std::string id;
  std::string ifname;
  std::string netns;                   // e.g. /proc/123/ns/net; may be empty
  std::string host_ifname;             // host end of the veth; may be empty
  std::string mac;                     // normalised lowercase aa:bb:cc:dd:ee:ff; may be empty
  std::vector<std::string> addresses;  // normalised ADDRESS/PREFIX with host bits
  std::string source = "api";
  std::int64_t created = 0;  // unix seconds

  friend bool operator==(const ContainerRecord&, const ContainerRecord&) = default;
};

// A container id or interface name as a path segment: 1..256 bytes, no '/', no control
// characters. kInvalidArgument with the reason otherwise.
Result<void> validate_container_key(std::string_view what, std::string_view value);

// Parses the body of PUT /containers/{id}/{ifname}. Missing fields are empty ("source":
// "api"); unknown fields are ignored. kInvalidArgument (with a message naming the field) for
// a body that is not a JSON object, a field of the wrong type, a bad MAC, a bad CIDR, a bad
// host interface name, or a bad id/ifname. `created` is left 0.
Result<ContainerRecord> parse_container_body(std::string_view id, std::string_view ifname,
                                             std::string_view body);

// The record as the API shows it; `attached` is added when given.
nlohmann::json container_json(const ContainerRecord& record,
                              std::optional<bool> attached = std::nullopt);

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

// The HTTP face of the store.
class ContainerRegistry {
 public:
  // Links of weftd's namespace (for "attached" and the bridge MAC); an error means unknown.
  using LinkLister = std::function<Result<std::vector<LinkInfo>>()>;
  // Wall-clock unix seconds (the records' "created").
  using UnixClock = std::function<std::int64_t()>;

  ContainerRegistry(ContainerStore store, std::string bridge, LinkLister links, UnixClock now);

  // PUT/DELETE on `api`, GET on both.
  void add_routes(HttpServer& api, HttpServer& status);

  Response handle_put(const Request& req);
  Response handle_delete(const Request& req);
  Response handle_list();
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
