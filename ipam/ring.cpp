#include "ipam/ring.hpp"

#include <algorithm>

#include "ipam/ring_codec.hpp"

namespace weft::ipam {

bool entry_wins(const Entry& a, const Entry& b) {
  if (a.version != b.version) {
    return a.version > b.version;
  }
  if (a.owner != b.owner) {
    return a.owner < b.owner;
  }
  if (a.free != b.free) {
    return a.free > b.free;
  }
  return a.flags < b.flags;
}

namespace {

constexpr std::uint64_t kFnvOffset = 0xcbf29ce484222325ULL;
constexpr std::uint64_t kFnvPrime = 0x100000001b3ULL;

std::uint64_t fnv(std::uint64_t h, U128 v, int bytes) {
  for (int i = 0; i < bytes; ++i) {
    h = (h ^ static_cast<std::uint8_t>(v >> (8 * i))) * kFnvPrime;
  }
  return h;
}

std::uint64_t saturate64(U128 v) {
  return v > U128{UINT64_MAX} ? UINT64_MAX : static_cast<std::uint64_t>(v);
}

}  // namespace

Result<Ring> Ring::seeded(AddressRange range, std::vector<PeerId> peers) {
  std::sort(peers.begin(), peers.end());
  peers.erase(std::unique(peers.begin(), peers.end()), peers.end());
  if (peers.empty() || peers.front() == kNoPeer) {
    return make_error(Errc::kInvalidArgument, "ipam: a ring needs seed peers (none may be 0)");
  }
  if (peers.size() > kMaxEntries || U128{peers.size()} - 1 > range.last_offset()) {
    return make_error(Errc::kInvalidArgument, "ipam: {} seed peers for range {}", peers.size(),
                      range.to_string());
  }
  Ring ring(range);
  std::uint64_t h = fnv(kFnvOffset, static_cast<U128>(range.family()), 1);
  h = fnv(fnv(h, range.first().value(), 16), range.last().value(), 16);
  const U128 first = range.first().value();
  const U128 n = peers.size();
  // Each part is last_offset / n + 1 addresses or so; computed without overflowing 2^128.
  const U128 step = range.last_offset() / n + (range.last_offset() % n + 1 == n ? 1 : 0);
  for (std::size_t i = 0; i < peers.size(); ++i) {
    const U128 token = first + step * i;
    ring.entries_[token] = Entry{peers[i], 1, 0, 0};
    h = fnv(h, peers[i], 8);
  }
  for (auto& [token, e] : ring.entries_) {
    e.free = saturate64(ring.span_of(token).size_minus_one()) + 1;
  }
  ring.id_ = h | 1;
  return ring;
}

Result<Ring> Ring::from_parts(AddressRange range, std::uint64_t id, std::map<U128, Entry> entries) {
  if (entries.size() > kMaxEntries) {
    return make_error(Errc::kMalformed, "ipam ring: {} entries", entries.size());
  }
  if (entries.empty() != (id == 0)) {
    return make_error(Errc::kMalformed, "ipam ring: id {} with {} entries", id, entries.size());
  }
  if (!entries.empty()) {
    if (entries.begin()->first != range.first().value()) {
      return make_error(Errc::kMalformed, "ipam ring: first token is not the range start");
    }
    if (entries.rbegin()->first > range.last().value()) {
      return make_error(Errc::kMalformed, "ipam ring: token past the range end");
    }
  }
  for (const auto& [token, e] : entries) {
    if (e.owner == kNoPeer || e.flags > Entry::kClaimed) {
      return make_error(Errc::kMalformed, "ipam ring: bad entry owner or flags");
    }
  }
  Ring ring(range);
  ring.id_ = id;
  ring.entries_ = std::move(entries);
  return ring;
}

Result<bool> Ring::merge(const Ring& other) {
  if (other.range_ != range_) {
    return make_error(Errc::kConflict, "ipam: ring over {} cannot merge a ring over {}",
                      range_.to_string(), other.range_.to_string());
  }
  if (other.empty()) {
    return false;
  }
  if (empty()) {
    *this = other;
    return true;
  }
  if (other.id_ != id_) {
    return make_error(Errc::kConflict,
                      "ipam: ring {:016x} was seeded apart from ours {:016x} (different "
                      "bootstrap peers); refusing to merge",
                      other.id_, id_);
  }
  bool changed = false;
  for (const auto& [token, e] : other.entries_) {
    auto [it, inserted] = entries_.try_emplace(token, e);
    if (inserted) {
      changed = true;
    } else if (entry_wins(e, it->second)) {
      it->second = e;
      changed = true;
    }
  }
  return changed;
}

Run Ring::span_of(U128 token) const {
  auto it = entries_.upper_bound(token);
  const U128 end = it == entries_.end() ? range_.last().value() : it->first - 1;
  return {token, end};
}

std::optional<std::pair<U128, Entry>> Ring::entry_at(U128 value) const {
  if (entries_.empty() || value < range_.first().value() || value > range_.last().value()) {
    return std::nullopt;
  }
  auto it = std::prev(entries_.upper_bound(value));
  return *it;
}

PeerId Ring::owner_of(U128 value) const {
  auto e = entry_at(value);
  return e ? e->second.owner : kNoPeer;
}

std::vector<Run> Ring::owned_by(PeerId peer, bool settled_only) const {
  std::vector<Run> out;
  for (const auto& [token, e] : entries_) {
    if (e.owner != peer || (settled_only && (e.flags & Entry::kClaimed) != 0)) {
      continue;
    }
    const Run r = span_of(token);
    if (!out.empty() && out.back().last + 1 == r.first) {
      out.back().last = r.last;
    } else {
      out.push_back(r);
    }
  }
  return out;
}

std::map<PeerId, U128> Ring::ownership() const {
  std::map<PeerId, U128> out;
  for (const auto& [token, e] : entries_) {
    const U128 d = span_of(token).size_minus_one();
    U128& n = out[e.owner];
    n = (kU128Max - n <= d) ? kU128Max : n + d + 1;
  }
  return out;
}

std::map<PeerId, std::uint64_t> Ring::free_hints() const {
  std::map<PeerId, std::uint64_t> out;
  for (const auto& [token, e] : entries_) {
    std::uint64_t& n = out[e.owner];
    n = UINT64_MAX - n < e.free ? UINT64_MAX : n + e.free;
  }
  return out;
}

Result<void> Ring::donate(PeerId self, Run run, PeerId to) {
  auto at = entry_at(run.first);
  if (!at || at->second.owner != self || (at->second.flags & Entry::kClaimed) != 0 ||
      run.last < run.first || span_of(at->first).last < run.last || to == kNoPeer) {
    return make_error(Errc::kConflict, "ipam: cannot donate {}..{}: not one settled entry of ours",
                      u128_to_hex(run.first), u128_to_hex(run.last));
  }
  const auto [token, entry] = *at;
  const Run span = span_of(token);
  const std::uint64_t v = entry.version + 1;
  if (run.last < span.last) {
    entries_[run.last + 1] = Entry{self, v, 0, 0};
  }
  const std::uint64_t given =
      saturate64(run.size_minus_one()) + (run.size_minus_one() < UINT64_MAX ? 1 : 0);
  if (run.first > token) {
    entries_[token].version = v;
    entries_[run.first] = Entry{to, v, given, 0};
  } else {
    entries_[token] = Entry{to, v, given, 0};
  }
  return {};
}

bool Ring::update_free(PeerId self, const Space& space) {
  bool changed = false;
  for (auto& [token, e] : entries_) {
    if (e.owner != self || (e.flags & Entry::kClaimed) != 0) {
      continue;
    }
    const std::uint64_t n = saturate64(space.count_in(span_of(token)));
    if (n != e.free) {
      e.free = n;
      ++e.version;
      changed = true;
    }
  }
  return changed;
}

Result<std::vector<U128>> Ring::reclaim(PeerId claimant, PeerId dead) {
  if (claimant == dead || dead == kNoPeer || claimant == kNoPeer) {
    return make_error(Errc::kInvalidArgument, "ipam: a peer cannot reclaim its own ranges");
  }
  std::vector<U128> tokens;
  for (auto& [token, e] : entries_) {
    if (e.owner == dead) {
      e = Entry{claimant, e.version + 1, e.free, Entry::kClaimed};
      tokens.push_back(token);
    }
  }
  if (tokens.empty()) {
    return make_error(Errc::kNotFound, "ipam: peer {:x} owns no range", dead);
  }
  return tokens;
}

bool Ring::settle(PeerId self, U128 token) {
  auto it = entries_.find(token);
  if (it == entries_.end() || it->second.owner != self ||
      (it->second.flags & Entry::kClaimed) == 0) {
    return false;
  }
  it->second.flags = 0;
  ++it->second.version;
  return true;
}

std::uint64_t ring_hash(const Ring& ring) {
  std::uint64_t h = kFnvOffset;
  for (std::uint8_t b : encode_ring(ring)) {
    h = (h ^ b) * kFnvPrime;
  }
  return h;
}

}  // namespace weft::ipam
