// Allocator: the mesh side: rings (gossip), messages (bootstrap, donations), tick, status.
#include <algorithm>

#include "common/log.hpp"
#include "ipam/allocator.hpp"
#include "ipam/ring_codec.hpp"

namespace weft::ipam {

void Allocator::save_ring(const Family& fam) {
  if (auto saved = store_.save_ring(fam.ring); !saved) {
    ++stats_.store_errors;
    log::error("ipam: storing the ring failed", {{"error", saved.error().to_string()}});
  }
}

void Allocator::rebuild(Family& fam) {
  // Quarantine bookkeeping: our claimed entries, since when we know them.
  std::map<U128, Clock::TimePoint> quarantine;
  for (const auto& [token, e] : fam.ring.entries()) {
    if (e.owner == self_ && (e.flags & Entry::kClaimed) != 0) {
      auto it = fam.quarantine.find(token);
      quarantine[token] = it != fam.quarantine.end() ? it->second : clock_.now();
    }
  }
  fam.quarantine = std::move(quarantine);
  auto owned = fam.ring.owned_by(self_, true);
  if (owned == fam.owned)
    return;
  fam.owned = std::move(owned);
  fam.space.clear();
  for (const Run& r : fam.owned)
    fam.space.add(r);
  for (const auto& [key, a] : allocations_) {
    if (key.family == fam.ring.family())
      fam.space.claim(a.address.address().value());
  }
}

void Allocator::ring_changed(Family& fam, bool gossip) {
  rebuild(fam);
  if (gossip)
    network_.rings_changed();
}

std::vector<std::uint8_t> Allocator::encode_rings() const {
  std::vector<std::uint8_t> out;
  out.push_back(static_cast<std::uint8_t>(families_.size()));
  for (const auto& fam : families_)
    append_ring(out, fam.ring);
  return out;
}

Result<bool> Allocator::merge_rings(std::span<const std::uint8_t> bytes) {
  if (bytes.empty() || bytes[0] > 2) {
    ++stats_.malformed;
    return make_error(Errc::kMalformed, "ipam rings: bad count");
  }
  const std::size_t n = bytes[0];
  bytes = bytes.subspan(1);
  std::vector<Ring> rings;
  for (std::size_t i = 0; i < n; ++i) {
    auto ring = parse_ring_prefix(bytes);
    if (!ring) {
      ++stats_.malformed;
      return ring.error();
    }
    rings.push_back(std::move(*ring));
  }
  if (!bytes.empty()) {
    ++stats_.malformed;
    return make_error(Errc::kMalformed, "ipam rings: trailing bytes");
  }
  bool changed = false;
  std::optional<Error> conflict;
  for (const Ring& ring : rings) {
    Family* fam = family(ring.family());
    if (fam == nullptr)
      continue;  // a family we do not serve
    const bool was_empty = fam->ring.empty();
    const auto mine = fam->ring.owned_by(self_);
    auto merged = fam->ring.merge(ring);
    if (!merged) {
      if (conflict == std::nullopt && stats_.conflicts++ % 100 == 0) {
        log::error(
            "ipam: refusing to merge a ring seeded apart from ours; both keep serving "
            "their own addresses",
            {{"ours", fmt::format("{:016x}", fam->ring.id())},
             {"theirs", fmt::format("{:016x}", ring.id())},
             {"error", merged.error().message}});
      }
      conflict = merged.error();
      continue;
    }
    if (!*merged)
      continue;
    changed = true;
    if (was_empty) {
      bootstrap_.ring_arrived();
      (void)store_.save_bootstrap(bootstrap_.encode_state());
    }
    if (was_empty || fam->ring.owned_by(self_) != mine)
      save_ring(*fam);
    ring_changed(*fam, false);
  }
  if (conflict)
    return *conflict;
  return changed;
}

void Allocator::note_conflict(PeerId from, IpFamily f, std::uint64_t their_id) {
  const Family* fam = family(f);
  if (stats_.conflicts++ % 100 == 0) {
    log::error(
        "ipam: peer serves a ring seeded apart from ours; refusing to merge, both keep "
        "serving their own addresses",
        {{"peer", fmt::format("{:x}", from)},
         {"ours", fmt::format("{:016x}", fam != nullptr ? fam->ring.id() : 0)},
         {"theirs", fmt::format("{:016x}", their_id)}});
  }
}

void Allocator::request_space(Family& fam, Run window) {
  const auto now = clock_.now();
  if (fam.requested_at && now - *fam.requested_at < config_.request_timeout)
    return;
  fam.requested_at.reset();
  std::map<PeerId, std::uint64_t> hints;
  for (const auto& [token, e] : fam.ring.entries()) {
    const Run span = fam.ring.span_of(token);
    if (e.owner == self_ || e.free == 0 || span.last < window.first || span.first > window.last ||
        (e.flags & Entry::kClaimed) != 0) {
      continue;
    }
    hints[e.owner] += e.free;
  }
  PeerId best = kNoPeer;
  std::uint64_t most = 0;
  for (auto [peer, free] : hints) {
    const auto empty = fam.had_nothing.find(peer);
    if (empty != fam.had_nothing.end() && now - empty->second < config_.request_timeout) {
      continue;
    }
    if (free > most && network_.reachable(peer)) {
      best = peer;
      most = free;
    }
  }
  if (best == kNoPeer)
    return;
  Message m{MessageType::kSpaceRequest, {}, fam.ring.family(), window, {}};
  if (network_.unicast(best, encode_message(m))) {
    fam.requested_at = now;
    ++stats_.space_requests;
    log::debug("ipam: asked for space", {{"peer", fmt::format("{:x}", best)}});
  }
}

void Allocator::grant_space(PeerId to, IpFamily f, std::optional<Run> window) {
  Family* fam = family(f);
  Message reply{MessageType::kSpaceGrant, {}, f, {}, {}};
  std::optional<Run> run =
      fam != nullptr && to != self_ ? fam->space.largest_run(window) : std::nullopt;
  if (run) {
    // Keep inside the one entry that holds the run's end, then give its upper half.
    const auto at = fam->ring.entry_at(run->last);
    run->first = std::max(run->first, fam->ring.span_of(at->first).first);
    const Run give{run->last - run->size_minus_one() / 2, run->last};
    const Ring before = fam->ring;
    if (auto done = fam->ring.donate(self_, give, to); done) {
      if (auto saved = store_.save_ring(fam->ring); saved) {
        ++stats_.donations_given;
        fam->ring.update_free(self_, fam->space);
        ring_changed(*fam, true);
        reply.ring = fam->ring;
      } else {
        ++stats_.store_errors;
        fam->ring = before;  // not durable: not given
      }
    }
  }
  network_.unicast(to, encode_message(reply));
}

void Allocator::on_message(PeerId from, std::span<const std::uint8_t> bytes) {
  auto m = parse_message(bytes);
  if (!m) {
    ++stats_.malformed;
    log::debug("ipam: malformed message", {{"error", m.error().message}});
    return;
  }
  switch (m->type) {
    case MessageType::kHello:
      if (bootstrap_.phase() == Bootstrap::Phase::kDone) {
        network_.rings_changed();  // a late initial peer: let it have our rings soon
        return;
      }
      apply(bootstrap_.on_message(from, *m));
      return;
    case MessageType::kPropose:
    case MessageType::kAccept:
    case MessageType::kReject:
      apply(bootstrap_.on_message(from, *m));
      return;
    case MessageType::kSpaceRequest:
      grant_space(from, m->family, m->window);
      return;
    case MessageType::kSpaceGrant: {
      Family* fam = family(m->family);
      if (fam == nullptr)
        return;
      fam->requested_at.reset();
      if (!m->ring) {
        fam->had_nothing[from] = clock_.now();
      } else {
        fam->had_nothing.erase(from);
      }
      if (m->ring) {
        std::vector<std::uint8_t> one{1};
        append_ring(one, *m->ring);
        if (auto merged = merge_rings(one); merged && *merged) {
          ++stats_.donations_received;
          network_.rings_changed();
        }
      }
      return;
    }
  }
}

void Allocator::seed(const std::vector<PeerId>& peers) {
  for (auto& fam : families_) {
    if (!fam.ring.empty())
      continue;
    auto ring = Ring::seeded(fam.ring.range(), peers);
    if (!ring) {
      log::error("ipam: cannot seed the ring", {{"error", ring.error().message}});
      continue;
    }
    fam.ring = std::move(*ring);
    save_ring(fam);
    ring_changed(fam, true);
    log::info("ipam: ring seeded", {{"family", family_name(fam.ring.family())},
                                    {"peers", peers.size()},
                                    {"id", fmt::format("{:016x}", fam.ring.id())}});
  }
}

void Allocator::apply(const BootstrapActions& a) {
  if (a.persist) {
    if (auto saved = store_.save_bootstrap(bootstrap_.encode_state()); !saved) {
      ++stats_.store_errors;
    }
  }
  if (a.broadcast)
    network_.broadcast(encode_message(*a.broadcast));
  for (const auto& [to, m] : a.unicasts)
    network_.unicast(to, encode_message(m));
  if (a.seed)
    seed(*a.seed);
}

void Allocator::tick() {
  apply(bootstrap_.tick());
  const auto now = clock_.now();
  for (auto& fam : families_) {
    bool changed = false;
    for (auto it = fam.quarantine.begin(); it != fam.quarantine.end();) {
      if (now - it->second < config_.settle_delay) {
        ++it;
        continue;
      }
      changed |= fam.ring.settle(self_, it->first);
      it = fam.quarantine.erase(it);
    }
    if (changed)
      save_ring(fam);
    changed |= fam.ring.update_free(self_, fam.space);
    if (changed)
      ring_changed(fam, true);
    if (fam.requested_at && now - *fam.requested_at >= config_.request_timeout) {
      fam.requested_at.reset();
    }
  }
}

std::vector<Allocation> Allocator::stray() const {
  std::vector<Allocation> out;
  for (const auto& [key, a] : allocations_) {
    const Family* fam = family(key.family);
    if (fam != nullptr && fam->ring.owner_of(a.address.address().value()) != self_) {
      out.push_back(a);
    }
  }
  return out;
}

AllocatorStatus Allocator::status() const {
  AllocatorStatus s;
  s.self = self_;
  s.ready = ready();
  static constexpr const char* kPhase[] = {"waiting", "proposing", "done"};
  s.bootstrap = kPhase[static_cast<int>(bootstrap_.phase())];
  for (const auto& fam : families_) {
    RingStatus r;
    r.family = fam.ring.family();
    r.range = fam.ring.range();
    r.id = fam.ring.id();
    r.entries = fam.ring.entries().size();
    r.free_here = fam.space.count();
    for (const auto& [key, a] : allocations_) {
      if (key.family == r.family)
        ++r.allocated;
    }
    const auto hints = fam.ring.free_hints();
    const double total = static_cast<double>(fam.ring.range().size());
    for (auto [peer, owned] : fam.ring.ownership()) {
      r.peers.push_back({peer, owned, static_cast<double>(owned) / total, hints.at(peer),
                         peer == self_ || network_.reachable(peer)});
    }
    s.rings.push_back(std::move(r));
  }
  s.allocations = allocations_.size();
  s.stray = stray().size();
  s.stats = stats_;
  return s;
}

}  // namespace weft::ipam
