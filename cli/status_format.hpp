// Renders weftd's /report JSON as the text of `weft status`, `weft status peers` and
// `weft status connections` (modelled on `weave status`). Pure functions: the report is
// untrusted input (another version of weftd may have written it), so missing or mistyped
// keys render as "?" instead of failing.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace weft::cli {

std::string format_status(const nlohmann::json& report);
std::string format_peers(const nlohmann::json& report);
std::string format_connections(const nlohmann::json& report);

}  // namespace weft::cli
