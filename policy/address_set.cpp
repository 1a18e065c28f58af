#include "policy/address_set.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace weft::policy {
namespace {

// Sorts and merges overlapping or adjacent intervals in place.
void normalize(std::vector<AddressInterval>& v) {
  std::sort(v.begin(), v.end(), [](const AddressInterval& a, const AddressInterval& b) {
    return a.first < b.first || (a.first == b.first && a.last < b.last);
  });
  std::size_t out = 0;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (out > 0 && (v[i].first <= v[out - 1].last || v[i].first - 1 == v[out - 1].last)) {
      v[out - 1].last = std::max(v[out - 1].last, v[i].last);
    } else {
      v[out++] = v[i];
    }
  }
  v.resize(out);
}

bool contains(const std::vector<AddressInterval>& v, U128 value) {
  auto it = std::upper_bound(v.begin(), v.end(), value,
                             [](U128 x, const AddressInterval& i) { return x < i.first; });
  return it != v.begin() && std::prev(it)->last >= value;
}

std::vector<AddressInterval> merge(const std::vector<AddressInterval>& a,
                                   const std::vector<AddressInterval>& b) {
  std::vector<AddressInterval> out;
  out.reserve(a.size() + b.size());
  std::merge(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out),
             [](const AddressInterval& x, const AddressInterval& y) { return x.first < y.first; });
  normalize(out);
  return out;
}

std::vector<AddressInterval> intersect(const std::vector<AddressInterval>& a,
                                       const std::vector<AddressInterval>& b) {
  std::vector<AddressInterval> out;
  std::size_t i = 0;
  std::size_t j = 0;
  while (i < a.size() && j < b.size()) {
    const U128 first = std::max(a[i].first, b[j].first);
    const U128 last = std::min(a[i].last, b[j].last);
    if (first <= last) {
      out.push_back({first, last});
    }
    if (a[i].last < b[j].last) {
      ++i;
    } else {
      ++j;
    }
  }
  return out;
}

// The prefix length when [first, last] is exactly one CIDR block, else -1.
int block_prefix(int bits, AddressInterval interval) {
  const U128 span = interval.last - interval.first;  // size - 1
  if ((span & (span + 1)) != 0 || (interval.first & span) != 0) {
    return -1;
  }
  int host_bits = 0;
  for (U128 s = span; s != 0; s >>= 1) {
    ++host_bits;
  }
  return bits - host_bits;
}

}  // namespace

void AddressSet::Builder::add(const IpAddress& address) {
  add(address.family(), {address.value(), address.value()});
}

void AddressSet::Builder::add(const Cidr& block) {
  add(block.family(), {block.network().value(), block.last().value()});
}

void AddressSet::Builder::add(IpFamily family, AddressInterval interval) {
  (family == IpFamily::kV4 ? v4_ : v6_).push_back(interval);
}

void AddressSet::Builder::add(const AddressSet& set) {
  v4_.insert(v4_.end(), set.v4_.begin(), set.v4_.end());
  v6_.insert(v6_.end(), set.v6_.begin(), set.v6_.end());
}

void AddressSet::Builder::add_except(const Cidr& block, std::span<const Cidr> except) {
  std::vector<AddressInterval> holes;
  for (const Cidr& e : except) {
    if (e.family() == block.family() && block.overlaps(e)) {
      holes.push_back({std::max(e.network().value(), block.network().value()),
                       std::min(e.last().value(), block.last().value())});
    }
  }
  normalize(holes);
  U128 next = block.network().value();
  const U128 last = block.last().value();
  bool done = false;
  for (const auto& hole : holes) {
    if (hole.first > next) {
      add(block.family(), {next, hole.first - 1});
    }
    if (hole.last == last) {
      done = true;
      break;
    }
    next = hole.last + 1;
  }
  if (!done) {
    add(block.family(), {next, last});
  }
}

AddressSet AddressSet::Builder::build() && {
  AddressSet out;
  normalize(v4_);
  normalize(v6_);
  out.v4_ = std::move(v4_);
  out.v6_ = std::move(v6_);
  return out;
}

AddressSet AddressSet::of(const IpAddress& address) {
  Builder b;
  b.add(address);
  return std::move(b).build();
}

AddressSet AddressSet::of(const Cidr& block) {
  Builder b;
  b.add(block);
  return std::move(b).build();
}

bool AddressSet::contains(const IpAddress& address) const {
  return policy::contains(intervals(address.family()), address.value());
}

std::vector<std::string> AddressSet::to_nft_elements(IpFamily family) const {
  std::vector<std::string> out;
  for (const auto& interval : intervals(family)) {
    out.push_back(nft_element(family, interval));
  }
  return out;
}

AddressSet union_of(const AddressSet& a, const AddressSet& b) {
  AddressSet::Builder builder;
  for (IpFamily f : {IpFamily::kV4, IpFamily::kV6}) {
    for (const auto& i : merge(a.intervals(f), b.intervals(f))) {
      builder.add(f, i);
    }
  }
  return std::move(builder).build();
}

AddressSet intersection_of(const AddressSet& a, const AddressSet& b) {
  AddressSet::Builder builder;
  for (IpFamily f : {IpFamily::kV4, IpFamily::kV6}) {
    for (const auto& i : intersect(a.intervals(f), b.intervals(f))) {
      builder.add(f, i);
    }
  }
  return std::move(builder).build();
}

std::string nft_element(IpFamily family, AddressInterval interval) {
  const IpAddress first = *IpAddress::from_value(family, interval.first);
  if (interval.first == interval.last) {
    return first.to_string();
  }
  const int prefix = block_prefix(family_bits(family), interval);
  if (prefix >= 0) {
    return fmt::format("{}/{}", first.to_string(), prefix);
  }
  return fmt::format("{}-{}", first.to_string(),
                     IpAddress::from_value(family, interval.last)->to_string());
}

}  // namespace weft::policy
