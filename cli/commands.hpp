// The `weft` operator CLI: parses its arguments and talks to weftd over HTTP.
// Read-only commands (status, report, ps) use the status address (TCP, default
// 127.0.0.1:6784); commands that change state use the unix socket (default
// /run/weft/weft.sock), which weftd accepts mutating calls on only. `launch` starts weftd
// (cli/launch.hpp). Every command answers --help (cli/help.hpp); failures to reach weftd
// read the same everywhere (cli/weftd_client.hpp).
//
// Exit codes: 0 success, 1 weftd unreachable or refused the request, 2 usage error.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace weft::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

// args excludes the program name.
int run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

// The overview printed by `weft --help` (general_usage() of cli/help.hpp).
std::string cli_usage();

}  // namespace weft::cli
