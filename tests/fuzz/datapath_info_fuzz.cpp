// Fuzz target for parse_datapath_info (datapath/datapath_info.hpp): accepted input must
// re-encode to exactly the same bytes (the encoding is canonical).
// fuzz-deps: weft_datapath
#include <cstddef>
#include <cstdint>
#include <span>

#include "datapath/datapath_info.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> bytes(data, size);
  auto info = weft::datapath::parse_datapath_info(bytes);
  if (!info) {
    return 0;
  }
  const auto again = weft::datapath::encode_datapath_info(*info);
  if (again.size() != size || !std::equal(again.begin(), again.end(), bytes.begin())) {
    __builtin_trap();
  }
  return 0;
}
