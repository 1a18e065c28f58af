// weft-npc: the Kubernetes NetworkPolicy controller of Weft (thin main; see policy/command.hpp).
#include <cstdio>
#include <string>
#include <vector>

#include "policy/command.hpp"

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  return weft::policy::run_npc(args, stdout, stderr);
}
