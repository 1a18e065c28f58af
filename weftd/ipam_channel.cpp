#include "weftd/ipam_channel.hpp"

#include "ipam/ring.hpp"
#include "ipam/wire.hpp"

namespace weft::weftd {

using router::DigestAnswer;
using router::GossipSender;
using router::kIpamChannel;
using router::PeerName;

void IpamChannel::attach(GossipSender& sender, std::function<bool(PeerName)> reachable) {
  sender_ = &sender;
  reachable_ = std::move(reachable);
}

Result<bool> IpamChannel::on_update(PeerName from, std::span<const std::uint8_t> update) {
  (void)from;
  if (allocator_ == nullptr) {
    return false;
  }
  auto merged = allocator_->merge_rings(update);
  if (!merged && merged.error().code == make_error_code(Errc::kConflict)) {
    return false;  // a ring seeded apart: counted and logged by the allocator, not malformed
  }
  if (merged && *merged) {
    pending_ = true;
  }
  return merged;
}

std::vector<std::uint8_t> IpamChannel::take_delta() {
  if (!pending_ || allocator_ == nullptr) {
    return {};
  }
  pending_ = false;
  return allocator_->encode_rings();
}

std::vector<std::uint8_t> IpamChannel::digest() const {
  std::vector<std::uint8_t> out;
  if (allocator_ == nullptr) {
    return out;
  }
  for (IpFamily f : {IpFamily::kV4, IpFamily::kV6}) {
    if (const ipam::Ring* r = allocator_->ring(f)) {
      out.push_back(static_cast<std::uint8_t>(f));
      ipam::wire::put(out, r->id(), 8);
      ipam::wire::put(out, ipam::ring_hash(*r), 8);
    }
  }
  return out;
}

Result<DigestAnswer> IpamChannel::on_digest(PeerName from, std::span<const std::uint8_t> digest) {
  DigestAnswer answer;
  if (allocator_ == nullptr) {
    return answer;
  }
  if (digest.size() % 17 != 0 || digest.size() > 34) {
    return make_error(Errc::kMalformed, "ipam digest: {} bytes", digest.size());
  }
  bool send = false;
  ipam::wire::Reader r(digest);
  while (!r.done()) {
    std::uint8_t family = 0;
    std::uint64_t id = 0, hash = 0;
    r.get_int(family);
    r.get_int(id);
    r.get_int(hash);
    if (family != 4 && family != 6) {
      return make_error(Errc::kMalformed, "ipam digest: family {}", family);
    }
    const ipam::Ring* ours = allocator_->ring(static_cast<IpFamily>(family));
    if (ours == nullptr || ipam::ring_hash(*ours) == hash) {
      continue;
    }
    if (ours->id() != 0 && id != 0 && ours->id() != id) {
      allocator_->note_conflict(from.value, ours->family(), id);
      continue;
    }
    if (!ours->empty()) {
      send = true;
    }
    if (id != 0) {
      answer.peer_has_newer = true;
    }
  }
  if (send) {
    answer.update = allocator_->encode_rings();
  }
  return answer;
}

void IpamChannel::on_unicast(PeerName source, std::span<const std::uint8_t> payload) {
  if (allocator_ != nullptr) {
    allocator_->on_message(source.value, payload);
  }
}

void IpamChannel::on_broadcast(PeerName source, std::span<const std::uint8_t> payload) {
  on_unicast(source, payload);
}

bool IpamChannel::unicast(ipam::PeerId to, std::vector<std::uint8_t> message) {
  return sender_ != nullptr && sender_->unicast(kIpamChannel, PeerName{to}, std::move(message));
}

void IpamChannel::broadcast(std::vector<std::uint8_t> message) {
  if (sender_ != nullptr) {
    sender_->broadcast(kIpamChannel, std::move(message));
  }
}

void IpamChannel::rings_changed() {
  pending_ = true;
  if (sender_ != nullptr) {
    sender_->changed(kIpamChannel);
  }
}

bool IpamChannel::reachable(ipam::PeerId peer) const {
  return reachable_ && reachable_(PeerName{peer});
}

}  // namespace weft::weftd
