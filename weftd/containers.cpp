#include "weftd/containers.hpp"

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>

#include <boost/asio/awaitable.hpp>

#include "common/address.hpp"
#include "common/http_parse.hpp"
#include "common/http_server.hpp"
#include "common/log.hpp"
#include "common/mac_address.hpp"
#include "common/netns.hpp"
#include <fmt/format.h>

namespace weft::weftd {
namespace {

namespace asio = boost::asio;
using nlohmann::json;

constexpr std::size_t kMaxKey = 256;
constexpr std::size_t kMaxNetns = 4096;
constexpr std::size_t kMaxAddresses = 64;

// A string field: missing or null -> empty; anything but a string -> error.
Result<std::string> string_field(const json& body, const char* name, std::size_t max) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null()) {
    return std::string();
  }
  if (!it->is_string()) {
    return make_error(Errc::kInvalidArgument, "\"{}\" must be a string", name);
  }
  std::string value = it->get<std::string>();
  if (value.size() > max) {
    return make_error(Errc::kInvalidArgument, "\"{}\" is longer than {} bytes", name, max);
  }
  return value;
}

Result<void> validate_host_ifname(std::string_view name) {
  if (name.empty()) {
    return {};
  }
  const bool bad_char = std::any_of(name.begin(), name.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u <= 0x20 || u == 0x7f || c == '/' || c == ':';
  });
  if (name.size() > 15 || bad_char || name == "." || name == "..") {
    return make_error(Errc::kInvalidArgument,
                      "\"host_ifname\" \"{}\" is not an interface name (1-15 characters, no '/', "
                      "':' or spaces)",
                      std::string(name));
  }
  return {};
}

Result<std::vector<std::string>> addresses_field(const json& body) {
  std::vector<std::string> out;
  auto it = body.find("addresses");
  if (it == body.end() || it->is_null()) {
    return out;
  }
  if (!it->is_array()) {
    return make_error(Errc::kInvalidArgument, "\"addresses\" must be an array of strings");
  }
  if (it->size() > kMaxAddresses) {
    return make_error(Errc::kInvalidArgument, "more than {} addresses", kMaxAddresses);
  }
  for (const auto& a : *it) {
    if (!a.is_string()) {
      return make_error(Errc::kInvalidArgument, "\"addresses\" must be an array of strings");
    }
    auto cidr = parse_host_cidr(a.get<std::string>());
    if (!cidr) {
      return make_error(Errc::kInvalidArgument, "bad address \"{}\": {}", a.get<std::string>(),
                        cidr.error().message);
    }
    out.push_back(cidr->to_string());
  }
  return out;
}

std::string addresses_text(const std::vector<std::string>& addresses) {
  return json(addresses).dump();
}

