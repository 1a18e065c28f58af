// Runs weft-npc's controller until SIGINT/SIGTERM (see policy/controller.hpp), or removes its
// program (--cleanup). Stopping leaves the program in the kernel: pods stay policed while
// weft-npc restarts or upgrades.
//
// Contract: blocks; returns the exit status (0 ok, 1 runtime failure, 2 bad configuration).
#pragma once

#include "policy/npc_config.hpp"

namespace weft::policy {

int run_controller(const NpcConfig& config);

}  // namespace weft::policy
