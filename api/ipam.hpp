// The IPAM routes of weftd's API (paths.hpp: /ip..., /peer/{name}) as typed requests and
// answers, shaped like Weave Net's:
//   POST   /ip/{id}?family=ipv4|ipv6|dual&ifname=eth0   allocate (default: every range
//                                                        weftd has; ifname "eth0")
//   POST   /ip/{id}/{net}/{len}[?family=&ifname=]       allocate inside a subnet
//   PUT    /ip/{id}/{addr}[/{len}][?ifname=]            claim an address
//   GET    /ip/{id}                                     lookup
//   DELETE /ip/{id}[?ifname=]                           release everything the container
//                                                        holds (or only that interface's)
//   DELETE /ip/{id}/{addr}[/{len}][?ifname=]             release one address
//   GET    /ip                                          list (JSON)
//   DELETE /peer/{name}                                 rmpeer
// Answers: addresses as text/plain, one "ADDRESS/PREFIX" per line ("10.32.0.5/12\n");
// counts (release, rmpeer) as text "N\n"; the list as a JSON array of {"container",
// "ifname", "family", "address"}; errors as text/plain "message\n" with 400 (bad request),
// 404 (nothing there), 409 (conflict), 503 (not ready, or still asking for space: retry),
// 507 (out of space), 500 (storage).
//
// Contract: pure functions; parse_* take untrusted input (bound route parameters and
// query values already decoded by the server, or response bodies) and never throw. Each
// request type's target() is what a client sends, and parse_*(match of that target) gives
// the request back (tests/fuzz/api_request_fuzz.cpp checks the round trip).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/containers.hpp"
#include "common/address.hpp"
#include "common/http.hpp"
#include "common/result.hpp"

namespace weft::api {

// ?family=: absent (or empty) is kDefault: one address per range weftd has.
enum class Family { kDefault, kV4, kV6, kDual };
std::optional<std::string> to_query(Family family);  // nullopt for kDefault
Result<Family> parse_family(std::string_view text);  // "", "ipv4", "ipv6", "dual"

// ?ifname= of the IPAM routes: 1..15 bytes, no '/', no control characters or spaces.
Result<void> validate_ifname(std::string_view ifname);

inline constexpr std::string_view kDefaultIfname = "eth0";

// POST /ip/{id}[/{net}/{len}].
struct IpAllocate {
  std::string id;
  std::string ifname{kDefaultIfname};
  Family family = Family::kDefault;
  std::optional<Cidr> subnet;  // without host bits
  friend bool operator==(const IpAllocate&, const IpAllocate&) = default;
};
// PUT /ip/{id}/{addr}[/{len}]: a bare address is claimed as address/32 (/128), which IPAM
// widens to its default subnet's prefix.
struct IpClaim {
  std::string id;
  std::string ifname{kDefaultIfname};
  Cidr address;
  friend bool operator==(const IpClaim&, const IpClaim&) = default;
};
// DELETE /ip/{id}[/{addr}].
struct IpRelease {
  std::string id;
  std::optional<IpAddress> address;   // only this one
  std::optional<std::string> ifname;  // only this interface's
  friend bool operator==(const IpRelease&, const IpRelease&) = default;
};

// Server side: from the parameters bound by the matching route (paths.hpp) and the query.
// kInvalidArgument (-> 400) with a message naming the bad part.
Result<IpAllocate> parse_ip_allocate(const RouteParams& params, const QueryParams& query);
Result<IpClaim> parse_ip_claim(const RouteParams& params, const QueryParams& query);
Result<IpRelease> parse_ip_release(const RouteParams& params, const QueryParams& query);
Result<std::string> parse_ip_lookup(const RouteParams& params);  // the id

// Client side: the request targets, every segment and query value percent-encoded.
std::string target(const IpAllocate& request);
std::string target(const IpClaim& request);
std::string target(const IpRelease& request);
std::string ip_lookup_target(std::string_view id);
std::string ip_list_target();
std::string rmpeer_target(std::string_view peer_name);

// text/plain answers.
std::string format_address_lines(const std::vector<Cidr>& addresses);
// Every non-empty line must be an ADDRESS/PREFIX (host bits kept); kMalformed otherwise.
Result<std::vector<Cidr>> parse_address_lines(std::string_view body);
std::string format_count(U128 count);
Result<U128> parse_count(std::string_view body);

// One entry of GET /ip.
struct IpAllocation {
  std::string container;
  std::string ifname;
  Cidr address;  // with the subnet's prefix length; its family is the entry's "family"
  friend bool operator==(const IpAllocation&, const IpAllocation&) = default;
};
std::string format_ip_list(const std::vector<IpAllocation>& list);
Result<std::vector<IpAllocation>> parse_ip_list(std::string_view body);

}  // namespace weft::api
