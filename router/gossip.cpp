#include "router/gossip.hpp"

#include <algorithm>
#include <bit>

#include <boost/assert.hpp>

#include "common/log.hpp"

namespace weft::router {
namespace {

// Picks up to `k` distinct elements of `v` at random (partial Fisher-Yates).
std::vector<PeerName> pick(std::vector<PeerName> v, std::size_t k, Rng& rng) {
  k = std::min(k, v.size());
  for (std::size_t i = 0; i < k; ++i) {
    const std::size_t j = i + rng.uniform(v.size() - i);
    std::swap(v[i], v[j]);
  }
  v.resize(k);
  return v;
}

}  // namespace

Gossip::Gossip(MeshLinks& links, Rng& rng) : links_(links), rng_(rng) {}

void Gossip::add_channel(GossipChannel& channel) {
  const bool inserted = channels_.emplace(channel.channel_id(), &channel).second;
  BOOST_ASSERT_MSG(inserted, "two gossip channels with one id");
  (void)inserted;
}

GossipChannel* Gossip::channel(ChannelId id) const {
  auto it = channels_.find(id);
  return it == channels_.end() ? nullptr : it->second;
}

std::size_t Gossip::fanout() const {
  const std::size_t n = std::max<std::size_t>(links_.peer_count(), 1);
  return static_cast<std::size_t>(std::bit_width(n) - 1) + 1;  // floor(log2 n) + 1
}

void Gossip::changed(ChannelId channel) {
  pending_[channel].local = true;
  links_.request_flush();
}

void Gossip::flush() {
  auto pending = std::exchange(pending_, {});
  for (auto& [id, p] : pending) {
    GossipChannel* ch = channel(id);
    if (ch == nullptr) {
      continue;
    }
    std::vector<PeerName> candidates = links_.neighbours();
    // What came from one neighbour alone need not go back to it.
    if (!p.local && p.sources.size() == 1) {
      std::erase(candidates, *p.sources.begin());
    }
    const std::vector<PeerName> chosen = pick(std::move(candidates), fanout(), rng_);
    const auto deltas = ch->take_deltas(chosen);
    for (std::size_t i = 0; i < chosen.size() && i < deltas.size(); ++i) {
      if (deltas[i].empty()) {
        continue;
      }
      auto message =
          encode_message({.type = MessageType::kUpdate, .channel = id, .payload = deltas[i]});
      const std::size_t size = message.size();
      if (links_.send(chosen[i], std::move(message))) {
        ++stats_.updates_sent;
        stats_.update_bytes_sent += size;
      }
    }
  }
}

void Gossip::send_digest(GossipChannel& channel, PeerName to, std::uint8_t flags) {
  const std::vector<std::uint8_t> digest = channel.digest();
  if (links_.send(to, encode_message({.type = MessageType::kDigest,
                                      .channel = channel.channel_id(),
                                      .flags = flags,
                                      .payload = digest}))) {
    ++stats_.digests_sent;
    stats_.digest_bytes_sent += digest.size() + 3;
  }
}

void Gossip::anti_entropy() {
  auto chosen = pick(links_.neighbours(), 1, rng_);
  if (chosen.empty()) {
    return;
  }
  for (auto& [id, ch] : channels_) {
    send_digest(*ch, chosen.front(), kDigestReplyWanted);
  }
}

void Gossip::neighbour_up(PeerName neighbour) {
  for (auto& [id, ch] : channels_) {
    send_digest(*ch, neighbour, 0);
  }
}

void Gossip::handle(PeerName from, const MeshMessage& m) {
  GossipChannel* ch = channel(m.channel);
  if (ch == nullptr) {
    ++stats_.unknown_channel;
    return;
  }
  switch (m.type) {
    case MessageType::kUpdate: {
      ++stats_.updates_received;
      auto news = ch->on_update(from, m.payload);
      if (!news) {
        ++stats_.malformed;
        log::debug(
            "bad gossip update",
            {{"peer", from}, {"channel", ch->channel_name()}, {"error", news.error().to_string()}});
      } else if (*news) {
        pending_[m.channel].sources.insert(from);
        links_.request_flush();
      }
      return;
    }
    case MessageType::kDigest: {
      ++stats_.digests_received;
      auto answer = ch->on_digest(from, m.payload);
      if (!answer) {
        ++stats_.malformed;
        log::debug("bad gossip digest", {{"peer", from},
                                         {"channel", ch->channel_name()},
                                         {"error", answer.error().to_string()}});
        return;
      }
      if (!answer->update.empty() &&
          links_.send(from, encode_message({.type = MessageType::kUpdate,
                                            .channel = m.channel,
                                            .payload = answer->update}))) {
        ++stats_.updates_sent;
        stats_.update_bytes_sent += answer->update.size() + 2;
      }
      if ((m.flags & kDigestReplyWanted) != 0 && answer->peer_has_newer) {
        send_digest(*ch, from, 0);
      }
      return;
    }
    case MessageType::kUnicast:
    case MessageType::kBroadcast:
      route(m.channel, from, m);
      return;
    case MessageType::kHeartbeat:
      return;  // the router's business
  }
}

void Gossip::send_routed(PeerName neighbour, const MeshMessage& m) {
  if (links_.send(neighbour, encode_message(m))) {
    ++stats_.routed_sent;
  } else {
    ++stats_.routed_dropped;
  }
}

void Gossip::route(ChannelId channel, PeerName from, const MeshMessage& m) {
  GossipChannel* ch = this->channel(channel);
  const PeerName self = links_.self();
  if (m.type == MessageType::kUnicast) {
    if (m.dest == self) {
      ch->on_unicast(m.source, m.payload);
      return;
    }
    auto next = links_.next_hop(m.dest);
    if (!next || *next == from || m.hops <= 1) {
      ++stats_.routed_dropped;
      return;
    }
    MeshMessage fwd = m;
    fwd.hops = static_cast<std::uint8_t>(m.hops - 1);
    send_routed(*next, fwd);
    return;
  }
  if (m.source == self) {
    return;  // our own broadcast came back (topologies disagreed): stop it here
  }
  ch->on_broadcast(m.source, m.payload);
  if (m.hops <= 1) {
    return;
  }
  MeshMessage fwd = m;
  fwd.hops = static_cast<std::uint8_t>(m.hops - 1);
  for (PeerName to : links_.broadcast_next_hops(m.source)) {
    if (to != from) {
      send_routed(to, fwd);
    }
  }
}

Result<void> Gossip::unicast(ChannelId channel, PeerName dest, std::vector<std::uint8_t> payload) {
  GossipChannel* ch = this->channel(channel);
  BOOST_ASSERT_MSG(ch != nullptr, "unicast on an unregistered channel");
  if (dest == links_.self()) {
    ch->on_unicast(dest, payload);
    return {};
  }
  auto next = links_.next_hop(dest);
  if (!next) {
    ++stats_.routed_dropped;
    return make_error(Errc::kUnavailable, "no route to peer {}", dest);
  }
  send_routed(*next, {.type = MessageType::kUnicast,
                      .channel = channel,
                      .hops = kMaxHops,
                      .source = links_.self(),
                      .dest = dest,
                      .payload = payload});
  return {};
}

void Gossip::broadcast(ChannelId channel, std::vector<std::uint8_t> payload) {
  const MeshMessage m{.type = MessageType::kBroadcast,
                      .channel = channel,
                      .hops = kMaxHops,
                      .source = links_.self(),
                      .payload = payload};
  for (PeerName to : links_.broadcast_next_hops(links_.self())) {
    send_routed(to, m);
  }
}

}  // namespace weft::router
