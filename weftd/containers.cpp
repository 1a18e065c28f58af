#include "weftd/containers.hpp"

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>

#include <nlohmann/json.hpp>

#include "common/log.hpp"
#include "common/netns.hpp"

namespace weft::weftd {
namespace {

using nlohmann::json;

// The addresses column: a JSON array of ADDRESS/PREFIX strings.
std::string addresses_text(const std::vector<Cidr>& addresses) {
  json out = json::array();
  for (const auto& a : addresses) {
    out.push_back(a.to_string());
  }
  return out.dump();
}

std::vector<Cidr> addresses_from_text(std::string_view text) {
  auto parsed = json::parse(text, nullptr, /*allow_exceptions=*/false);
  std::vector<Cidr> out;
  if (parsed.is_array()) {
    for (const auto& a : parsed) {
      if (!a.is_string()) {
        continue;
      }
      if (auto c = parse_host_cidr(a.get<std::string>())) {
        out.push_back(*c);
      }
    }
  }
  return out;
}

constexpr std::string_view kSchema =
    "CREATE TABLE IF NOT EXISTS containers ("
    " id TEXT NOT NULL, ifname TEXT NOT NULL, netns TEXT NOT NULL, host_ifname TEXT NOT NULL,"
    " mac TEXT NOT NULL, addresses TEXT NOT NULL, source TEXT NOT NULL,"
    " created INTEGER NOT NULL, PRIMARY KEY (id, ifname))";

}  // namespace

Result<ContainerStore> ContainerStore::open(const std::string& path) {
  WEFT_TRY(auto db, sqlite::Database::open(path));
  WEFT_TRY_VOID(db.exec(kSchema));
  return ContainerStore(std::move(db));
}

Result<void> ContainerStore::put(const ContainerRecord& r) {
  return db_.transact([&](sqlite::Database& tx) -> Result<void> {
    WEFT_TRY(auto changed,
             tx.execute("INSERT OR REPLACE INTO containers (id, ifname, netns, host_ifname, mac,"
                        " addresses, source, created) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                        r.id, r.ifname, r.netns, r.host_ifname, r.mac, addresses_text(r.addresses),
                        r.source, r.created));
    (void)changed;
    return {};
  });
}

Result<std::int64_t> ContainerStore::remove(const std::string& id,
                                            const std::optional<std::string>& ifname) {
  return db_.transact([&](sqlite::Database& tx) -> Result<std::int64_t> {
    if (ifname) {
      return tx.execute("DELETE FROM containers WHERE id = ?1 AND ifname = ?2", id, *ifname);
    }
    return tx.execute("DELETE FROM containers WHERE id = ?1", id);
  });
}

Result<std::vector<ContainerRecord>> ContainerStore::list() {
  WEFT_TRY(auto rows, (db_.query_all<std::string, std::string, std::string, std::string,
                                     std::string, std::string, std::string, std::int64_t>(
                          "SELECT id, ifname, netns, host_ifname, mac, addresses, source, created"
                          " FROM containers ORDER BY id, ifname")));
  std::vector<ContainerRecord> out;
  out.reserve(rows.size());
  for (auto& [id, ifname, netns, host_ifname, mac, addresses, source, created] : rows) {
    out.push_back(ContainerRecord{std::move(id), std::move(ifname), std::move(netns),
                                  std::move(host_ifname), std::move(mac),
                                  addresses_from_text(addresses), std::move(source), created});
  }
  return out;
}

Result<std::int64_t> ContainerStore::count() {
  WEFT_TRY(auto n, db_.query_one<std::int64_t>("SELECT COUNT(*) FROM containers"));
  return n.value_or(0);
}

ContainerRegistry::ContainerRegistry(ContainerStore store, std::string bridge, LinkLister links,
                                     UnixClock now)
    : store_(std::move(store)),
      bridge_(std::move(bridge)),
      links_(std::move(links)),
      now_(std::move(now)) {}

Result<ContainerRecord> ContainerRegistry::put(ContainerRecord record) {
  record.created = now_();
  if (auto ok = store_.put(record); !ok) {
    log::error("cannot store container", {{"id", record.id}, {"error", ok.error().to_string()}});
    return make_error(ok.error().code, "cannot store the record: {}", ok.error().message);
  }
  log::info("container registered", {{"id", record.id},
                                     {"ifname", record.ifname},
                                     {"host_ifname", record.host_ifname},
                                     {"source", record.source}});
  return record;
}

Result<std::int64_t> ContainerRegistry::remove(const std::string& id,
                                               const std::optional<std::string>& ifname) {
  auto removed = store_.remove(id, ifname);
  if (!removed) {
    log::error("cannot remove container", {{"id", id}, {"error", removed.error().to_string()}});
    return make_error(removed.error().code, "cannot remove the record: {}",
                      removed.error().message);
  }
  if (*removed > 0) {
    log::info("container removed", {{"id", id}, {"ifname", ifname.value_or("*")}});
  }
  return *removed;
}

Result<api::ContainerList> ContainerRegistry::list() {
  auto records = store_.list();
  if (!records) {
    return make_error(records.error().code, "cannot read the records: {}", records.error().message);
  }
  std::map<std::string, LinkInfo, std::less<>> links;
  if (auto listed = links_ ? links_() : Result<std::vector<LinkInfo>>(std::vector<LinkInfo>{})) {
    for (auto& l : *listed) {
      links.emplace(l.name, std::move(l));
    }
  }
  api::ContainerList out;
  for (auto& r : *records) {
    auto it = r.host_ifname.empty() ? links.end() : links.find(r.host_ifname);
    const bool attached = it != links.end() && it->second.master_name == bridge_;
    out.containers.push_back(api::ContainerEntry{std::move(r), attached});
  }
  if (auto it = links.find(bridge_); it != links.end()) {
    out.bridge = api::BridgeInfo{bridge_, it->second.mac.to_string()};
  }
  return out;
}

std::optional<std::int64_t> ContainerRegistry::count() {
  auto n = store_.count();
  return n ? std::optional(*n) : std::nullopt;
}

ContainerRegistry::UnixClock system_unix_clock() {
  return [] {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  };
}

ContainerRegistry::LinkLister current_netns_links() {
  // Shared so that the std::function stays copyable; opened lazily, reopened after an error.
  auto nl = std::make_shared<std::unique_ptr<Netlink>>();
  return [nl]() -> Result<std::vector<LinkInfo>> {
    if (!*nl) {
      WEFT_TRY(auto ns, Netns::current());
      WEFT_TRY(*nl, open_netlink(ns));
    }
    auto links = (*nl)->list_links();
    if (!links) {
      nl->reset();
    }
    return links;
  };
}

}  // namespace weft::weftd
