// The IPAM commands of the `weft` CLI, thin wrappers over weftd's IPAM API on the unix
// socket (api/ipam.hpp: the targets are built, ids and names percent-encoded, and the
// answers parsed with its types), shaped like Weave Net's:
//   weft ip alloc ID [--family ipv4|ipv6|dual] [--ifname X] [CIDR]   POST /ip/ID[/CIDR]
//   weft ip claim ID ADDR/LEN [--ifname X]                           PUT /ip/ID/ADDR/LEN
//   weft ip release ID [ADDR]                                        DELETE /ip/ID[/ADDR]
//   weft ip lookup ID                                                GET /ip/ID
//   weft ip list                                                     GET /ip
//   weft rmpeer NAME                                                 DELETE /peer/NAME
// Addresses are printed one CIDR per line, as weftd answers them.
//
// Contract: blocking; `words` starts with the command ("ip" or "rmpeer"). Exit codes as
// cli/commands.hpp: 0 ok, 1 weftd unreachable or refused (the message says why, with the
// HTTP status), 2 usage. `weft rmpeer` of a peer that owns nothing (already taken over, e.g.
// by another host running rmpeer at the same time) is not an error: it prints 0.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace weft::cli {

int run_ip(const std::vector<std::string>& words, const std::string& api_socket, std::ostream& out,
           std::ostream& err);
int run_rmpeer(const std::vector<std::string>& words, const std::string& api_socket,
               std::ostream& out, std::ostream& err);

// The usage lines of these commands (part of cli_usage()).
std::string ipam_usage();

}  // namespace weft::cli
