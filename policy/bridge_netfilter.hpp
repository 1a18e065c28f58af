// Turns on br_netfilter for one bridge only: the per-bridge options nf_call_iptables and
// nf_call_ip6tables (IFLA_BR_NF_CALL_IPTABLES/IP6TABLES over rtnetlink), so that bridged IPv4
// and IPv6 traffic of that bridge reaches the inet family's hooks, and conntrack
// (policy/nft_program.hpp says why). The host's global sysctls and other bridges are left
// as they are.
//
// Contract: blocking, calling thread's network namespace, needs CAP_NET_ADMIN. Errors:
// kNotFound when the bridge does not exist (yet: weftd creates it — a temporary state),
// kUnsupported when the kernel has no br_netfilter (/proc/sys/net/bridge is missing: load
// the module), kIo for other netlink failures.
#pragma once

#include <string_view>

#include "common/result.hpp"

namespace weft::policy {

Result<void> enable_bridge_netfilter(std::string_view bridge);

}  // namespace weft::policy
