// The IPAM routes of weftd's API (api/ipam.hpp) as responses, for weftd/http_api.cpp: each
// parses its typed request from the decoded route parameters and query (api/ipam.hpp; 400
// with the parser's message), runs the operation of ipam/api.hpp on the allocator, and
// answers in Weave's shape: addresses and counts as text/plain lines, errors as text/plain
// "message\n", the list as JSON. `ipam` null (weftd --no-ipam) answers 404 "IPAM is off".
//
// Contract: control thread only.
#pragma once

#include <boost/asio/awaitable.hpp>

#include "common/http.hpp"
#include "weftd/ipam_service.hpp"

namespace weft::weftd {

Response serve_ip_list(IpamService* ipam);                                           // GET /ip
boost::asio::awaitable<Response> serve_ip_allocate(IpamService* ipam, Request req);  // POST
Response serve_ip_claim(IpamService* ipam, const Request& req);                      // PUT
Response serve_ip_lookup(IpamService* ipam, const Request& req);                     // GET /ip/{id}
Response serve_ip_release(IpamService* ipam, const Request& req);                    // DELETE
Response serve_rmpeer(IpamService* ipam, const Request& req);  // DELETE /peer/{name}

}  // namespace weft::weftd
