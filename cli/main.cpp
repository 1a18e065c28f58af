// weft: thin main. The operator CLI (issues 3, 7).
#include <cstdio>
#include <cstring>

#include "common/version.hpp"

int main(int argc, char** argv) {
  if (argc > 1 && (std::strcmp(argv[1], "--version") == 0 || std::strcmp(argv[1], "version") == 0)) {
    std::printf("weft %.*s\n", static_cast<int>(weft::kVersion.size()), weft::kVersion.data());
    return 0;
  }
  std::fprintf(stderr, "weft: not implemented yet in this build (The operator CLI (issues 3, 7))\n");
  return 2;
}
