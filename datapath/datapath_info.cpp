#include "datapath/datapath_info.hpp"

#include <algorithm>

namespace weft::datapath {

namespace {

constexpr std::uint8_t kVersion = 1;
constexpr std::uint8_t kFastdp = 0x01;
constexpr std::uint8_t kSleeve = 0x02;
constexpr std::uint8_t kSleeveAes = 0x04;

Error malformed(std::string_view what) {
  return make_error(Errc::kMalformed, "malformed datapath info: {}", what);
}

void put16(std::vector<std::uint8_t>& out, std::uint16_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v));
}

void put_mac(std::vector<std::uint8_t>& out, const MacAddress& m) {
  out.insert(out.end(), m.bytes().begin(), m.bytes().end());
}

}  // namespace

std::optional<MacAddress> DatapathInfo::vxlan_mac(IpFamily family) const {
  for (const auto& v : vxlan) {
    if (v.family == family) {
      return v.mac;
    }
  }
  return std::nullopt;
}

std::vector<std::uint8_t> encode_datapath_info(DatapathInfo info) {
  std::sort(info.macs.begin(), info.macs.end());
  info.macs.erase(std::unique(info.macs.begin(), info.macs.end()), info.macs.end());
  if (info.macs.size() > kMaxAdvertisedMacs) {
    info.macs.resize(kMaxAdvertisedMacs);
  }
  std::vector<std::uint8_t> out;
  out.reserve(8 + info.vxlan.size() * 7 + info.macs.size() * 6);
  out.push_back(kVersion);
  out.push_back(static_cast<std::uint8_t>((info.fastdp ? kFastdp : 0) |
                                          (info.sleeve ? kSleeve : 0) |
                                          (info.sleeve_aes ? kSleeveAes : 0)));
  put16(out, info.fastdp_port);
  put16(out, info.sleeve_port);
  out.push_back(static_cast<std::uint8_t>(std::min<std::size_t>(info.vxlan.size(), 2)));
  for (std::size_t i = 0; i < info.vxlan.size() && i < 2; ++i) {
    out.push_back(info.vxlan[i].family == IpFamily::kV4 ? 4 : 6);
    put_mac(out, info.vxlan[i].mac);
  }
  put16(out, static_cast<std::uint16_t>(info.macs.size()));
  for (const auto& m : info.macs) {
    put_mac(out, m);
  }
  return out;
}

Result<DatapathInfo> parse_datapath_info(std::span<const std::uint8_t> bytes) {
  std::size_t pos = 0;
  auto need = [&](std::size_t n) {
    return bytes.size() - pos >= n;
  };
  auto u16 = [&] {
    const auto v = static_cast<std::uint16_t>((bytes[pos] << 8) | bytes[pos + 1]);
    pos += 2;
    return v;
  };
  auto mac = [&] {
    std::array<std::uint8_t, 6> b{};
    std::copy_n(bytes.begin() + static_cast<std::ptrdiff_t>(pos), 6, b.begin());
    pos += 6;
    return MacAddress(b);
  };
  if (!need(7)) {
    return malformed("truncated header");
  }
  if (bytes[0] != kVersion) {
    return make_error(Errc::kUnsupported, "datapath info version {} (we speak {})", bytes[0],
                      kVersion);
  }
  const std::uint8_t flags = bytes[1];
  if ((flags & ~(kFastdp | kSleeve | kSleeveAes)) != 0) {
    return malformed("unknown flags");
  }
  pos = 2;
  DatapathInfo info;
  info.fastdp = (flags & kFastdp) != 0;
  info.sleeve = (flags & kSleeve) != 0;
  info.sleeve_aes = (flags & kSleeveAes) != 0;
  info.fastdp_port = u16();
  info.sleeve_port = u16();
  const std::size_t vx = bytes[pos++];
  if (vx > 2 || !need(vx * 7)) {
    return malformed("bad vxlan device count");
  }
  for (std::size_t i = 0; i < vx; ++i) {
    const std::uint8_t fam = bytes[pos++];
    if (fam != 4 && fam != 6) {
      return malformed("unknown address family");
    }
    const IpFamily family = fam == 4 ? IpFamily::kV4 : IpFamily::kV6;
    if (info.vxlan_mac(family)) {
      return malformed("two vxlan devices of one family");
    }
    info.vxlan.push_back({family, mac()});
  }
  if (!need(2)) {
    return malformed("truncated mac count");
  }
  const std::size_t count = u16();
  if (count > kMaxAdvertisedMacs || !need(count * 6)) {
    return malformed("mac count over the bytes present or the limit");
  }
  info.macs.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    info.macs.push_back(mac());
    if (i > 0 && !(info.macs[i - 1] < info.macs[i])) {
      return malformed("macs not in strictly increasing order");
    }
  }
  if (pos != bytes.size()) {
    return malformed("trailing bytes");
  }
  return info;
}

}  // namespace weft::datapath
