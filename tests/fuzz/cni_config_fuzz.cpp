// Fuzz target for the CNI configuration and result parsers (cni/config.hpp,
// cni/cni_result.hpp): stdin of every command, and a prevResult that parses must render
// and parse back to the same value.
// fuzz-deps: weft_cni
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "cni/cni_result.hpp"
#include "cni/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace weft::cni;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (Command c : {Command::kAdd, Command::kDel, Command::kCheck, Command::kStatus, Command::kGc,
                    Command::kVersion}) {
    auto conf = parse_config(text, c);
    if (!conf) {
      if (conf.error().code <= 0 || conf.error().msg.empty())
        __builtin_trap();
      continue;
    }
    if (!conf->prev_result)
      continue;
    auto prev = parse_success(*conf->prev_result);
    if (!prev)
      continue;
    auto again = parse_success(render_success(*prev, SpecVersion::k110, "1.1.0"));
    if (!again || !(*again == *prev))
      __builtin_trap();
  }
  (void)peek_version(text);
  return 0;
}
