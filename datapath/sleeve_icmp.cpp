#include "datapath/sleeve_icmp.hpp"

#include <algorithm>
#include <cstring>

namespace weft::datapath {
namespace {

constexpr std::size_t kEth = 14;
constexpr std::size_t kIpv4QuoteMax = 576 - 28;   // keep the whole answer within 576 bytes
constexpr std::size_t kIpv6QuoteMax = 1280 - 48;  // within the IPv6 minimum MTU

std::uint16_t be16(const std::uint8_t* p) {
  return static_cast<std::uint16_t>(p[0] << 8 | p[1]);
}
void put16(std::uint8_t* p, std::uint32_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
}

void write_eth(std::vector<std::uint8_t>& out, const std::uint8_t* frame, std::uint16_t type) {
  out.resize(kEth);
  std::memcpy(out.data(), frame + 6, 6);  // to the sender
  std::memcpy(out.data() + 6, frame, 6);  // "from" the original destination
  put16(out.data() + 12, type);
}

std::optional<std::vector<std::uint8_t>> ipv4_answer(std::span<const std::uint8_t> ip,
                                                     const std::uint8_t* frame, std::uint32_t mtu) {
  if (ip.size() < 20 || (ip[0] >> 4) != 4) {
    return std::nullopt;
  }
  const std::size_t ihl = (ip[0] & 0x0f) * 4u;
  const std::size_t total = be16(&ip[2]);
  if (ihl < 20 || ip.size() < ihl || total < ihl) {
    return std::nullopt;
  }
  const std::uint16_t frag = be16(&ip[6]);
  if ((frag & 0x4000) == 0 || (frag & 0x1fff) != 0) {
    return std::nullopt;  // no DF (the kernel may fragment) or not the first fragment
  }
  if (ip[12] == 0 || ip[12] >= 224 || ip[16] >= 224) {
    return std::nullopt;  // unspecified/multicast source or multicast destination
  }
  if (ip[9] == 1 && ip.size() >= ihl + 1) {
    const std::uint8_t type = ip[ihl];
    if (type == 3 || type == 4 || type == 5 || type == 11 || type == 12) {
      return std::nullopt;  // never answer an ICMP error
    }
  }
  const std::size_t quote = std::min({ip.size(), total, kIpv4QuoteMax});
  std::vector<std::uint8_t> out;
  write_eth(out, frame, 0x0800);
  out.resize(kEth + 28 + quote, 0);
  std::uint8_t* h = out.data() + kEth;
  h[0] = 0x45;
  put16(h + 2, 28 + quote);
  h[8] = 64;                        // TTL
  h[9] = 1;                         // ICMP
  std::memcpy(h + 12, &ip[16], 4);  // from the original destination
  std::memcpy(h + 16, &ip[12], 4);  // to the original source
  put16(h + 10, checksum_fold(checksum_add({h, 20})) ^ 0xffff);
  std::uint8_t* icmp = h + 20;
  icmp[0] = 3;
  icmp[1] = 4;
  put16(icmp + 6, std::min<std::uint32_t>(mtu, 0xffff));
  std::memcpy(icmp + 8, ip.data(), quote);
  put16(icmp + 2, checksum_fold(checksum_add({icmp, 8 + quote})) ^ 0xffff);
  return out;
}

std::optional<std::vector<std::uint8_t>> ipv6_answer(std::span<const std::uint8_t> ip,
                                                     const std::uint8_t* frame, std::uint32_t mtu) {
  if (ip.size() < 40 || (ip[0] >> 4) != 6) {
    return std::nullopt;
  }
  static constexpr std::uint8_t kZero[16] = {};
  if (ip[8] == 0xff || std::memcmp(&ip[8], kZero, 16) == 0 || ip[24] == 0xff) {
    return std::nullopt;  // multicast/unspecified source, multicast destination
  }
  if (ip[6] == 58 && ip.size() >= 41 && ip[40] < 128) {
    return std::nullopt;  // an ICMPv6 error (only the first next header is looked at)
  }
  const std::size_t quote = std::min(ip.size(), kIpv6QuoteMax);
  const std::size_t icmp_len = 8 + quote;
  std::vector<std::uint8_t> out;
  write_eth(out, frame, 0x86dd);
  out.resize(kEth + 40 + icmp_len, 0);
  std::uint8_t* h = out.data() + kEth;
  h[0] = 0x60;
  put16(h + 4, icmp_len);
  h[6] = 58;                        // ICMPv6
  h[7] = 64;                        // hop limit
  std::memcpy(h + 8, &ip[24], 16);  // from the original destination
  std::memcpy(h + 24, &ip[8], 16);  // to the original source
  std::uint8_t* icmp = h + 40;
  icmp[0] = 2;
  const std::uint32_t m = std::max<std::uint32_t>(mtu, 1280);
  icmp[4] = static_cast<std::uint8_t>(m >> 24);
  icmp[5] = static_cast<std::uint8_t>(m >> 16);
  icmp[6] = static_cast<std::uint8_t>(m >> 8);
  icmp[7] = static_cast<std::uint8_t>(m);
  std::memcpy(icmp + 8, ip.data(), quote);
  // Pseudo header: source, destination, upper-layer length (32 bit), next header 58.
  std::uint8_t pseudo[40] = {};
  std::memcpy(pseudo, h + 8, 32);
  pseudo[34] = static_cast<std::uint8_t>(icmp_len >> 8);
  pseudo[35] = static_cast<std::uint8_t>(icmp_len);
  pseudo[39] = 58;
  const std::uint32_t sum = checksum_add({icmp, icmp_len}, checksum_add(pseudo));
  put16(icmp + 2, checksum_fold(sum) ^ 0xffff);
  return out;
}

}  // namespace

std::uint32_t checksum_add(std::span<const std::uint8_t> data, std::uint32_t initial) {
  std::uint64_t sum = initial;
  std::size_t i = 0;
  for (; i + 1 < data.size(); i += 2) {
    sum += static_cast<std::uint32_t>(data[i] << 8 | data[i + 1]);
  }
  if (i < data.size()) {
    sum += static_cast<std::uint32_t>(data[i] << 8);
  }
  while (sum >> 32) {
    sum = (sum & 0xffffffff) + (sum >> 32);
  }
  return static_cast<std::uint32_t>(sum);
}

std::uint16_t checksum_fold(std::uint32_t sum) {
  while (sum >> 16) {
    sum = (sum & 0xffff) + (sum >> 16);
  }
  return static_cast<std::uint16_t>(sum);
}

std::optional<std::vector<std::uint8_t>> make_too_big_answer(std::span<const std::uint8_t> frame,
                                                             std::uint32_t mtu) {
  if (frame.size() < kEth + 20 || (frame[6] & 1) != 0) {
    return std::nullopt;
  }
  const std::uint16_t type = be16(&frame[12]);
  const auto ip = frame.subspan(kEth);
  if (type == 0x0800) {
    return ipv4_answer(ip, frame.data(), mtu);
  }
  if (type == 0x86dd) {
    return ipv6_answer(ip, frame.data(), mtu);
  }
  return std::nullopt;
}

}  // namespace weft::datapath
