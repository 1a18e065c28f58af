#include "router/topology_channel.hpp"

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
  pending_.insert(merged.changed.begin(), merged.changed.end());
  return !merged.changed.empty();
}

void TopologyChannel::own_record_changed() { pending_.insert(topology_.self_name()); }

std::vector<std::uint8_t> TopologyChannel::take_delta() {
  std::vector<const PeerRecord*> records;
  records.reserve(pending_.size());
  for (PeerName name : pending_) {
    if (const PeerRecord* r = topology_.find(name)) {
      records.push_back(r);
    }
  }
  pending_.clear();
  if (records.empty()) {
    return {};
  }
  return encode_topology_update(records);
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
  // Both sides are sorted by name: walk them together.
  DigestAnswer answer;
  std::vector<const PeerRecord*> newer;
  auto t = theirs->begin();
  for (const auto& [name, record] : topology_.records()) {
    while (t != theirs->end() && t->name < name) {
      answer.peer_has_newer = true;  // they know a peer we do not
      ++t;
    }
    const RecordStamp ours{name, record.version, record.uid};
    if (t == theirs->end() || name < t->name) {
      newer.push_back(&record);
      continue;
    }
    if (stamp_newer(ours, *t)) {
      newer.push_back(&record);
    } else if (stamp_newer(*t, ours)) {
      answer.peer_has_newer = true;
    }
    ++t;
  }
  if (t != theirs->end()) {
    answer.peer_has_newer = true;
  }
  if (!newer.empty()) {
    answer.update = encode_topology_update(newer);
  }
  return answer;
}

}  // namespace weft::router
