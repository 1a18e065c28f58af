// Ethernet frames for sleeve tests: IPv4/IPv6 packets with a payload of a given size and a
// marker text at its start. Header-only.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

namespace weft::test {

using Mac6 = std::array<std::uint8_t, 6>;

inline Mac6 test_mac(std::uint8_t n) {
  return {0x02, 0, 0, 0, 0, n};
}
inline constexpr Mac6 kBroadcastMac = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

inline std::vector<std::uint8_t> eth_header(const Mac6& dst, const Mac6& src, std::uint16_t type) {
  std::vector<std::uint8_t> f(dst.begin(), dst.end());
  f.insert(f.end(), src.begin(), src.end());
  f.push_back(static_cast<std::uint8_t>(type >> 8));
  f.push_back(static_cast<std::uint8_t>(type));
  return f;
}

// IPv4 UDP-ish (protocol `proto`) packet of `ip_len` total bytes; payload starts with marker.
inline std::vector<std::uint8_t> ipv4_frame(const Mac6& dst, const Mac6& src,
                                            std::array<std::uint8_t, 4> sip,
                                            std::array<std::uint8_t, 4> dip, std::size_t ip_len,
                                            bool df = true, std::uint8_t proto = 17,
                                            std::string_view marker = "MARKER") {
  auto f = eth_header(dst, src, 0x0800);
  std::vector<std::uint8_t> ip(ip_len, 0);
  ip[0] = 0x45;
  ip[2] = static_cast<std::uint8_t>(ip_len >> 8);
  ip[3] = static_cast<std::uint8_t>(ip_len);
  ip[6] = df ? 0x40 : 0;
  ip[8] = 64;
  ip[9] = proto;
  std::memcpy(&ip[12], sip.data(), 4);
  std::memcpy(&ip[16], dip.data(), 4);
  if (ip_len >= 20 + marker.size()) {
    std::memcpy(&ip[20], marker.data(), marker.size());
  }
  f.insert(f.end(), ip.begin(), ip.end());
  return f;
}

inline std::vector<std::uint8_t> ipv6_frame(const Mac6& dst, const Mac6& src, std::uint8_t src_last,
                                            std::uint8_t dst_last, std::size_t payload_len,
                                            std::uint8_t next = 17) {
  auto f = eth_header(dst, src, 0x86dd);
  std::vector<std::uint8_t> ip(40 + payload_len, 0);
  ip[0] = 0x60;
  ip[4] = static_cast<std::uint8_t>(payload_len >> 8);
  ip[5] = static_cast<std::uint8_t>(payload_len);
  ip[6] = next;
  ip[7] = 64;
  const std::uint8_t prefix[8] = {0xfd, 0x00, 0x00, 0x19, 0, 0, 0, 0};
  std::memcpy(&ip[8], prefix, 8);
  ip[23] = src_last;
  std::memcpy(&ip[24], prefix, 8);
  ip[39] = dst_last;
  f.insert(f.end(), ip.begin(), ip.end());
  return f;
}

}  // namespace weft::test
