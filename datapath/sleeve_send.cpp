// The sending half of the sleeve engine: frames from the TAP (and frames being relayed or
// flooded onward) into per-next-hop batches, sealed into datagrams.
#include <algorithm>

#include "datapath/sleeve.hpp"
#include "datapath/sleeve_icmp.hpp"
#include "datapath/sleeve_peer.hpp"

namespace weft::datapath {

void SleeveEngine::handle_tap_frames(std::span<const std::span<const std::uint8_t>> frames,
                                     SleeveOutput& out) {
  const auto now = config_.clock->now();
  for (auto frame : frames) {
    ++stats_.tap_frames_in;
    if (frame.size() < kMinEthernetFrame || frame.size() > kMaxFrameSize) {
      ++stats_.drop_oversize;
      continue;
    }
    const std::uint64_t dst_mac = frame_dst_mac(frame.data());
    std::optional<std::uint64_t> dst_peer;
    if (!mac_is_multicast(dst_mac)) {
      dst_peer = macs_.lookup(dst_mac, now);
    }
    if (dst_peer && *dst_peer != config_.self) {
      auto hop = routes_.next_hop.find(*dst_peer);
      if (hop != routes_.next_hop.end()) {
        send_frame(config_.self, *dst_peer, 0, frame, hop->second, true, out);
        continue;
      }
    }
    flood(config_.self, 0, frame, 0, true, out);
  }
  flush_all(out);
}

void SleeveEngine::flood(std::uint64_t src, std::uint8_t hops, std::span<const std::uint8_t> frame,
                         std::uint64_t except, bool from_tap, SleeveOutput& out) {
  auto it = routes_.broadcast.find(src);
  if (it == routes_.broadcast.end()) {
    return;
  }
  for (std::uint64_t hop : it->second) {
    if (hop != except && hop != src && hop != config_.self) {
      ++stats_.flooded_frames;
      send_frame(src, kFloodPeer, hops, frame, hop, from_tap, out);
    }
  }
}

void SleeveEngine::send_frame(std::uint64_t src, std::uint64_t dst, std::uint8_t hops,
                              std::span<const std::uint8_t> frame, std::uint64_t next_hop,
                              bool from_tap, SleeveOutput& out) {
  Peer* p = find(next_hop);
  if (p == nullptr || !p->has_endpoint()) {
    ++stats_.drop_no_route;
    return;
  }
  if (frame.size() > p->max_frame()) {
    // Only a unicast frame from our own TAP is answered: its sender is on our bridge.
    if (from_tap && dst != kFloodPeer) {
      const auto mtu = static_cast<std::uint32_t>(p->max_frame() - kMinEthernetFrame);
      if (auto answer = make_too_big_answer(frame, mtu)) {
        out.add_frame() = std::move(*answer);
        ++stats_.icmp_too_big;
        return;
      }
    }
    ++stats_.drop_oversize;
    return;
  }
  const std::size_t record = kFrameRecordHeaderSize + frame.size();
  if (!p->pending.empty() && p->pending.size() + record > kSleeveHeaderSize + p->max_records()) {
    flush(*p, out);
  }
  if (p->pending.empty()) {
    p->pending.resize(kSleeveHeaderSize);
    dirty_.push_back(p);
  }
  append_frame_record(p->pending, src, dst, hops, frame);
}

void SleeveEngine::flush(Peer& p, SleeveOutput& out) {
  if (p.pending.empty()) {
    return;
  }
  seal_into(p, PacketType::kData, p.pending, out);
  p.pending.clear();
}

void SleeveEngine::flush_all(SleeveOutput& out) {
  for (Peer* p : dirty_) {
    flush(*p, out);
  }
  dirty_.clear();
}

// `packet` is a header placeholder || plaintext; seals it and moves it into a new output
// datagram (swapping buffers, so neither side reallocates in the steady state).
void SleeveEngine::seal_into(Peer& p, PacketType type, std::vector<std::uint8_t>& packet,
                             SleeveOutput& out) {
  const std::uint64_t counter = p.tx_counter++;
  encode_header(
      SleeveHeader{.type = type, .receiver_index = p.session.tx_index, .counter = counter},
      std::span<std::uint8_t, kSleeveHeaderSize>(packet.data(), kSleeveHeaderSize));
  p.tx.seal(packet, counter);
  Datagram& d = out.add_datagram();
  d.peer = p.session.endpoint;
  std::swap(d.buffer, packet);
  d.size = d.buffer.size();
  packet.clear();
  ++p.tx_datagrams;
  ++stats_.tx_datagrams;
  stats_.tx_bytes += d.size;
}

void SleeveEngine::send_probe(Peer& p, PacketType type, std::uint32_t id, std::size_t size,
                              SleeveOutput& out) {
  // `size` is the whole datagram; the padded plaintext is what remains after header and tag.
  const std::size_t fixed = kSleeveHeaderSize + p.tx.overhead();
  const std::size_t plain = size > fixed + kProbeRecordSize ? size - fixed : kProbeRecordSize;
  std::vector<std::uint8_t> packet(kSleeveHeaderSize);
  append_probe_record(
      packet,
      ProbeRecord{.sender = config_.self,
                  .id = id,
                  .size = static_cast<std::uint16_t>(std::min<std::size_t>(size, 0xffff))},
      plain);
  seal_into(p, type, packet, out);
  if (type == PacketType::kProbe) {
    ++stats_.probes_sent;
  }
}

}  // namespace weft::datapath
