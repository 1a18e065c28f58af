// FakeNetlink: an in-memory Netlink (common/netlink.hpp) for unit tests of code that
// programs the kernel: links with kind, MAC, MTU, up, master, isolation and hairpin;
// interface addresses; routes; the FDB of each device's own table (append/replace/delete
// as the kernel does for VXLAN devices) and the bridge's learnt entries a test adds with
// learn(); neighbours. It keeps the kernel's error codes for the cases weft relies on
// (kAlreadyExists, kNotFound, kInvalidArgument) and can be told to fail the next call of
// one operation (fail_next), so that error paths are tested too.
//
// Not modelled (kUnsupported): TAP devices and moving links between namespaces.
// Contract: single-threaded, like the real one.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/netlink.hpp"

namespace weft::test {

class FakeNetlink final : public Netlink {
 public:
  struct Link {
    LinkInfo info;
    bool isolated = false;
    bool hairpin = false;
    std::vector<Cidr> addresses;
    std::vector<FdbEntry> fdb;  // the device's own table (self) and learnt bridge entries
    std::map<IpAddress, MacAddress> neigh;
  };

  // The next call of `operation` (e.g. "add_fdb") fails with `code`.
  void fail_next(std::string operation, Errc code = Errc::kIo);
  // A MAC learnt by the bridge on port `link` (what the kernel does when a frame arrives).
  void learn(std::string_view link, const MacAddress& mac);
  const Link* find(std::string_view name) const;
  // FDB entries of a device's own table, as "mac dst" strings, sorted (easy to compare).
  std::vector<std::string> fdb_lines(std::string_view link) const;
  std::size_t calls(std::string_view operation) const;

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
  Result<bool> hairpin(std::string_view name) override;
  Result<void> set_isolated(std::string_view name, bool on) override;
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
  Result<void> enter(std::string_view operation);
  Result<Link*> get(std::string_view name, std::string_view operation);
  Result<void> add_link(std::string_view name, std::string_view kind,
                        std::optional<std::uint32_t> mtu);

  std::map<std::string, Link, std::less<>> links_;
  std::vector<Route> routes_;
  std::map<std::string, Errc, std::less<>> failures_;
  std::map<std::string, std::size_t, std::less<>> calls_;
  int next_index_ = 2;  // 1 is lo
};

}  // namespace weft::test
