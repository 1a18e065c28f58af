// Renders weftd's /report JSON as the text of `weft status`, `weft status peers`,
// `weft status connections` and `weft status ipam` (modelled on `weave status`). Pure functions:
// the report is untrusted input (another version of weftd may have written it), so missing or
// mistyped keys render as "?" instead of failing.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace weft::cli {

std::string format_status(const nlohmann::json& report);
std::string format_peers(const nlohmann::json& report);
std::string format_connections(const nlohmann::json& report);
// Per address family: the range, then one line per peer owning part of it:
//   0a:00:00:00:00:01(h1)      128 addresses ( 50.0% of range) reachable
// ("unreachable!" for a peer we cannot reach; nicknames from the router's peer list).
std::string format_ipam(const nlohmann::json& report);

}  // namespace weft::cli
