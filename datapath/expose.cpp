#include "datapath/expose.hpp"

#include <algorithm>
#include <fstream>

#include "common/log.hpp"
#include "common/nft.hpp"
#include <fmt/format.h>

namespace weft::datapath {

namespace {

std::string network_text(const Cidr& c) {
  return fmt::format("{}/{}", c.network().to_string(), c.prefix_length());
}

bool write_sysctl(const std::string& path) {
  std::ofstream f(path);
  f << "1\n";
  return static_cast<bool>(f);
}

}  // namespace

std::string nat_script(const std::vector<Cidr>& subnets, const std::string& bridge) {
  // `table` before `delete table` makes the delete succeed when the table does not exist.
  std::string s = "table inet weft\ndelete table inet weft\n";
  if (subnets.empty()) {
    return s;
  }
  s += "table inet weft {\n";
  s += "  chain postrouting {\n    type nat hook postrouting priority srcnat; policy accept;\n";
  for (const Cidr& c : subnets) {
    const char* ip = c.family() == IpFamily::kV4 ? "ip" : "ip6";
    s += fmt::format("    {0} saddr {1} {0} daddr != {1} oifname != \"{2}\" masquerade\n", ip,
                     network_text(c), bridge);
  }
  s += "  }\n";
  s += fmt::format(
      "  chain forward {{\n    type filter hook forward priority filter; policy accept;\n"
      "    iifname \"{0}\" accept\n    oifname \"{0}\" ct state established,related accept\n"
      "  }}\n",
      bridge);
  s += "}\n";
  return s;
}

Exposer::Exposer(Netlink& netlink, std::string bridge) : nl_(netlink), bridge_(std::move(bridge)) {}

Result<void> Exposer::apply() {
  std::vector<Cidr> subnets;
  for (const Cidr& c : exposed_) {
    WEFT_TRY(auto net, Cidr::make(c.network(), c.prefix_length()));
    if (std::find(subnets.begin(), subnets.end(), net) == subnets.end()) {
      subnets.push_back(net);
    }
  }
  return nft_run(nat_script(subnets, bridge_));
}

Result<void> Exposer::expose(const Cidr& address) {
  if (std::find(exposed_.begin(), exposed_.end(), address) != exposed_.end()) {
    return {};
  }
  if (auto r = nl_.add_address(bridge_, address);
      !r && r.error().code != make_error_code(Errc::kAlreadyExists)) {
    return r.error();
  }
  exposed_.push_back(address);
  if (auto r = apply(); !r) {
    exposed_.pop_back();
    (void)nl_.del_address(bridge_, address);
    (void)apply();
    return r.error();
  }
  const char* fwd = address.family() == IpFamily::kV4 ? "/proc/sys/net/ipv4/ip_forward"
                                                      : "/proc/sys/net/ipv6/conf/all/forwarding";
  if (!write_sysctl(fwd)) {
    log::warn("cannot enable forwarding", {{"sysctl", fwd}});
  }
  log::info("exposed", {{"address", fmt::format("{}", address)}, {"bridge", bridge_}});
  return {};
}

Result<void> Exposer::hide(const Cidr& address) {
  auto it = std::find(exposed_.begin(), exposed_.end(), address);
  if (it == exposed_.end()) {
    return {};
  }
  exposed_.erase(it);
  if (auto r = nl_.del_address(bridge_, address);
      !r && r.error().code != make_error_code(Errc::kNotFound)) {
    log::warn("cannot remove exposed address", {{"error", r.error().to_string()}});
  }
  WEFT_TRY_VOID(apply());
  log::info("hidden", {{"address", fmt::format("{}", address)}});
  return {};
}

void Exposer::clear_rules() {
  if (auto r = nft_run(nat_script({}, bridge_)); !r) {
    log::warn("cannot remove nftables table", {{"error", r.error().to_string()}});
  }
}

}  // namespace weft::datapath
