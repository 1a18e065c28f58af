// Sleeve wire format, version 1: the UDP 6783 datagrams of the userspace data plane.
// (router/protocol.hpp documents the TCP control plane and links here.)
//
//   datagram = header || body
//   header   = 13 bytes, the AEAD associated data:
//     u8  version_type   high nibble: version (1), low nibble: PacketType
//     u32 receiver_index big endian; the receiver's session index for this direction
//     u64 counter        big endian; nonce = 4 zero bytes || little-endian counter (12 bytes)
//   body     = AEAD(suite, key, nonce, ad = header, plaintext) = ciphertext || 16-byte tag
//              (suite "none": the plaintext itself, no tag, no checksum)
//
//   plaintext of kData = one or more frame records, back to back:
//     u48 source peer, u48 destination peer (0 = flood along the source's broadcast tree),
//     u8 hops (incremented by every relay; dropped at kSleeveMaxHops), u8 flags (0),
//     u16 frame length, then the Ethernet frame (14..kMaxFrameSize bytes)
//   plaintext of kProbe / kProbeAck = a probe record:
//     u48 sender peer, u32 probe id, u16 probe size (the whole datagram size of the probe
//     being sent or acknowledged), then zero padding up to the probe size.
//
// Every datagram, probes included, is sealed with the direction's session key and passes the
// receiver's replay window: only a peer holding the session can make the receiver answer.
// All integers big endian. A receiver drops (and counts) anything that does not parse.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "common/result.hpp"

namespace weft::datapath {

inline constexpr std::uint8_t kSleeveVersion = 1;
inline constexpr std::size_t kSleeveHeaderSize = 13;
inline constexpr std::size_t kSleeveTagSize = 16;
inline constexpr std::size_t kFrameRecordHeaderSize = 16;
inline constexpr std::size_t kProbeRecordSize = 12;
inline constexpr std::size_t kMinEthernetFrame = 14;
// Largest Ethernet frame a record carries (jumbo frames; no GSO super-frames yet).
inline constexpr std::size_t kMaxFrameSize = 9216;
inline constexpr std::uint8_t kSleeveMaxHops = 16;
// Destination peer of a frame flooded along the broadcast tree.
inline constexpr std::uint64_t kFloodPeer = 0;

enum class PacketType : std::uint8_t { kData = 1, kProbe = 2, kProbeAck = 3 };

struct SleeveHeader {
  PacketType type = PacketType::kData;
  std::uint32_t receiver_index = 0;
  std::uint64_t counter = 0;
};

struct FrameRecord {
  std::uint64_t src_peer = 0;
  std::uint64_t dst_peer = 0;
  std::uint8_t hops = 0;
  std::span<const std::uint8_t> frame;  // points into the parsed buffer
};

struct ProbeRecord {
  std::uint64_t sender = 0;
  std::uint32_t id = 0;
  std::uint16_t size = 0;
};

// Writes the 13 header bytes.
void encode_header(const SleeveHeader& h, std::span<std::uint8_t, kSleeveHeaderSize> out);
// Fails (kMalformed) on short input, a version other than 1 or an unknown type.
Result<SleeveHeader> parse_header(std::span<const std::uint8_t> datagram);

// Appends one frame record to `out`. The caller keeps frames within kMaxFrameSize.
void append_frame_record(std::vector<std::uint8_t>& out, std::uint64_t src, std::uint64_t dst,
                         std::uint8_t hops, std::span<const std::uint8_t> frame);
// Splits a kData plaintext into records (spans into `plaintext`). Fails (kMalformed) when a
// record is truncated, a frame is shorter than an Ethernet header or longer than
// kMaxFrameSize, a peer is above 48 bits, flags are set, or the plaintext is empty.
Result<std::vector<FrameRecord>> parse_frame_records(std::span<const std::uint8_t> plaintext);

// Appends a probe record padded with zeros so that the plaintext is `padded_size` bytes
// (at least kProbeRecordSize).
void append_probe_record(std::vector<std::uint8_t>& out, const ProbeRecord& p,
                         std::size_t padded_size);
Result<ProbeRecord> parse_probe_record(std::span<const std::uint8_t> plaintext);

}  // namespace weft::datapath
