// Fuzz target for the address parsers: IpAddress, Cidr (strict and host forms), MacAddress.
// Invariants: parsers never crash; anything accepted formats to text that parses back to
// the same value; IP text is accepted exactly when glibc's inet_pton accepts it, with the
// same bytes.
// fuzz-deps: weft_common
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "common/address.hpp"
#include <arpa/inet.h>

namespace {

void check(bool ok) {
  if (!ok) {
    std::abort();
  }
}

void check_ip(std::string_view text) {
  const auto ip = weft::parse_ip_address(text);
  if (ip) {
    const auto again = weft::parse_ip_address(ip->to_string());
    check(again && *again == *ip);
    check(weft::IpAddress::from_asio(ip->to_asio()) == *ip);
    check(*weft::IpAddress::from_value(ip->family(), ip->value()) == *ip);
  } else {
    check(!ip.error().message.empty());
  }
  // glibc as a second opinion (it needs a C string, so only without NUL bytes).
  if (text.find('\0') == std::string_view::npos) {
    const std::string c_text(text);
    unsigned char bytes[16];
    const bool v4 = inet_pton(AF_INET, c_text.c_str(), bytes) == 1;
    const bool v6 = !v4 && inet_pton(AF_INET6, c_text.c_str(), bytes) == 1;
    check(bool(ip) == (v4 || v6));
    if (ip) {
      check(ip->is_v4() == v4);
      check(std::memcmp(ip->bytes().data(), bytes, ip->bytes().size()) == 0);
    }
  }
}

void check_cidr(std::string_view text) {
  const auto strict = weft::parse_cidr(text);
  const auto host = weft::parse_host_cidr(text);
  if (strict) {
    check(!strict->has_host_bits());
    check(host && *host == *strict);
    const auto again = weft::parse_cidr(strict->to_string());
    check(again && *again == *strict);
    check(strict->contains(strict->network()) && strict->contains(strict->last()));
    check(strict->last_offset() == strict->last().value() - strict->network().value());
  }
  if (host) {
    const auto again = weft::parse_host_cidr(host->to_string());
    check(again && *again == *host);
    check(bool(strict) == !host->has_host_bits());
    check(host->contains(host->address()));
    const auto cidrs = weft::range_to_cidrs(weft::AddressRange::of(*host));
    check(cidrs.size() == 1 && cidrs[0] == host->masked());
  }
}

void check_mac(std::string_view text) {
  const auto mac = weft::parse_mac_address(text);
  if (mac) {
    const auto again = weft::parse_mac_address(mac->to_string());
    check(again && *again == *mac);
    check(*weft::MacAddress::from_uint64(mac->to_uint64()) == *mac);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  check_ip(text);
  check_cidr(text);
  check_mac(text);
  return 0;
}
