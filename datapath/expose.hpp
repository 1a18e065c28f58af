// Expose: connects the overlay with the host (`weft expose` / `weft hide`). An exposed CIDR
// puts a host address on the bridge (the host can then reach containers, and containers use
// it as their gateway) and masquerades traffic from that subnet that leaves the overlay, so
// containers reach the outside world with the host's address.
//
// Design note: weft owns one nftables table, `inet weft`, rebuilt atomically from the list
// of exposed subnets on every change (delete + create in one transaction), so a restart or
// a crash never leaves stale rules beside new ones. IP forwarding is switched on in the
// host namespace when something is exposed, as a router must.
//
// Contract: control thread; blocking netlink/nftables calls. expose() of an exposed CIDR
// and hide() of one that is not exposed succeed without change.
#pragma once

#include <string>
#include <vector>

#include "common/cidr.hpp"
#include "common/netlink.hpp"
#include "common/result.hpp"

namespace weft::datapath {

// The nft script for `subnets` (empty: just delete the table). Pure, for tests.
std::string nat_script(const std::vector<Cidr>& subnets, const std::string& bridge);

class Exposer {
 public:
  Exposer(Netlink& netlink, std::string bridge);
  Result<void> expose(const Cidr& address);
  Result<void> hide(const Cidr& address);
  const std::vector<Cidr>& exposed() const { return exposed_; }
  // Removes our table (on shutdown the addresses stay with the bridge).
  void clear_rules();

 private:
  Result<void> apply();
  Netlink& nl_;
  std::string bridge_;
  std::vector<Cidr> exposed_;  // host addresses with their prefix (198.19.0.1/16)
};

}  // namespace weft::datapath
