#include "router/peer_name.hpp"

#include "common/hex.hpp"

namespace weft::router {

std::string PeerName::to_string() const {
  return fmt::format("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", (value >> 40) & 0xff,
                     (value >> 32) & 0xff, (value >> 24) & 0xff, (value >> 16) & 0xff,
                     (value >> 8) & 0xff, value & 0xff);
}

Result<PeerName> parse_peer_name(std::string_view text) {
  // Exactly 6 groups of 2 hex digits separated by ':' or '-': 17 characters.
  if (text.size() != 17) {
    return make_error(Errc::kInvalidArgument,
                      "invalid peer name \"{}\": expected aa:bb:cc:dd:ee:ff", text);
  }
  std::uint64_t v = 0;
  for (size_t i = 0; i < 6; ++i) {
    const int hi = hex_value(text[i * 3]);
    const int lo = hex_value(text[i * 3 + 1]);
    if (hi < 0 || lo < 0 || (i < 5 && text[i * 3 + 2] != ':' && text[i * 3 + 2] != '-')) {
      return make_error(Errc::kInvalidArgument,
                        "invalid peer name \"{}\": expected aa:bb:cc:dd:ee:ff", text);
    }
    v = (v << 8) | static_cast<std::uint64_t>(hi * 16 + lo);
  }
  return PeerName{v};
}

}  // namespace weft::router
