// weft-npc's command line: `weft-npc [flags]` runs the controller, `weft-npc analyze ...` the
// offline compiler. Thin: parses arguments and calls the library.
//
// Contract: run_npc returns the process exit status (0 ok, 1 failure, 2 bad usage) and
// writes to the given streams only.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

namespace weft::policy {

std::string npc_usage();
std::string analyze_usage();

int run_analyze(const std::vector<std::string>& args, std::FILE* out, std::FILE* err);
int run_npc(const std::vector<std::string>& args, std::FILE* out, std::FILE* err);

}  // namespace weft::policy
