// Fuzz target for parse_probe (datapath/fastdp_probe.hpp): accepted frames re-encode to a
// frame that parses to the same value.
// fuzz-deps: weft_datapath
#include <cstddef>
#include <cstdint>
#include <span>

#include "datapath/fastdp_probe.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto f = weft::datapath::parse_probe(std::span<const std::uint8_t>(data, size));
  if (!f) {
    return 0;
  }
  auto again = weft::datapath::parse_probe(weft::datapath::encode_probe(*f));
  if (!again || !(*again == *f)) {
    __builtin_trap();
  }
  return 0;
}
