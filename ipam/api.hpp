// The operations behind weftd's IPAM routes (api/ipam.hpp has the wire: paths, queries,
// answer formats): typed calls on the allocator, each answering what the API shows — a
// status and either the value or a message:
//   allocate / allocate_in / claim / lookup   -> addresses (200)
//   release / release_one / rmpeer            -> a count (200)
//   list                                      -> the allocations (200)
// Errors: 400 bad request, 404 nothing there (lookup of an unknown container, rmpeer of a
// peer that owns no range), 409 conflict, 503 not ready / still asking for space (retry),
// 507 out of space, 500 storage.
//
// Contract: pure functions of (allocator, typed request) on the control thread; the
// awaitable allocate_wait waits for a donation when a peer is out of space. No path or
// query parsing happens here: weftd (weftd/http_api.cpp) parses once with api/.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <nlohmann/json.hpp>

#include "common/clock.hpp"
#include "ipam/allocator.hpp"

namespace weft::ipam {

template <class T>
struct Answer {
  int status = 200;
  T value{};          // when ok()
  std::string error;  // when not ok()
  bool ok() const { return status == 200; }
};

// The status of an allocator error (kInvalidArgument -> 400, kNotFound -> 404, kConflict ->
// 409, kUnavailable -> 503, kExhausted -> 507, anything else 500).
int status_for(const Error& error);

// One address per family asked for, inside `subnet` when given (else the default subnet).
Answer<std::vector<Cidr>> allocate(Allocator& allocator, std::string_view id,
                                   std::string_view ifname, FamilyChoice family,
                                   std::optional<Cidr> subnet = std::nullopt);
// allocate(), waiting up to `timeout` for a donation (parameters by value: coroutine).
boost::asio::awaitable<Answer<std::vector<Cidr>>> allocate_wait(Allocator& allocator,
                                                                std::string id, std::string ifname,
                                                                FamilyChoice family,
                                                                Clock::Duration timeout);
Answer<std::vector<Cidr>> claim(Allocator& allocator, std::string_view id, std::string_view ifname,
                                Cidr address);
// 404 when the container holds nothing.
Answer<std::vector<Cidr>> lookup(const Allocator& allocator, std::string_view id);
// Every address of `id` (only `ifname`'s when given); how many went (0 is fine).
Answer<std::size_t> release(Allocator& allocator, std::string_view id,
                            std::optional<std::string_view> ifname = std::nullopt);
Answer<std::size_t> release_one(Allocator& allocator, std::string_view id, IpAddress address,
                                std::optional<std::string_view> ifname = std::nullopt);
Answer<std::vector<Allocation>> list(const Allocator& allocator);
// Takes over the ranges of `peer` ("aa:bb:cc:dd:ee:ff"; 400 when it is not a peer name).
Answer<U128> rmpeer(Allocator& allocator, std::string_view peer);

// "aa:bb:cc:dd:ee:ff" for a 48-bit peer id.
std::string format_peer_id(PeerId id);
// The `ipam` object of /report and `weft status ipam`: per family, the range, ring id and
// per peer (name, addresses owned, share of the range, free hint, reachable).
nlohmann::json status_json(const AllocatorStatus& status);
// Calls fn(name, value) for every operation counter, names as in /report's "stats" and the
// `op` label of /metrics ("allocations", "releases", ...).
void for_each_stat(const AllocatorStats& stats,
                   const std::function<void(std::string_view, std::uint64_t)>& fn);

}  // namespace weft::ipam
