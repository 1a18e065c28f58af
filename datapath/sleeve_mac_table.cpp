#include "datapath/sleeve_mac_table.hpp"

#include <iterator>

namespace weft::datapath {
namespace {

std::uint64_t mac_at(const std::uint8_t* p) {
  std::uint64_t v = 0;
  for (int i = 0; i < 6; ++i) {
    v = (v << 8) | p[i];
  }
  return v;
}

}  // namespace

std::uint64_t frame_dst_mac(const std::uint8_t* frame) {
  return mac_at(frame);
}
std::uint64_t frame_src_mac(const std::uint8_t* frame) {
  return mac_at(frame + 6);
}

bool SleeveMacTable::learn(std::uint64_t mac, std::uint64_t peer, Clock::TimePoint now) {
  if (mac_is_multicast(mac)) {
    return false;
  }
  auto it = entries_.find(mac);
  if (it != entries_.end()) {
    const bool moved = it->second.peer != peer;
    it->second = Entry{peer, now};
    return moved;
  }
  if (entries_.size() >= kMaxEntries && expire(now) == 0) {
    // Full of live entries: drop an arbitrary one (a flood re-learns it).
    entries_.erase(entries_.begin());
  }
  entries_.emplace(mac, Entry{peer, now});
  return true;
}

std::optional<std::uint64_t> SleeveMacTable::lookup(std::uint64_t mac, Clock::TimePoint now) const {
  auto it = entries_.find(mac);
  if (it == entries_.end() || now - it->second.seen > max_age_) {
    return std::nullopt;
  }
  return it->second.peer;
}

void SleeveMacTable::forget_peer(std::uint64_t peer) {
  std::erase_if(entries_, [peer](const auto& kv) { return kv.second.peer == peer; });
}

std::size_t SleeveMacTable::expire(Clock::TimePoint now) {
  return std::erase_if(entries_, [&](const auto& kv) { return now - kv.second.seen > max_age_; });
}

}  // namespace weft::datapath
