// Netlink: the kernel network configuration weft needs (links, addresses, routes, bridge
// FDB, neighbours), in one network namespace.
//
// Contract:
// - A Netlink object is bound to one network namespace when it is opened and always works
//   there, whatever namespace the calling thread is in. It never changes any thread's
//   namespace after open.
// - Not thread-safe: use one object from one thread at a time (the control thread). Calls
//   are synchronous request/acknowledge exchanges with the kernel (well under a millisecond
//   each); they block the caller for that long.
// - Links are named by interface name. Every operation returns a Result; an Error carries
//   the operation and the object ("create vxlan weft-vx4: File exists") and a code:
//   kAlreadyExists (EEXIST), kNotFound (ENODEV, ENOENT, ESRCH, EADDRNOTAVAIL, a missing
//   link name), kUnsupported (EOPNOTSUPP, EAFNOSUPPORT: e.g. a link kind this kernel does
//   not have), kInvalidArgument (EINVAL, ERANGE, a bad name or config), kConflict
//   (EADDRINUSE), kIo otherwise.
//   Nothing is thrown.
//
// Addresses are common/address.hpp types: an interface address is a Cidr that keeps its
// host bits (Cidr::make_host, parse_host_cidr: 198.19.0.2/24); a route destination is a
// network Cidr (0.0.0.0/0 and ::/0 for default routes).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/address.hpp"
#include "common/netns.hpp"
#include "common/result.hpp"
#include "common/tap.hpp"

namespace weft {

struct VxlanInfo {
  std::uint32_t vni = 0;
  std::uint16_t port = 0;
  std::optional<IpAddress> local;
  bool learning = false;
  int underlay_index = 0;  // 0: not bound to a device
};

struct LinkInfo {
  int index = 0;
  std::string name;
  std::string kind;  // "bridge", "veth", "vxlan", "tun", ...; empty for lo and hardware
  std::uint32_t mtu = 0;
  MacAddress mac;
  bool up = false;       // administratively up (IFF_UP)
  int master_index = 0;  // 0: no master
  std::string master_name;
  std::uint64_t rx_packets = 0;
  std::uint64_t tx_packets = 0;
  std::optional<VxlanInfo> vxlan;  // set when kind == "vxlan"
};

struct VethConfig {
  std::string name;
  std::string peer_name;
  // When set, the peer is created directly inside this namespace (IFLA_NET_NS_FD).
  const Netns* peer_netns = nullptr;
  std::optional<std::uint32_t> mtu;  // both ends
};

struct VxlanConfig {
  std::string name;
  std::uint32_t vni = 0;
  // Underlay source address; its family (or the group's) makes the device IPv4 or IPv6.
  std::optional<IpAddress> local;
  // Multicast group or single remote; weft leaves it unset and uses FDB flood entries.
  std::optional<IpAddress> group;
  std::uint16_t port = 6784;
  std::optional<std::string> underlay_device;
  bool learning = false;
  std::optional<std::uint32_t> mtu;
  // IPv4: checksum outgoing packets. IPv6: checksum outgoing and require it on incoming
  // (off means zero checksums both ways, which peers must also allow).
  bool udp_checksum = true;
};

inline constexpr std::uint32_t kMainTable = 254;

struct Route {
  Cidr dst{};  // default route: 0.0.0.0/0 or ::/0
  std::optional<IpAddress> gateway{};
  std::string device{};      // may be empty when a gateway is given
  std::uint32_t metric = 0;  // 0: kernel default (IPv6: 1024)
  std::uint32_t table = kMainTable;
  friend bool operator==(const Route&, const Route&) = default;
};

enum class FdbMode {
  kAppend,   // add another entry for the same MAC (all-zero flood entries, one per peer)
  kReplace,  // create or replace the one entry for this MAC (static remote MACs)
};

struct FdbEntry {
  MacAddress mac;
  std::optional<IpAddress> dst;  // remote underlay address (VXLAN)
  bool self = false;             // in the device's own table (NTF_SELF), else the bridge's
  bool permanent = false;
  std::string master;  // bridge name for entries in the bridge's table
};

struct Neighbour {
  IpAddress ip;
  MacAddress mac;
  bool permanent = false;
};

class Netlink {
 public:
  virtual ~Netlink() = default;

