// Allocator: the local operations (allocate, claim, release, lookup, rmpeer) and loading.
// The mesh side (rings, messages, donations, tick, status) is in allocator_mesh.cpp.
#include "ipam/allocator.hpp"

#include <boost/asio/this_coro.hpp>

#include "common/log.hpp"

namespace weft::ipam {

Result<FamilyChoice> parse_family_choice(std::string_view text) {
  if (text.empty())
    return FamilyChoice::kDefault;
  if (text == "ipv4")
    return FamilyChoice::kV4;
  if (text == "ipv6")
    return FamilyChoice::kV6;
  if (text == "dual")
    return FamilyChoice::kDual;
  return make_error(Errc::kInvalidArgument, "family must be ipv4, ipv6 or dual, not \"{}\"", text);
}

Allocator::Allocator(AllocatorConfig config, PeerId self, Store& store, Network& network,
                     Clock& clock)
    : config_(std::move(config)),
      self_(self),
      store_(store),
      network_(network),
      clock_(clock),
      bootstrap_(config_.bootstrap, self) {
  for (auto [range, subnet] : {std::pair{config_.range_v4, config_.default_subnet_v4},
                               std::pair{config_.range_v6, config_.default_subnet_v6}}) {
    if (range) {
      Family fam;
      fam.ring = Ring(AddressRange::of(*range));
      fam.default_subnet = subnet.value_or(range->masked());
      fam.owned = {Run{1, 0}};  // a sentinel: the first rebuild always runs
      families_.push_back(std::move(fam));
    }
  }
}

Allocator::Family* Allocator::family(IpFamily f) {
  for (auto& fam : families_) {
    if (fam.ring.family() == f)
      return &fam;
  }
  return nullptr;
}

const Allocator::Family* Allocator::family(IpFamily f) const {
  return const_cast<Allocator*>(this)->family(f);
}

const Ring* Allocator::ring(IpFamily f) const {
  const Family* fam = family(f);
  return fam != nullptr ? &fam->ring : nullptr;
}

U128 Allocator::free_count(IpFamily f) const {
  const Family* fam = family(f);
  return fam != nullptr ? fam->space.count() : 0;
}

bool Allocator::ready() const {
  for (const auto& fam : families_) {
    if (fam.ring.empty())
      return false;
  }
  return !families_.empty();
}

Result<void> Allocator::load() {
  WEFT_TRY(auto state, store_.load());
  for (auto& ring : state.rings) {
    Family* fam = family(ring.family());
    if (fam == nullptr || fam->ring.range() != ring.range()) {
      log::error("ipam: stored ring is for another range; ignoring it",
                 {{"range", ring.range().to_string()}});
      continue;
    }
    fam->ring = std::move(ring);
    if (!fam->ring.empty())
      bootstrap_.ring_arrived();
  }
  for (auto& a : state.allocations) {
    by_address_[a.address.address()] = a.key;
    allocations_[a.key] = a;
  }
  WEFT_TRY_VOID(bootstrap_.restore(state.bootstrap));
  for (auto& fam : families_) {
    if (!fam.ring.empty())
      bootstrap_.ring_arrived();
    rebuild(fam);
  }
  log::info("ipam: loaded", {{"allocations", allocations_.size()}, {"ready", ready()}});
  return {};
}

Result<Run> Allocator::window_of(const Family& fam, const Cidr& subnet) const {
  const AddressRange range = fam.ring.range();
  if (subnet.family() != range.family() || !range.contains(AddressRange::of(subnet))) {
    return make_error(Errc::kInvalidArgument, "ipam: subnet {} is not inside the range {}",
                      subnet.to_string(), range.to_string());
  }
  Run w{subnet.network().value(), subnet.last().value()};
  // IPv4 subnets keep their network and broadcast addresses out of use, IPv6 subnets their
  // subnet-router anycast address (the first one).
  if (subnet.family() == IpFamily::kV4 && subnet.prefix_length() <= 30) {
    ++w.first;
    --w.last;
  } else if (subnet.family() == IpFamily::kV6 && subnet.prefix_length() <= 126) {
    ++w.first;
  }
  return w;
}

Result<Allocation> Allocator::allocate_one(const AllocKey& key, std::optional<Cidr> subnet) {
  Family* fam = family(key.family);
  if (fam == nullptr) {
    return make_error(Errc::kInvalidArgument, "ipam: no {} range configured",
                      family_name(key.family));
  }
  const Cidr sub = subnet ? subnet->masked() : fam->default_subnet;
  if (auto it = allocations_.find(key); it != allocations_.end()) {
    if (sub.contains(it->second.address.address()))
      return it->second;
    return make_error(Errc::kConflict, "ipam: {} {} already holds {} outside {}", key.container,
                      key.ifname, it->second.address.to_string(), sub.to_string());
  }
  WEFT_TRY(const Run window, window_of(*fam, sub));
  if (fam->ring.empty()) {
    return make_error(Errc::kUnavailable, "ipam: the {} ring is not ready (bootstrap: {})",
                      family_name(key.family), status().bootstrap);
  }
  const auto value = fam->space.allocate(window);
  if (!value) {
    request_space(*fam, window);
    return make_error(fam->requested_at ? Errc::kUnavailable : Errc::kExhausted,
                      "ipam: no free {} address in {} here{}", family_name(key.family),
                      sub.to_string(), fam->requested_at ? "; asked a peer for space" : "");
  }
  const auto ip = IpAddress::from_value(key.family, *value).value();
  const Allocation a{key, Cidr::make_host(ip, sub.prefix_length()).value()};
  if (auto stored = store_.add_allocation(a); !stored) {
    fam->space.free(*value);
    ++stats_.store_errors;
    return stored.error();
  }
  allocations_[key] = a;
  by_address_[ip] = key;
  ++stats_.allocations;
  return a;
}

Result<std::vector<Allocation>> Allocator::allocate(std::string_view container,
                                                    std::string_view ifname, FamilyChoice choice,
                                                    std::optional<Cidr> subnet) {
  if (container.empty()) {
    return make_error(Errc::kInvalidArgument, "ipam: empty container id");
  }
  std::vector<IpFamily> wanted;
  if (subnet) {
    wanted.push_back(subnet->family());
  } else if (choice == FamilyChoice::kV4 || choice == FamilyChoice::kV6) {
    wanted.push_back(choice == FamilyChoice::kV4 ? IpFamily::kV4 : IpFamily::kV6);
  } else {
    for (const auto& fam : families_)
      wanted.push_back(fam.ring.family());
    if (choice == FamilyChoice::kDual && wanted.size() != 2) {
      return make_error(Errc::kInvalidArgument, "ipam: dual-stack needs an IPv4 and an IPv6 range");
    }
  }
  std::vector<Allocation> out;
  for (IpFamily f : wanted) {
    WEFT_TRY(auto a,
             allocate_one(AllocKey{std::string(container), std::string(ifname), f}, subnet));
    out.push_back(std::move(a));
  }
  return out;
}

boost::asio::awaitable<Result<std::vector<Allocation>>> Allocator::allocate_wait(
    std::string container, std::string ifname, FamilyChoice family, std::optional<Cidr> subnet,
    Clock::Duration timeout) {
  const auto deadline = clock_.now() + timeout;
  for (;;) {
    auto got = allocate(container, ifname, family, subnet);
    if (got || got.error().code != make_error_code(Errc::kUnavailable) ||
        clock_.now() >= deadline) {
      co_return got;
    }
    const bool slept = co_await clock_.sleep_for(std::chrono::milliseconds(100));
    if (!slept) {
      co_return make_error(Errc::kCancelled, "ipam: allocation cancelled");
    }
  }
}

Result<Allocation> Allocator::claim(std::string_view container, std::string_view ifname,
                                    Cidr address) {
  const IpAddress ip = address.address();
  Family* fam = family(ip.family());
  if (fam == nullptr || !fam->ring.range().contains(ip)) {
    return make_error(Errc::kInvalidArgument, "ipam: {} is outside the allocation range",
                      ip.to_string());
  }
  const AllocKey key{std::string(container), std::string(ifname), ip.family()};
  if (auto it = by_address_.find(ip); it != by_address_.end()) {
    if (it->second == key)
      return allocations_.at(key);
    return make_error(Errc::kConflict, "ipam: {} is held by {}", ip.to_string(),
                      it->second.container);
  }
  if (allocations_.contains(key)) {
    return make_error(Errc::kConflict, "ipam: {} {} already holds {}", container, ifname,
                      allocations_.at(key).address.to_string());
  }
  if (fam->ring.empty()) {
    return make_error(Errc::kUnavailable, "ipam: the ring is not ready");
  }
  if (!fam->space.claim(ip.value())) {
    return make_error(Errc::kConflict, "ipam: {} is owned by peer {:x}", ip.to_string(),
                      fam->ring.owner_of(ip.value()));
  }
  const int prefix =
      address.prefix_length() == address.bit_width() && fam->default_subnet.contains(ip)
          ? fam->default_subnet.prefix_length()
          : address.prefix_length();
  const Allocation a{key, Cidr::make_host(ip, prefix).value()};
  if (auto stored = store_.add_allocation(a); !stored) {
    fam->space.free(ip.value());
    ++stats_.store_errors;
    return stored.error();
  }
  allocations_[key] = a;
  by_address_[ip] = key;
  ++stats_.allocations;
  return a;
}

std::vector<Allocation> Allocator::lookup(std::string_view container) const {
  std::vector<Allocation> out;
  for (auto it = allocations_.lower_bound(AllocKey{std::string(container), "", IpFamily::kV4});
       it != allocations_.end() && it->first.container == container; ++it) {
    out.push_back(it->second);
  }
  return out;
}

std::vector<Allocation> Allocator::list() const {
  std::vector<Allocation> out;
  out.reserve(allocations_.size());
  for (const auto& [key, a] : allocations_)
    out.push_back(a);
  return out;
}

Result<std::size_t> Allocator::release(std::string_view container, std::optional<IpAddress> address,
                                       std::optional<std::string_view> ifname) {
  std::vector<Allocation> gone;
  for (const auto& a : lookup(container)) {
    if (address && a.address.address() != *address)
      continue;
    if (ifname && a.key.ifname != *ifname)
      continue;
    gone.push_back(a);
  }
  if (gone.empty())
    return std::size_t{0};
  WEFT_TRY_VOID(store_.remove_allocations(gone));
  for (const auto& a : gone) {
    allocations_.erase(a.key);
    by_address_.erase(a.address.address());
    Family* fam = family(a.key.family);
    const U128 v = a.address.address().value();
    // Only addresses in our settled space go back; a stray one belongs to its owner now.
    for (const Run& r : fam->owned) {
      if (r.first <= v && v <= r.last)
        fam->space.free(v);
    }
    ++stats_.releases;
  }
  return gone.size();
}

Result<U128> Allocator::rmpeer(PeerId dead) {
  U128 claimed = 0;
  bool any = false;
  for (auto& fam : families_) {
    const auto before = fam.ring.ownership();
    auto tokens = fam.ring.reclaim(self_, dead);
    if (!tokens) {
      if (tokens.error().code == make_error_code(Errc::kInvalidArgument))
        return tokens.error();
      continue;
    }
    any = true;
    claimed += before.at(dead);
    save_ring(fam);
    ring_changed(fam, true);
  }
  if (!any) {
    return make_error(Errc::kNotFound, "ipam: peer {:x} owns no range", dead);
  }
  log::info("ipam: reclaimed a peer's ranges (quarantined until settled)",
            {{"peer", fmt::format("{:x}", dead)}, {"addresses", u128_to_string(claimed)}});
  return claimed;
}

}  // namespace weft::ipam
