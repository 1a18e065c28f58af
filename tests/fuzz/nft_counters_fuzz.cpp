// Fuzz target: nfnetlink answers to weft-npc's counter dump (policy/nft_counters.hpp), as the
// kernel would send them.
// fuzz-deps: weft_policy weft_common
#include <cstddef>
#include <cstdint>
#include <span>

#include "policy/nft_counters.hpp"

// NOLINTNEXTLINE(readability-identifier-naming): libFuzzer's entry point
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  weft::policy::CounterDump dump;
  (void)weft::policy::parse_counter_dump(std::span<const std::uint8_t>(data, size), dump);
  return 0;
}
