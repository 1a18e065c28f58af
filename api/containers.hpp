// The container registry routes of weftd's API (paths.hpp), typed:
//   PUT    /containers/{id}/{ifname}   body: the record without id, ifname and created
//                                      {"netns", "host_ifname", "mac", "addresses",
//                                      "source"}; replaces it; 200 + the record
//   DELETE /containers/{id}/{ifname}   200 {"removed": N} (idempotent)
//   DELETE /containers/{id}            every interface of the container; 200 {"removed": N}
//   GET    /containers                 {"containers": [record + "attached"...],
//                                      "bridge": {"name", "mac"}} sorted by id then ifname
// weft-cni registers what it attached; weftd (weftd/containers.hpp) keeps the records;
// `weft ps` and weft-cni's GC list them.
//
// Contract: pure functions that never throw; bodies are untrusted (parse_container_body is
// fuzzed by tests/fuzz/container_record_fuzz.cpp: what to_json shows parses back equal).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/address.hpp"
#include "common/result.hpp"

namespace weft::api {

// One attached interface of a container: the one definition, for weftd and its clients.
struct ContainerRecord {
  std::string id;
  std::string ifname;
  std::string netns;            // e.g. /proc/123/ns/net; may be empty
  std::string host_ifname;      // host end of the veth; may be empty
  std::string mac;              // normalised lowercase aa:bb:cc:dd:ee:ff; may be empty
  std::vector<Cidr> addresses;  // interface addresses, ADDRESS/PREFIX with host bits
  std::string source = "api";   // who registered it: "cni:<network>", "api", ...
  std::int64_t created = 0;     // unix seconds, set by weftd

  friend bool operator==(const ContainerRecord&, const ContainerRecord&) = default;
};

// A container id (or the interface name of a record) as a path segment: 1..256 bytes, no
// '/', no control characters, not "." or "..". kInvalidArgument naming `what` otherwise.
// Clients check before sending; the server checks what it received. The same ids key IPAM.
Result<void> validate_container_key(std::string_view what, std::string_view value);

// Parses the body of PUT /containers/{id}/{ifname}. Missing fields are empty ("source":
// "api"); unknown fields are ignored. kInvalidArgument (with a message naming the field) for
// a body that is not a JSON object, a field of the wrong type, a bad MAC, a bad address, a
// bad host interface name, or a bad id/ifname (validate_container_key). `created`
// is left 0.
Result<ContainerRecord> parse_container_body(std::string_view id, std::string_view ifname,
                                             std::string_view body);
// The PUT body a client sends for `record` (id and ifname go into the path).
std::string container_body(const ContainerRecord& record);
// The record as the API shows it (GET /containers, the PUT answer); `attached` is added
// when given.
nlohmann::json to_json(const ContainerRecord& record, std::optional<bool> attached = std::nullopt);

// GET /containers.
struct ContainerEntry {
  ContainerRecord record;
  std::optional<bool> attached;  // the host end is a port of the bridge (weftd's view)
  friend bool operator==(const ContainerEntry&, const ContainerEntry&) = default;
};
struct BridgeInfo {
  std::string name;
  std::string mac;
  friend bool operator==(const BridgeInfo&, const BridgeInfo&) = default;
};
struct ContainerList {
  std::vector<ContainerEntry> containers;
  std::optional<BridgeInfo> bridge;  // absent when weftd cannot see its bridge
  friend bool operator==(const ContainerList&, const ContainerList&) = default;
};
nlohmann::json to_json(const ContainerList& list);
// kMalformed when the answer is not {"containers": [...]} or a record in it does not parse
// as a PUT body would (plus string "id" and "ifname").
Result<ContainerList> parse_container_list(std::string_view body);

// The targets of the registry routes, id and ifname percent-encoded.
std::string container_target(std::string_view id, std::string_view ifname);
std::string container_target(std::string_view id);  // every interface
std::string containers_target();

}  // namespace weft::api
