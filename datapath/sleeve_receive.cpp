// The receiving half of the sleeve engine: authenticate, check the replay window, then
// deliver, flood onward or relay each frame record, and answer probes.
#include "datapath/sleeve.hpp"
#include "datapath/sleeve_peer.hpp"

namespace weft::datapath {

void SleeveEngine::handle_datagrams(std::span<const Datagram> datagrams, SleeveOutput& out) {
  for (const Datagram& d : datagrams) {
    receive_one(d, out);
  }
  flush_all(out);
}

void SleeveEngine::receive_one(const Datagram& d, SleeveOutput& out) {
  ++stats_.rx_datagrams;
  stats_.rx_bytes += d.size;
  const auto bytes = d.payload();
  auto header = parse_header(bytes);
  if (!header) {
    ++stats_.drop_malformed;
    return;
  }
  auto it = by_rx_index_.find(header->receiver_index);
  if (it == by_rx_index_.end()) {
    ++stats_.drop_unknown_index;
    return;
  }
  Peer& p = *it->second;
  // Check before the costly open, record only after it authenticated.
  if (!p.window.would_accept(header->counter)) {
    ++stats_.drop_replay;
    return;
  }
  if (auto opened = p.rx.open(bytes, header->counter, plain_); !opened) {
    if (opened.error().code == make_error_code(Errc::kAuthFailed)) {
      ++stats_.drop_auth_failed;
    } else {
      ++stats_.drop_malformed;
    }
    return;
  }
  p.window.accept(header->counter);
  p.last_rx = config_.clock->now();
  ++p.rx_datagrams;
  // Roaming (as WireGuard): authenticated traffic tells us where the peer is now.
  if (d.peer.port() != 0 && d.peer != p.session.endpoint) {
    p.session.endpoint = d.peer;
  }
  switch (header->type) {
    case PacketType::kData:
      receive_data(p, plain_, out);
      break;
    case PacketType::kProbe:
    case PacketType::kProbeAck:
      receive_probe(p, header->type, plain_, d.size, out);
      break;
  }
}

void SleeveEngine::receive_data(Peer& from, std::span<const std::uint8_t> plaintext,
                                SleeveOutput& out) {
  auto records = parse_frame_records(plaintext);
  if (!records) {
    ++stats_.drop_malformed;
    return;
  }
  const auto now = config_.clock->now();
  for (const FrameRecord& r : *records) {
    if (r.src_peer == config_.self) {
      ++stats_.drop_hops;  // our own frame came back: a routing loop
      continue;
    }
    if (r.dst_peer == config_.self || r.dst_peer == kFloodPeer) {
      macs_.learn(frame_src_mac(r.frame.data()), r.src_peer, now);
      out.add_frame().assign(r.frame.begin(), r.frame.end());
      ++stats_.tap_frames_out;
      if (r.dst_peer == kFloodPeer) {
        if (r.hops + 1 >= kSleeveMaxHops) {
          ++stats_.drop_hops;
          continue;
        }
        flood(r.src_peer, static_cast<std::uint8_t>(r.hops + 1), r.frame, from.session.peer, false,
              out);
      }
      continue;
    }
    if (r.hops + 1 >= kSleeveMaxHops) {
      ++stats_.drop_hops;
      continue;
    }
    auto hop = routes_.next_hop.find(r.dst_peer);
    if (hop == routes_.next_hop.end() || hop->second == from.session.peer) {
      ++stats_.drop_no_route;
      continue;
    }
    ++stats_.relayed_frames;
    send_frame(r.src_peer, r.dst_peer, static_cast<std::uint8_t>(r.hops + 1), r.frame, hop->second,
               false, out);
  }
}

void SleeveEngine::receive_probe(Peer& from, PacketType type,
                                 std::span<const std::uint8_t> plaintext, std::size_t datagram_size,
                                 SleeveOutput& out) {
  auto probe = parse_probe_record(plaintext);
  if (!probe) {
    ++stats_.drop_malformed;
    return;
  }
  if (type == PacketType::kProbe) {
    // Answer small, naming the size that arrived.
    std::vector<std::uint8_t> packet(kSleeveHeaderSize);
    append_probe_record(packet,
                        ProbeRecord{.sender = config_.self,
                                    .id = probe->id,
                                    .size = static_cast<std::uint16_t>(
                                        std::min<std::size_t>(datagram_size, 0xffff))},
                        kProbeRecordSize);
    seal_into(from, PacketType::kProbeAck, packet, out);
    return;
  }
  ++stats_.probe_acks;
  if (probe->id != 0 && probe->id == from.probe_id) {
    from.probe_id = 0;
    from.probe_misses = 0;
    from.confirmed = config_.clock->now();
    from.lo = std::max(from.lo, std::min<std::size_t>(probe->size, from.hi));
  }
}

}  // namespace weft::datapath
