// Container attach: connects a network namespace (a container) to a host bridge with a veth
// pair — one end a port of the bridge in the host namespace, the other inside the container
// under the requested name, with MAC, addresses, routes and MTU. Shared by weftd (tests,
// `weft attach`), the CNI plugin and the Docker proxy.
//
// Contract: blocking (a few netlink round trips, under a few ms); any thread; touches only
// the two namespaces it is given, never the caller's. attach() is all-or-nothing: on any
// failure it deletes the veth pair it created (which removes both ends, and the addresses
// and routes with them) and returns the first error. detach() is idempotent: a missing
// interface is success. Errors are netlink errors (see netlink.hpp); kAlreadyExists when the
// container already has an interface of that name or the host one of the host name.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/address.hpp"
#include "common/netlink.hpp"
#include "common/netns.hpp"
#include "common/result.hpp"

namespace weft {

struct AttachSpec {
  const Netns* host_netns = nullptr;       // where the bridge is
  const Netns* container_netns = nullptr;  // the container
  std::string bridge = "weft";
  std::string host_ifname;  // host end, a bridge port (<= 15 chars)
  std::string ifname = "eth0";
  std::optional<MacAddress> mac;  // container end; kernel-chosen when unset
  std::vector<Cidr> addresses;    // container addresses with host bits (198.19.0.2/16)
  std::vector<Route> routes;      // container routes (device defaults to `ifname`)
  std::optional<std::uint32_t> mtu;
  bool hairpin = false;
  // Gratuitous ARP for the IPv4 addresses when the container end comes up, sent by the kernel
  // (arp_notify on the interface): a packet socket of our own would cost an RCU grace period
  // (10-20 ms) on close.
  bool announce = false;
};

struct Attachment {
  std::string host_ifname;
  std::string ifname;
  MacAddress mac;      // of the container end
  int host_index = 0;  // ifindex of the host end
  std::uint32_t mtu = 0;
};

Result<Attachment> attach_container(const AttachSpec& spec);

// Removes `ifname` from the container (the host end goes with it). Success when it is
// already gone.
Result<void> detach_container(const Netns& container_netns, const std::string& ifname);

// Reads back what a container interface has (for CNI CHECK and tests).
struct InterfaceState {
  LinkInfo link;
  std::vector<Cidr> addresses;  // global ones only (no IPv6 link-local)
  std::vector<Route> routes;    // routes through this interface, main table
};
Result<InterfaceState> inspect_interface(const Netns& netns, const std::string& ifname);

}  // namespace weft
