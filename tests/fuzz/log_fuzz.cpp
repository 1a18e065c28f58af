// Fuzz target: the log line formatter must escape any bytes (values may come from the wire).
// fuzz-deps: weft_common
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/log.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::string line = weft::log::format_line(weft::log::Level::kInfo, text, {{"v", text}});
  // One record is one line: the only newline is the terminator.
  if (line.find('\n') != line.size() - 1) {
    __builtin_trap();
  }
  return 0;
}
