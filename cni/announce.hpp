// Unsolicited neighbour advertisements for a container's new IPv6 addresses, so that peers
// that cached an old MAC for a reused address learn the new one at once instead of after
// the neighbour cache times out. (IPv4's gratuitous ARP is sent by the kernel: AttachSpec's
// `announce` sets arp_notify, which costs no packet socket.)
//
// Contract: blocking; runs on a short-lived thread inside `netns`; best effort (an error
// says which address could not be announced; nothing is left behind either way).
#pragma once

#include <string>
#include <vector>

#include "common/address.hpp"
#include "common/netns.hpp"
#include "common/result.hpp"

namespace weft::cni {

Result<void> announce_addresses(const Netns& netns, const std::string& ifname,
                                const MacAddress& mac, const std::vector<Cidr>& addresses);

}  // namespace weft::cni
