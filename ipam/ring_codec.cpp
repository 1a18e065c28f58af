#include "ipam/ring_codec.hpp"

#include "ipam/wire.hpp"

namespace weft::ipam {

namespace {
constexpr std::uint8_t kMagic = 'R';
constexpr std::uint8_t kFormat = 1;
constexpr std::size_t kEntryBytesV4 = 4 + 8 * 3 + 1;
}  // namespace

void append_ring(std::vector<std::uint8_t>& out, const Ring& ring) {
  const int w = ring.family() == IpFamily::kV4 ? 4 : 16;
  out.push_back(kMagic);
  out.push_back(kFormat);
  out.push_back(static_cast<std::uint8_t>(ring.family()));
  wire::put(out, ring.range().first().value(), w);
  wire::put(out, ring.range().last().value(), w);
  wire::put(out, ring.id(), 8);
  wire::put(out, ring.entries().size(), 4);
  for (const auto& [token, e] : ring.entries()) {
    wire::put(out, token, w);
    wire::put(out, e.owner, 8);
    wire::put(out, e.version, 8);
    wire::put(out, e.free, 8);
    out.push_back(e.flags);
  }
}

std::vector<std::uint8_t> encode_ring(const Ring& ring) {
  std::vector<std::uint8_t> out;
  out.reserve(64 + ring.entries().size() * 41);
  append_ring(out, ring);
  return out;
}

Result<Ring> parse_ring_prefix(std::span<const std::uint8_t>& bytes) {
  wire::Reader r(bytes);
  std::uint8_t magic = 0, format = 0, family = 0;
  if (!r.get_int(magic) || !r.get_int(format) || !r.get_int(family) || magic != kMagic) {
    return make_error(Errc::kMalformed, "ipam ring: bad header");
  }
  if (format != kFormat) {
    return make_error(Errc::kUnsupported, "ipam ring: format {}", format);
  }
  if (family != 4 && family != 6) {
    return make_error(Errc::kMalformed, "ipam ring: family {}", family);
  }
  const auto fam = static_cast<IpFamily>(family);
  const int w = fam == IpFamily::kV4 ? 4 : 16;
  U128 first = 0, last = 0;
  std::uint64_t id = 0;
  std::uint32_t count = 0;
  if (!r.get(first, w) || !r.get(last, w) || !r.get_int(id) || !r.get_int(count)) {
    return make_error(Errc::kMalformed, "ipam ring: truncated header");
  }
  auto a = IpAddress::from_value(fam, first);
  auto b = IpAddress::from_value(fam, last);
  if (!a || !b) {
    return make_error(Errc::kMalformed, "ipam ring: bad range");
  }
  auto range = AddressRange::make(*a, *b);
  if (!range) {
    return make_error(Errc::kMalformed, "ipam ring: bad range");
  }
  // Each entry takes at least kEntryBytesV4 bytes: reject counts the input cannot hold
  // before allocating anything.
  if (count > Ring::kMaxEntries || r.rest().size() / kEntryBytesV4 < count) {
    return make_error(Errc::kMalformed, "ipam ring: {} entries", count);
  }
  std::map<U128, Entry> entries;
  std::optional<U128> prev;
  for (std::uint32_t i = 0; i < count; ++i) {
    U128 token = 0;
    Entry e;
    if (!r.get(token, w) || !r.get_int(e.owner) || !r.get_int(e.version) || !r.get_int(e.free) ||
        !r.get_int(e.flags)) {
      return make_error(Errc::kMalformed, "ipam ring: truncated entry {}", i);
    }
    if (prev && token <= *prev) {
      return make_error(Errc::kMalformed, "ipam ring: tokens out of order");
    }
    prev = token;
    entries.emplace_hint(entries.end(), token, e);
  }
  bytes = r.rest();
  return Ring::from_parts(*range, id, std::move(entries));
}

Result<Ring> parse_ring(std::span<const std::uint8_t> bytes) {
  auto ring = parse_ring_prefix(bytes);
  if (ring && !bytes.empty()) {
    return make_error(Errc::kMalformed, "ipam ring: {} trailing bytes", bytes.size());
  }
  return ring;
}

}  // namespace weft::ipam
