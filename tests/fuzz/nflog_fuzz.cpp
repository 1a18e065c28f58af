// Fuzz target: NFLOG netlink messages (policy/nflog.hpp) as the kernel would send them to
// weft-npc; whatever parses must describe itself.
// fuzz-deps: weft_policy weft_common
#include <cstddef>
#include <cstdint>
#include <span>

#include "policy/nflog.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto packets = weft::policy::parse_nflog(std::span<const std::uint8_t>(data, size));
  if (packets) {
    for (const auto& p : *packets) {
      (void)weft::policy::describe(p);
    }
  }
  return 0;
}
