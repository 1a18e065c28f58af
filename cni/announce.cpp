#include "cni/announce.hpp"

#include <array>
#include <cstring>

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace weft::cni {

namespace {

// An unsolicited neighbour advertisement (override flag, target link-layer address option)
// to all-nodes, from the address itself (it is usable at once: weft adds it without DAD).
Result<void> send_unsolicited_na(int ifindex, const MacAddress& mac, const IpAddress& ip) {
  OwnedFd fd(::socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMPV6));
  if (!fd)
    return errno_error("neighbour advertisement: socket");
  const int hops = 255;
  ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops, sizeof hops);
  ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_MULTICAST_IF, &ifindex, sizeof ifindex);
  const auto addr = ip.bytes();
  sockaddr_in6 from{};
  from.sin6_family = AF_INET6;
  std::memcpy(&from.sin6_addr, addr.data(), 16);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&from), sizeof from) != 0) {
    return errno_error("neighbour advertisement: bind");
  }
  std::array<std::uint8_t, 32> na{};
  na[0] = ND_NEIGHBOR_ADVERT;
  na[4] = 0x20;  // override
  std::memcpy(&na[8], addr.data(), 16);
  na[24] = ND_OPT_TARGET_LINKADDR;
  na[25] = 1;  // 8 bytes
  const auto hw = mac.bytes();
  std::memcpy(&na[26], hw.data(), 6);
  sockaddr_in6 to{};
  to.sin6_family = AF_INET6;
  to.sin6_scope_id = static_cast<std::uint32_t>(ifindex);
  ::inet_pton(AF_INET6, "ff02::1", &to.sin6_addr);
  if (::sendto(fd.get(), na.data(), na.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to) <
      0) {
    return errno_error("neighbour advertisement: send");
  }
  return {};
}

}  // namespace

Result<void> announce_addresses(const Netns& netns, const std::string& ifname,
                                const MacAddress& mac, const std::vector<Cidr>& addresses) {
  return run_in_netns(netns, [&]() -> Result<void> {
    const int ifindex = static_cast<int>(::if_nametoindex(ifname.c_str()));
    if (ifindex == 0)
      return errno_error("announce: " + ifname);
    Result<void> first_error;
    for (const Cidr& c : addresses) {
      if (c.family() != IpFamily::kV6)
        continue;
      auto r = send_unsolicited_na(ifindex, mac, c.address());
      if (!r && first_error)
        first_error = r.error();
    }
    return first_error;
  });
}

}  // namespace weft::cni