  // Links. Names must be 1..15 characters without '/', ':' or spaces.
  virtual Result<void> create_bridge(std::string_view name, std::optional<std::uint32_t> mtu) = 0;
  virtual Result<void> create_veth(const VethConfig& config) = 0;
  virtual Result<void> create_vxlan(const VxlanConfig& config) = 0;
  // Any kind that needs no configuration ("bridge", "dummy", "wireguard"...); a kind the
  // kernel does not know gives kUnsupported.
  virtual Result<void> create_link(std::string_view name, std::string_view kind) = 0;
  // A TAP device in this object's namespace; see tap.hpp.
  virtual Result<std::vector<OwnedFd>> create_tap(const TapConfig& config) = 0;
  virtual Result<void> delete_link(std::string_view name) = 0;
  virtual Result<LinkInfo> link_by_name(std::string_view name) = 0;
  virtual Result<std::vector<LinkInfo>> list_links() = 0;
  virtual Result<void> set_up(std::string_view name) = 0;
  virtual Result<void> set_down(std::string_view name) = 0;
  virtual Result<void> set_mtu(std::string_view name, std::uint32_t mtu) = 0;
  virtual Result<void> set_mac(std::string_view name, const MacAddress& mac) = 0;
  // Take the link down first: kernels before 6.x refuse to rename an up link (EBUSY).
  virtual Result<void> rename(std::string_view name, std::string_view new_name) = 0;
  virtual Result<void> set_master(std::string_view name, std::string_view bridge) = 0;
  virtual Result<void> set_nomaster(std::string_view name) = 0;
  // Hairpin mode of a bridge port: frames may leave by the port they came in on.
  virtual Result<void> set_hairpin(std::string_view name, bool on) = 0;
  virtual Result<bool> hairpin(std::string_view name) = 0;
  // Port isolation: an isolated port never forwards to another isolated port of the bridge
  // (weft's VXLAN devices, so that one host does not relay between its two families).
  virtual Result<void> set_isolated(std::string_view name, bool on) = 0;
  // After this the link is gone from this namespace (look it up through one opened there).
  virtual Result<void> move_to_netns(std::string_view name, const Netns& target) = 0;

  // Addresses. IPv6 addresses are added without duplicate address detection (IFA_F_NODAD):
  // IPAM hands out unique addresses and DAD would delay their use by seconds.
  virtual Result<void> add_address(std::string_view link, const Cidr& address) = 0;
  virtual Result<void> del_address(std::string_view link, const Cidr& address) = 0;
  // All addresses of the link, IPv6 link-local ones included.
  virtual Result<std::vector<Cidr>> list_addresses(std::string_view link) = 0;

  // Routes (unicast). add_route fails with kAlreadyExists when the same route exists.
  virtual Result<void> add_route(const Route& route) = 0;
  virtual Result<void> del_route(const Route& route) = 0;
  // Unicast routes of one family (nullopt: both) in `table`, kernel-made prefix routes
  // included. Multipath routes are reported by their first next hop.
  virtual Result<std::vector<Route>> list_routes(std::optional<IpFamily> family,
                                                 std::uint32_t table = kMainTable) = 0;

  // Bridge FDB entries in a device's own table (VXLAN: `bridge fdb append|replace ... self`).
  // Entries are permanent.
  virtual Result<void> add_fdb(std::string_view link, const MacAddress& mac,
                               const std::optional<IpAddress>& dst, FdbMode mode) = 0;
  // `dst` picks one of several entries for the same MAC (flood entries). kNotFound when
  // the MAC has no entry; as in the kernel, a `dst` the MAC does not have is a no-op.
  virtual Result<void> del_fdb(std::string_view link, const MacAddress& mac,
                               const std::optional<IpAddress>& dst) = 0;
  // Entries whose port is `link`, from its own table and its bridge's.
  virtual Result<std::vector<FdbEntry>> list_fdb(std::string_view link) = 0;

  // Permanent IP -> MAC neighbour (ARP/NDP) entries; add replaces an existing entry.
  virtual Result<void> add_neigh(std::string_view link, const IpAddress& ip,
                                 const MacAddress& mac) = 0;
  virtual Result<void> del_neigh(std::string_view link, const IpAddress& ip) = 0;
  virtual Result<std::vector<Neighbour>> list_neigh(std::string_view link) = 0;
};

// Opens a rtnetlink socket inside `ns` (on a helper thread; see netns.hpp). The returned
// object keeps its own handle on `ns`.
Result<std::unique_ptr<Netlink>> open_netlink(const Netns& ns);

}  // namespace weft
