#include "router/topology_channel.hpp"

#include <algorithm>

#include "router/gossip_codec.hpp"

namespace weft::router {

TopologyChannel::TopologyChannel(Topology& topology) : topology_(topology) {}

Result<bool> TopologyChannel::on_update(PeerName from, std::span<const std::uint8_t> update) {
  (void)from;
  // Only records with a newer stamp than ours (or naming us: the restart rule looks at
  // those) are built. Like digests, this takes a stamp to identify a record's content.
  auto records = parse_topology_update(update, [this](const RecordStamp& s) {
    if (s.name == topology_.self_name()) {
      return true;
    }
    const PeerRecord* have = topology_.find(s.name);
    return have == nullptr || stamp_newer(s, {have->name, have->version, have->uid});
  });
  if (!records) {
    return records.error();
  }
  auto merged = topology_.merge(*records);
  for (PeerName name : merged.changed) {
    // A new version: whoever sent the previous one does not have this one.
    Sources& s = pending_[name];
    if (name == topology_.self_name()) {
      s = Sources{};  // our bumped record goes to everyone
    } else {
      s.add(from);
    }
  }
  // Others sending us the version we already have pending also have it.
  for (const PeerRecord& r : *records) {
    if (auto it = pending_.find(r.name); it != pending_.end() && r.name != topology_.self_name()) {
      const PeerRecord* have = topology_.find(r.name);
      if (have != nullptr && have->version == r.version && have->uid == r.uid) {
        it->second.add(from);
      }
    }
  }
  return !merged.changed.empty();
}

bool TopologyChannel::Sources::contains(PeerName n) const {
  return std::find(from.begin(), from.begin() + static_cast<std::ptrdiff_t>(count), n) !=
         from.begin() + static_cast<std::ptrdiff_t>(count);
}

void TopologyChannel::Sources::add(PeerName n) {
  if (count < kMaxSources && !contains(n)) {
    from[count++] = n;
  }
}

void TopologyChannel::own_record_changed() {
  pending_[topology_.self_name()] = Sources{};
}

std::vector<const PeerRecord*> TopologyChannel::take_records() {
  std::vector<const PeerRecord*> records;
  records.reserve(pending_.size());
  for (const auto& [name, sources] : pending_) {
    if (const PeerRecord* r = topology_.find(name)) {
      records.push_back(r);
    }
  }
  return records;
}

std::vector<std::uint8_t> TopologyChannel::take_delta() {
  const auto records = take_records();
  pending_.clear();
  if (records.empty()) {
    return {};
  }
  return encode_topology_update(records);
}

std::vector<std::vector<std::uint8_t>> TopologyChannel::take_deltas(std::span<const PeerName> to) {
  std::vector<std::vector<std::uint8_t>> out(to.size());
  const auto records = take_records();
  std::vector<std::uint8_t> everything;  // encoded once for neighbours that lack it all
  for (std::size_t i = 0; i < to.size(); ++i) {
    std::vector<const PeerRecord*> some;
    for (const PeerRecord* r : records) {
      if (!pending_.at(r->name).contains(to[i])) {
        some.push_back(r);
      }
    }
    if (some.size() == records.size()) {
      if (everything.empty() && !records.empty()) {
        everything = encode_topology_update(records);
      }
      out[i] = everything;
    } else if (!some.empty()) {
      out[i] = encode_topology_update(some);
    }
  }
  pending_.clear();
  return out;
}

std::vector<std::uint8_t> TopologyChannel::digest() const {
  const auto stamps = topology_.digest();
  return encode_topology_digest(stamps);
}

Result<DigestAnswer> TopologyChannel::on_digest(PeerName from,
                                                std::span<const std::uint8_t> digest) {
  (void)from;
  auto theirs = parse_topology_digest(digest);
  if (!theirs) {
    return theirs.error();
  }
  const auto ours = topology_.digest();
  const DigestDiff diff = diff_digests(ours, *theirs);
  DigestAnswer answer;
  answer.peer_has_newer = diff.peer_has_newer;
  if (!diff.newer.empty()) {
    std::vector<const PeerRecord*> newer;
    newer.reserve(diff.newer.size());
    for (const std::size_t i : diff.newer) {
      newer.push_back(topology_.find(ours[i].name));
    }
    answer.update = encode_topology_update(newer);
  }
  return answer;
}

}  // namespace weft::router
