// AddressSet: a set of IPv4 and IPv6 addresses kept as sorted, disjoint, non-adjacent
// inclusive intervals per family — the shape of an nftables interval set, and of the
// arithmetic ipBlock needs (a CIDR minus its exceptions, unions of peers).
//
// Build with AddressSet::Builder (append in any order, then build() sorts and merges once:
// O(n log n) for n pieces), or combine finished sets with union_of(). Equal sets compare
// equal (the representation is canonical), which the compiler uses to share rule groups.
//
// Contract: plain values; thread-compatible; no call throws except on allocation failure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/cidr.hpp"
#include "common/ip_address.hpp"
#include "common/uint128.hpp"

namespace weft::policy {

struct AddressInterval {
  U128 first = 0;
  U128 last = 0;  // inclusive

  friend bool operator==(const AddressInterval&, const AddressInterval&) = default;
};

class AddressSet {
 public:
  class Builder {
   public:
    void add(const IpAddress& address);
    void add(const Cidr& block);
    void add(IpFamily family, AddressInterval interval);
    void add(const AddressSet& set);
    // The block without the excepted blocks (ipBlock semantics).
    void add_except(const Cidr& block, std::span<const Cidr> except);
    AddressSet build() &&;

   private:
    std::vector<AddressInterval> v4_;
    std::vector<AddressInterval> v6_;
  };

  AddressSet() = default;
  static AddressSet of(const IpAddress& address);
  static AddressSet of(const Cidr& block);

  bool contains(const IpAddress& address) const;
  bool empty() const { return v4_.empty() && v6_.empty(); }
  const std::vector<AddressInterval>& intervals(IpFamily family) const {
    return family == IpFamily::kV4 ? v4_ : v6_;
  }
  std::size_t interval_count() const { return v4_.size() + v6_.size(); }
  // Each interval as nftables writes it: "10.0.0.1", "10.0.0.0/24", "10.0.0.3-10.0.0.9".
  std::vector<std::string> to_nft_elements(IpFamily family) const;

  friend bool operator==(const AddressSet&, const AddressSet&) = default;

 private:
  std::vector<AddressInterval> v4_;
  std::vector<AddressInterval> v6_;
};

AddressSet union_of(const AddressSet& a, const AddressSet& b);
AddressSet intersection_of(const AddressSet& a, const AddressSet& b);

// The interval as text for nftables (see to_nft_elements).
std::string nft_element(IpFamily family, AddressInterval interval);

}  // namespace weft::policy
