// Build version, shared by every binary's --version and by /report.
#pragma once

#include <string_view>

namespace weft {

inline constexpr std::string_view kVersion = "0.1.0";

}  // namespace weft
