// weftd: thin main. The router daemon: gossip mesh, datapaths, IPAM and status page (issues 3-5, 7).
#include <cstdio>
#include <cstring>

#include "common/version.hpp"

int main(int argc, char** argv) {
  if (argc > 1 && (std::strcmp(argv[1], "--version") == 0 || std::strcmp(argv[1], "version") == 0)) {
    std::printf("weftd %.*s\n", static_cast<int>(weft::kVersion.size()), weft::kVersion.data());
    return 0;
  }
  std::fprintf(stderr, "weftd: not implemented yet in this build (The router daemon: gossip mesh, datapaths, IPAM and status page (issues 3-5, 7))\n");
  return 2;
}
