// Fuzz target for parse_npc_status (weftd/npc_status.hpp), weft-npc's /status as weftd
// reads it: never crashes; whatever parses encodes and parses back equal.
// fuzz-deps: weft_weftd
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "weftd/npc_status.hpp"

extern "C" int LLVMFuzzerTestOneInput(  // NOLINT(readability-identifier-naming)
    const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  auto status = weft::weftd::parse_npc_status(body);
  if (!status) {
    return 0;
  }
  auto again = weft::weftd::parse_npc_status(weft::weftd::npc_status_json(*status).dump());
  if (!again || !(*again == *status)) {
    __builtin_trap();
  }
  return 0;
}
