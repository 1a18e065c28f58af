#include "common/address.hpp"

#include <cstddef>

namespace weft::detail {

std::string quote_untrusted(std::string_view text) {
  constexpr std::size_t kMaxShown = 64;
  std::string out = "\"";
  const std::size_t shown = text.size() < kMaxShown ? text.size() : kMaxShown;
  for (std::size_t i = 0; i < shown; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += "0123456789abcdef"[c >> 4];
      out += "0123456789abcdef"[c & 0xf];
    }
  }
  if (shown < text.size()) {
    out += "...";
  }
  out += '"';
  return out;
}

}  // namespace weft::detail
