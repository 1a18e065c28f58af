// The IPAM part of weftd's HTTP API on the unix socket, shaped like Weave Net's:
//   POST   /ip/{id}?family=ipv4|ipv6|dual&ifname=eth0   allocate (default dual when both
//                                                         ranges exist, ifname "eth0")
//   POST   /ip/{id}/{cidr}[?ifname=]                    allocate inside a subnet
//   PUT    /ip/{id}/{addr}[/{prefix}][?ifname=]         claim an address
//   GET    /ip/{id}                                     lookup
//   DELETE /ip/{id}[?ifname=]                           release everything the container
//                                                         holds (or only that interface's)
//   DELETE /ip/{id}/{addr}                              release one address
//   GET    /ip                                          list (JSON)
//   DELETE /peer/{name}                                 rmpeer (the addresses reclaimed)
// Address answers are text/plain, one CIDR per line ("10.32.0.5/12"), as Weave answers;
// lists and status are JSON. Errors: 400 bad request, 404 unknown route, 409 conflict,
// 503 not ready / still asking for space (retry), 507 out of space, 500 storage.
//
// Contract: pure functions of (allocator, request) on the control thread; the awaitable
// variant waits (allocate_wait) for a donation when a peer is out of space.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>
#include <nlohmann/json.hpp>

#include "common/clock.hpp"
#include "ipam/allocator.hpp"

namespace weft::ipam {

struct ApiRequest {
  std::string method;  // "GET", "POST", "PUT", "DELETE"
  std::string path;    // "/ip/abc/10.32.0.0/24" (no query)
  std::string query;   // "family=ipv4&ifname=eth0" (no '?')
};

struct ApiResponse {
  int status = 200;
  std::string content_type = "text/plain";
  std::string body;
};

// True for the paths this module serves (/ip, /ip/..., /peer/...).
bool is_ipam_path(std::string_view path);
// Serves one request without waiting (an allocation that needs a donation answers 503).
ApiResponse handle_api(Allocator& allocator, const ApiRequest& request);
// The same, but an allocation waits up to `timeout` for a donation.
boost::asio::awaitable<ApiResponse> handle_api_wait(Allocator& allocator, ApiRequest request,
                                                    Clock::Duration timeout);

// "aa:bb:cc:dd:ee:ff" for a 48-bit peer id.
std::string format_peer_id(PeerId id);
// The `ipam` object of /report and `weft status ipam`: per family, the range, ring id and
// per peer (name, addresses owned, share of the range, free hint, reachable).
nlohmann::json status_json(const AllocatorStatus& status);
nlohmann::json allocation_json(const Allocation& allocation);

}  // namespace weft::ipam
