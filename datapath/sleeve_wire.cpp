#include "datapath/sleeve_wire.hpp"

namespace weft::datapath {
namespace {

constexpr std::uint64_t kPeerMask = 0xffff'ffff'ffffULL;

void put_be(std::uint8_t* p, std::uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) {
    p[i] = static_cast<std::uint8_t>(v);
    v >>= 8;
  }
}

std::uint64_t get_be(const std::uint8_t* p, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) {
    v = (v << 8) | p[i];
  }
  return v;
}

void append_be(std::vector<std::uint8_t>& out, std::uint64_t v, int bytes) {
  const std::size_t at = out.size();
  out.resize(at + static_cast<std::size_t>(bytes));
  put_be(out.data() + at, v, bytes);
}

}  // namespace

void encode_header(const SleeveHeader& h, std::span<std::uint8_t, kSleeveHeaderSize> out) {
  out[0] = static_cast<std::uint8_t>((kSleeveVersion << 4) | static_cast<std::uint8_t>(h.type));
  put_be(out.data() + 1, h.receiver_index, 4);
  put_be(out.data() + 5, h.counter, 8);
}

Result<SleeveHeader> parse_header(std::span<const std::uint8_t> datagram) {
  if (datagram.size() < kSleeveHeaderSize) {
    return make_error(Errc::kMalformed, "sleeve datagram of {} bytes is shorter than a header",
                      datagram.size());
  }
  const std::uint8_t version = datagram[0] >> 4;
  const std::uint8_t type = datagram[0] & 0x0f;
  if (version != kSleeveVersion) {
    return make_error(Errc::kMalformed, "sleeve version {} (want {})", version, kSleeveVersion);
  }
  if (type < static_cast<std::uint8_t>(PacketType::kData) ||
      type > static_cast<std::uint8_t>(PacketType::kProbeAck)) {
    return make_error(Errc::kMalformed, "sleeve packet type {}", type);
  }
  SleeveHeader h;
  h.type = static_cast<PacketType>(type);
  h.receiver_index = static_cast<std::uint32_t>(get_be(datagram.data() + 1, 4));
  h.counter = get_be(datagram.data() + 5, 8);
  return h;
}

void append_frame_record(std::vector<std::uint8_t>& out, std::uint64_t src, std::uint64_t dst,
                         std::uint8_t hops, std::span<const std::uint8_t> frame) {
  const std::size_t at = out.size();
  out.resize(at + kFrameRecordHeaderSize + frame.size());
  std::uint8_t* p = out.data() + at;
  put_be(p, src & kPeerMask, 6);
  put_be(p + 6, dst & kPeerMask, 6);
  p[12] = hops;
  p[13] = 0;
  put_be(p + 14, frame.size(), 2);
  std::copy(frame.begin(), frame.end(), p + kFrameRecordHeaderSize);
}

Result<std::vector<FrameRecord>> parse_frame_records(std::span<const std::uint8_t> plaintext) {
  std::vector<FrameRecord> records;
  if (plaintext.empty()) {
    return make_error(Errc::kMalformed, "empty sleeve data packet");
  }
  std::size_t off = 0;
  while (off < plaintext.size()) {
    if (plaintext.size() - off < kFrameRecordHeaderSize) {
      return make_error(Errc::kMalformed, "truncated frame record header at {}", off);
    }
    const std::uint8_t* p = plaintext.data() + off;
    if (p[13] != 0) {
      return make_error(Errc::kMalformed, "frame record flags {:#x}", p[13]);
    }
    const std::size_t len = get_be(p + 14, 2);
    if (len < kMinEthernetFrame || len > kMaxFrameSize) {
      return make_error(Errc::kMalformed, "frame of {} bytes", len);
    }
    if (plaintext.size() - off - kFrameRecordHeaderSize < len) {
      return make_error(Errc::kMalformed, "truncated frame at {}", off);
    }
    records.push_back(FrameRecord{.src_peer = get_be(p, 6),
                                  .dst_peer = get_be(p + 6, 6),
                                  .hops = p[12],
                                  .frame = plaintext.subspan(off + kFrameRecordHeaderSize, len)});
    off += kFrameRecordHeaderSize + len;
  }
  return records;
}

void append_probe_record(std::vector<std::uint8_t>& out, const ProbeRecord& p,
                         std::size_t padded_size) {
  const std::size_t at = out.size();
  append_be(out, p.sender & kPeerMask, 6);
  append_be(out, p.id, 4);
  append_be(out, p.size, 2);
  if (out.size() - at < padded_size) {
    out.resize(at + padded_size, 0);
  }
}

Result<ProbeRecord> parse_probe_record(std::span<const std::uint8_t> plaintext) {
  if (plaintext.size() < kProbeRecordSize) {
    return make_error(Errc::kMalformed, "probe record of {} bytes", plaintext.size());
  }
  return ProbeRecord{.sender = get_be(plaintext.data(), 6),
                     .id = static_cast<std::uint32_t>(get_be(plaintext.data() + 6, 4)),
                     .size = static_cast<std::uint16_t>(get_be(plaintext.data() + 10, 2))};
}

}  // namespace weft::datapath
