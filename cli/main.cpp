// weft: the operator CLI (thin main; see cli/commands.hpp).
#include <iostream>
#include <string>
#include <vector>

#include "cli/commands.hpp"

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  return weft::cli::run_cli(args, std::cout, std::cerr);
}
