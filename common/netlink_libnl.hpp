// LibnlNetlink: the Netlink implementation over libnl-route 3.7. Private to weft_common
// (netlink*.cpp, tap.cpp); everyone else uses netlink.hpp.
//
// Design note: libnl turns kernel errors into its own lossy codes (EADDRINUSE and EEXIST
// both become NLE_EXIST, most others NLE_FAILURE). We install an error callback on the
// socket that records the kernel's errno and its extended-ack message, so that errors keep
// the real errno ("File exists") and the kernel's reason ("Unknown device type").
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <netlink/addr.h>
#include <netlink/cache.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/neighbour.h>
#include <netlink/route/route.h>

#include "common/netlink.hpp"

namespace weft::nl_detail {

template <class T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const {
    if (p != nullptr) {
      Free(p);
    }
  }
};

using SockPtr = std::unique_ptr<nl_sock, Deleter<nl_sock, nl_socket_free>>;
using LinkPtr = std::unique_ptr<rtnl_link, Deleter<rtnl_link, rtnl_link_put>>;
using AddrPtr = std::unique_ptr<nl_addr, Deleter<nl_addr, nl_addr_put>>;
using CachePtr = std::unique_ptr<nl_cache, Deleter<nl_cache, nl_cache_free>>;
using RtAddrPtr = std::unique_ptr<rtnl_addr, Deleter<rtnl_addr, rtnl_addr_put>>;
using RoutePtr = std::unique_ptr<rtnl_route, Deleter<rtnl_route, rtnl_route_put>>;
using NeighPtr = std::unique_ptr<rtnl_neigh, Deleter<rtnl_neigh, rtnl_neigh_put>>;
using MsgPtr = std::unique_ptr<nl_msg, Deleter<nl_msg, nlmsg_free>>;

// Conversions between our value types and libnl's nl_addr.
AddrPtr to_nl_addr(const IpAddress& ip, int prefix_length);
AddrPtr to_nl_addr(const IpAddress& ip);  // full-length prefix
AddrPtr to_nl_addr(const Cidr& cidr);
AddrPtr to_nl_addr(const MacAddress& mac);
// nullopt when `a` is not a 4- or 16-byte address.
std::optional<IpAddress> ip_from_nl_addr(nl_addr* a);
MacAddress mac_from_nl_addr(nl_addr* a);
int family_of(const IpAddress& ip);

// strerror() text, thread-safe.
std::string errno_text(int err);

// Errc for a kernel errno (see the contract in netlink.hpp).
Errc errc_for_errno(int err);

// Interface names the kernel accepts (1..15 bytes, no '/', ':' or white space).
bool valid_ifname(std::string_view name);

class LibnlNetlink final : public Netlink {
 public:
  static Result<std::unique_ptr<Netlink>> open(const Netns& ns);
  ~LibnlNetlink() override = default;

  Result<void> create_bridge(std::string_view name, std::optional<std::uint32_t> mtu) override;
  Result<void> create_veth(const VethConfig& config) override;
  Result<void> create_vxlan(const VxlanConfig& config) override;
  Result<void> create_link(std::string_view name, std::string_view kind) override;
  Result<std::vector<OwnedFd>> create_tap(const TapConfig& config) override;
  Result<void> delete_link(std::string_view name) override;
  Result<LinkInfo> link_by_name(std::string_view name) override;
  Result<std::vector<LinkInfo>> list_links() override;
  Result<void> set_up(std::string_view name) override;
  Result<void> set_down(std::string_view name) override;
  Result<void> set_mtu(std::string_view name, std::uint32_t mtu) override;
  Result<void> set_mac(std::string_view name, const MacAddress& mac) override;
  Result<void> rename(std::string_view name, std::string_view new_name) override;
  Result<void> set_master(std::string_view name, std::string_view bridge) override;
  Result<void> set_nomaster(std::string_view name) override;
  Result<void> set_hairpin(std::string_view name, bool on) override;
  Result<void> set_isolated(std::string_view name, bool on) override;
  Result<bool> hairpin(std::string_view name) override;
  Result<void> move_to_netns(std::string_view name, const Netns& target) override;

  Result<void> add_address(std::string_view link, const Cidr& address) override;
  Result<void> del_address(std::string_view link, const Cidr& address) override;
  Result<std::vector<Cidr>> list_addresses(std::string_view link) override;

  Result<void> add_route(const Route& route) override;
  Result<void> del_route(const Route& route) override;
  Result<std::vector<Route>> list_routes(std::optional<IpFamily> family,
                                         std::uint32_t table) override;

  Result<void> add_fdb(std::string_view link, const MacAddress& mac,
                       const std::optional<IpAddress>& dst, FdbMode mode) override;
  Result<void> del_fdb(std::string_view link, const MacAddress& mac,
                       const std::optional<IpAddress>& dst) override;
  Result<std::vector<FdbEntry>> list_fdb(std::string_view link) override;

  Result<void> add_neigh(std::string_view link, const IpAddress& ip,
                         const MacAddress& mac) override;
  Result<void> del_neigh(std::string_view link, const IpAddress& ip) override;
  Result<std::vector<Neighbour>> list_neigh(std::string_view link) override;

 private:
  LibnlNetlink(Netns ns, SockPtr sock);
  Result<void> set_port_flag(std::string_view name, int attribute, bool on, std::string_view flag);
  static int on_kernel_error(sockaddr_nl* who, nlmsgerr* err, void* self);

  // Runs one libnl call (returning 0 or a negative NLE code) and turns a failure into an
  // Error "<what>: <reason>" coded from the kernel's errno when there was one.
  Result<void> call(std::string_view what, const std::function<int()>& fn);
  Error failure(std::string_view what, int nl_error);

  // The link object of `name` as the kernel has it; kNotFound when missing.
  Result<LinkPtr> get_link(std::string_view what, std::string_view name);
  Result<int> index_of(std::string_view what, std::string_view name);
  Result<CachePtr> link_cache(std::string_view what, int family);
  // Sends a change (RTM_NEWLINK on an existing index) built by `edit` for link `name`.
  Result<void> change_link(std::string_view what, std::string_view name,
                           const std::function<void(rtnl_link*)>& edit);
  // Adds the new link `link` (NLM_F_CREATE | NLM_F_EXCL) after checking its name.
  Result<void> add_link(std::string_view what, std::string_view name, rtnl_link* link);
  // Dumps `type` (RTM_GETNEIGH...) for `family` and calls `each` on every answer. Used
  // instead of libnl caches where a cache would merge entries (FDB, neighbours).
  Result<void> dump(std::string_view what, int type, int family,
                    const std::function<void(nlmsghdr*)>& each);
  LinkInfo to_link_info(rtnl_link* link, nl_cache* names);

  Netns ns_;
  SockPtr sock_;
  // Written by on_kernel_error during a call, read by failure(); 0 / empty otherwise.
  int kernel_errno_ = 0;
  std::string kernel_message_;
};

}  // namespace weft::nl_detail
