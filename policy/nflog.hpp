// NFLOG messages of blocked connections: the pure parser of what the kernel sends on a
// NETLINK_NETFILTER socket bound to the program's log group (policy/nft_program.hpp writes
// `log prefix "weft-npc <direction> <namespace> " group N`), the config request that binds
// such a socket, and the log line weft-npc prints.
//
// Contract: pure functions over untrusted bytes (a fuzz target covers parse_nflog); never
// throw; malformed input gives kMalformed, never a partial read past the buffer.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/ip_address.hpp"
#include "common/result.hpp"

namespace weft::policy {

struct LoggedPacket {
  std::string prefix;          // as logged ("weft-npc ingress x ")
  std::string direction;       // from the prefix: "ingress" / "egress" ("" if not ours)
  std::string namespace_name;  // from the prefix; "?" for a pod not classified yet
  std::optional<IpAddress> src;
  std::optional<IpAddress> dst;
  std::uint8_t protocol = 0;   // IP protocol number (after IPv6 extension headers)
  std::uint16_t src_port = 0;  // TCP, UDP, SCTP
  std::uint16_t dst_port = 0;
};

// Every NFULNL_MSG_PACKET in a buffer of netlink messages (other messages are skipped).
Result<std::vector<LoggedPacket>> parse_nflog(std::span<const std::uint8_t> bytes);

// The netlink request that binds a socket to `group` and asks for the first `copy_range`
// bytes of each packet (enough for the IP and transport headers).
std::vector<std::uint8_t> nflog_bind_request(std::uint16_t group, std::uint32_t copy_range,
                                             std::uint32_t sequence);

// "blocked ingress TCP 198.19.0.2:40112 -> 198.19.0.1:81 (policy namespace x)".
std::string describe(const LoggedPacket& packet);

// "tcp", "udp", "sctp" or "other" (the protocol label of weft_npc_blocked_total).
std::string_view protocol_label(std::uint8_t protocol);

}  // namespace weft::policy