std::vector<std::string> addresses_from_text(std::string_view text) {
  auto parsed = json::parse(text, nullptr, /*allow_exceptions=*/false);
  std::vector<std::string> out;
  if (parsed.is_array()) {
    for (const auto& a : parsed) {
      if (a.is_string()) {
        out.push_back(a.get<std::string>());
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

Result<void> validate_container_key(std::string_view what, std::string_view value) {
  if (value.empty()) {
    return make_error(Errc::kInvalidArgument, "empty {}", what);
  }
  if (value.size() > kMaxKey) {
    return make_error(Errc::kInvalidArgument, "{} is longer than {} bytes", what, kMaxKey);
  }
  for (const char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '/' || u < 0x20 || u == 0x7f) {
      return make_error(Errc::kInvalidArgument, "{} must not contain '/' or control characters",
                        what);
    }
  }
  return {};
}

Result<ContainerRecord> parse_container_body(std::string_view id, std::string_view ifname,
                                             std::string_view body) {
  WEFT_TRY_VOID(validate_container_key("container id", id));
  WEFT_TRY_VOID(validate_container_key("interface name", ifname));
  auto parsed = parse_json_body(body);
  if (!parsed) {
    return make_error(Errc::kInvalidArgument, "body is not JSON: {}", parsed.error().message);
  }
  const json& j = *parsed;
  if (!j.is_object()) {
    return make_error(Errc::kInvalidArgument, "body must be a JSON object");
  }
  ContainerRecord r;
  r.id = std::string(id);
  r.ifname = std::string(ifname);
  WEFT_TRY(r.netns, string_field(j, "netns", kMaxNetns));
  WEFT_TRY(r.host_ifname, string_field(j, "host_ifname", kMaxKey));
  WEFT_TRY_VOID(validate_host_ifname(r.host_ifname));
  WEFT_TRY(auto mac, string_field(j, "mac", kMaxKey));
  if (!mac.empty()) {
    auto parsed_mac = parse_mac_address(mac);
    if (!parsed_mac) {
      return make_error(Errc::kInvalidArgument, "bad \"mac\" \"{}\": {}", mac,
                        parsed_mac.error().message);
    }
    r.mac = parsed_mac->to_string();
  }
  WEFT_TRY(r.addresses, addresses_field(j));
  WEFT_TRY(auto source, string_field(j, "source", kMaxKey));
  if (!source.empty()) {
    r.source = std::move(source);
  }
  return r;
}

json container_json(const ContainerRecord& r, std::optional<bool> attached) {
  json j = {{"id", r.id},         {"ifname", r.ifname},
            {"netns", r.netns},   {"host_ifname", r.host_ifname},
            {"mac", r.mac},       {"addresses", r.addresses},
            {"source", r.source}, {"created", r.created}};
  if (attached) {
    j["attached"] = *attached;
  }
  return j;
}

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

void ContainerRegistry::add_routes(HttpServer& api, HttpServer& status) {
  api.route(Method::kPut, "/containers/{id}/{ifname}",
            [this](Request req) -> asio::awaitable<Response> { co_return handle_put(req); });
  for (const char* pattern : {"/containers/{id}/{ifname}", "/containers/{id}"}) {
    api.route(Method::kDelete, pattern,
              [this](Request req) -> asio::awaitable<Response> { co_return handle_delete(req); });
  }
  for (HttpServer* server : {&api, &status}) {
    server->route(Method::kGet, "/containers",
                  [this](Request) -> asio::awaitable<Response> { co_return handle_list(); });
  }
}

Response ContainerRegistry::handle_put(const Request& req) {
  auto record = parse_container_body(req.param("id"), req.param("ifname"), req.body);
  if (!record) {
    return Response::error(400, record.error().message);
  }
  record->created = now_();
  if (auto ok = store_.put(*record); !ok) {
    log::error("cannot store container", {{"id", record->id}, {"error", ok.error().to_string()}});
    return Response::error(500, "cannot store the record: " + ok.error().message);
  }
  log::info("container registered", {{"id", record->id},
                                     {"ifname", record->ifname},
                                     {"host_ifname", record->host_ifname},
                                     {"source", record->source}});
  return Response::json(200, container_json(*record));
}

Response ContainerRegistry::handle_delete(const Request& req) {
  const std::string id(req.param("id"));
  std::optional<std::string> ifname;
  if (!req.param("ifname").empty()) {
    ifname = std::string(req.param("ifname"));
  }
  if (auto ok = validate_container_key("container id", id); !ok) {
    return Response::error(400, ok.error().message);
  }
  if (ifname) {
    if (auto ok = validate_container_key("interface name", *ifname); !ok) {
      return Response::error(400, ok.error().message);
    }
  }
  auto removed = store_.remove(id, ifname);
  if (!removed) {
    log::error("cannot remove container", {{"id", id}, {"error", removed.error().to_string()}});
    return Response::error(500, "cannot remove the record: " + removed.error().message);
  }
  if (*removed > 0) {
    log::info("container removed", {{"id", id}, {"ifname", ifname.value_or("*")}});
  }
  return Response::json(200, {{"removed", *removed}});
}

Response ContainerRegistry::handle_list() {
  auto records = store_.list();
  if (!records) {
    return Response::error(500, "cannot read the records: " + records.error().message);
  }
  std::map<std::string, LinkInfo, std::less<>> links;
  if (auto listed = links_ ? links_() : Result<std::vector<LinkInfo>>(std::vector<LinkInfo>{})) {
    for (auto& l : *listed) {
      links.emplace(l.name, std::move(l));
    }
  }
  json out = {{"containers", json::array()}};
  for (const auto& r : *records) {
    auto it = r.host_ifname.empty() ? links.end() : links.find(r.host_ifname);
    const bool attached = it != links.end() && it->second.master_name == bridge_;
    out["containers"].push_back(container_json(r, attached));
  }
  if (auto it = links.find(bridge_); it != links.end()) {
    out["bridge"] = {{"name", bridge_}, {"mac", it->second.mac.to_string()}};
  }
  return Response::json(200, out);
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
