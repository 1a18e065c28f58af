// Answers for frames too big for a sleeve peer's path MTU: ICMP "fragmentation needed"
// (IPv4, type 3 code 4, with the next-hop MTU, RFC 1191) or ICMPv6 "packet too big" (type 2,
// RFC 8201), written back into the TAP toward the sender so that its kernel lowers its path
// MTU instead of the packet vanishing.
//
// Design note: the answer claims to come from the original destination address (the sleeve
// is a layer-2 device with no address of its own, as in Weave's sleeve); kernels accept it
// because they match the quoted header. Ethernet addresses are swapped.
//
// Contract: pure functions of the frame bytes (untrusted; never read past them). Return
// nullopt when no answer is due: not IPv4/IPv6, malformed, IPv4 without DF or a non-first
// fragment, the original is itself an ICMP(v6) error, or the source is unspecified or
// multicast. `mtu` is the largest IP packet (not frame) that fits.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace weft::datapath {

std::optional<std::vector<std::uint8_t>> make_too_big_answer(std::span<const std::uint8_t> frame,
                                                             std::uint32_t mtu);

// RFC 1071 ones' complement sum of `data`, folded, starting from `initial` (not inverted).
std::uint32_t checksum_add(std::span<const std::uint8_t> data, std::uint32_t initial = 0);
std::uint16_t checksum_fold(std::uint32_t sum);

}  // namespace weft::datapath
