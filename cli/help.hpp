// Help texts of the `weft` CLI: the overview (`weft --help`) and one page per command
// (`weft COMMAND --help`, `weft help COMMAND`), each listing every option of the command.
//
// Contract: pure, constant texts ending in a newline.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace weft::cli {

// `weft --help`: every command in one line or two, and the global options.
std::string general_usage();

// The help page of `command` (e.g. "ps", "ip", "launch"); nullopt for an unknown command.
std::optional<std::string> command_help(std::string_view command);

// Every command that has a help page, in the order of the overview.
const std::vector<std::string>& command_names();

}  // namespace weft::cli
