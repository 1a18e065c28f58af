// weft-cni: thin main. The CNI plugin (issue 6).
#include <cstdio>
#include <cstring>

#include "common/version.hpp"

int main(int argc, char** argv) {
  if (argc > 1 && (std::strcmp(argv[1], "--version") == 0 || std::strcmp(argv[1], "version") == 0)) {
    std::printf("weft-cni %.*s\n", static_cast<int>(weft::kVersion.size()), weft::kVersion.data());
    return 0;
  }
  std::fprintf(stderr, "weft-cni: not implemented yet in this build (The CNI plugin (issue 6))\n");
  return 2;
}
