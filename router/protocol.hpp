// The Weft mesh wire format: everything sent on TCP port 6783. This header is the document;
// router/protocol.cpp holds the codecs. Every decoder is a pure function over untrusted
// bytes with a fuzz target (tests/fuzz/protocol_fuzz.cpp, tests/fuzz/handshake_fuzz.cpp).
//
// ==========================================================================================
// 1. Overview
// ==========================================================================================
// A connection has two phases:
//   (a) the plaintext handshake: each side sends one Hello at once (no waiting for the other
//       side), then reads the other side's Hello; both derive session keys (section 3);
//   (b) sealed frames (section 4) in both directions until the connection ends. The first
//       sealed frame each side sends is a Confirm frame (key confirmation); only after a
//       side has received and verified the peer's Confirm does the connection count as up.
// All integers are big-endian unless noted. The "dialer" is the side that opened the TCP
// connection, the "acceptor" the side that accepted it.
//
// ==========================================================================================
// 2. Hello (plaintext; the only message whose layout never changes across versions)
// ==========================================================================================
//   offset size  field
//   0      4     magic "WEFT" (0x57 0x45 0x46 0x54)
//   4      2     body length N: the number of bytes after this field, 57..kMaxHelloBody
//   --- body ---
//   6      2     min_version  lowest protocol version this side speaks (>= 1)
//   8      2     max_version  highest protocol version this side speaks (>= min_version)
//   10     1     flags        bit 0: this side has a password (kHelloFlagPassword)
//                             bit 1: a static public key follows (kHelloFlagStaticKey)
//                             other bits: must be zero
//   11     1     reserved     must be zero
//   12     6     peer name    48-bit persistent identity, non-zero
//   18     8     uid          per-launch identifier, non-zero
//   26     2     listen port  where this side accepts connections, non-zero
//   28     32    ephemeral    X25519 public key, fresh for this connection
//   60     32    static key   X25519 public key; present only when flags bit 1 is set
//   .      1     L            nickname length, 0..64
//   .      L     nickname     UTF-8 without control characters
//   .      2     E            extensions length, 0..kMaxHelloExtensions
//   .      E     extensions   a list of [u8 type][u8 length][length bytes]; version 1
//                             defines no types and ignores the list, later versions add
//                             fields here so that a version-1 peer can still decode their
//                             Hello and answer "no common version".
// The body must be consumed exactly: bytes after the extensions are malformed.
//
// Version negotiation: both sides compute v = min(max_a, max_b); if v < max(min_a, min_b)
// there is no common version and both sides close the connection ("no common protocol
// version: we speak 1..1, peer speaks 2..3"). Otherwise both use v. Weft speaks version 1.
//
// Admission checks after the Hellos, before any key is used (in this order):
//   - peer name equal to ours: "connection to self";
//   - password flags differ: "peer has no password but we require one" / "peer requires a
//     password but we have none";
//   - we have a trusted-keys list and the peer sent no static key, or one not in the list:
//     "untrusted key <base64>".
//
// ==========================================================================================
// 3. Key schedule (version 1)
// ==========================================================================================
//   H   = BLAKE2b-256( "weft transcript v1" || u32 len(hello_d) || hello_d
//                                            || u32 len(hello_a) || hello_a )
//         hello_d / hello_a: the exact Hello bytes (header included) sent by the dialer /
//         the acceptor. Both sides hash the same bytes in the same order.
//   dh1 = X25519(eph_d, eph_a)                              always
//   dh2 = X25519(static_d, eph_a)   only when the dialer's Hello carries a static key
//   dh3 = X25519(eph_d, static_a)   only when the acceptor's Hello carries a static key
//         (each side computes these with its own secret half and the peer's public key;
//         a peer that claims a static key without holding its secret derives other keys)
//   psk = Argon2id(password, salt = BLAKE2b-256("weft password salt v1")[0..16],
//                  interactive limits), derived once at startup; 32 zero bytes when both
//                  sides have no password
//   prk = BLAKE2b-256(key = psk, "weft keys v1" || H || dh1 || dh2? || dh3?)
//   k_da = BLAKE2b-256(key = prk, "weft dialer->acceptor")    dialer's sending key
//   k_ad = BLAKE2b-256(key = prk, "weft acceptor->dialer")    acceptor's sending key
// An X25519 result of all zeros (low-order peer key) aborts the handshake. All-zero psk
// without a password means the link is confidential against passive observers only; it
// is reported as PeerInfo::encrypted == false ("not password-bound").
// Sleeve (UDP data path, datapath/sleeve_wire.hpp) keys, exported per connection:
//   sk_da = BLAKE2b-256(key = k_da, "weft sleeve tx")   dialer -> acceptor packets
//   sk_ad = BLAKE2b-256(key = k_ad, "weft sleeve tx")   acceptor -> dialer packets
//   ix    = BLAKE2b-256(key = k_da, "weft sleeve index" || k_ad)
//   receiver index of the acceptor = u32be(ix[0..4]) | 1, of the dialer = u32be(ix[4..8]) | 1
// Key confirmation: each side's first sealed frame (counter 0) is a Confirm frame whose
// payload is H. If the peer used a different password or faked a static key, its Confirm
// fails to open: "authentication failed (wrong password or key)". (A wrong password and a
// fake static key are indistinguishable here, so the log says both.)
//
// ==========================================================================================
// 4. Sealed frames
// ==========================================================================================
//   offset size  field
//   0      4     C: length of the ciphertext, kMinFrameCiphertext..kMaxFrameCiphertext
//   4      C     ciphertext = ChaCha20-Poly1305-IETF(key = k_da or k_ad by direction,
//                  nonce = 4 zero bytes || u64 little-endian counter,
//                  associated data = the 4 length bytes, plaintext)
// plaintext:
//   0      1     type  1 = Message    payload: one opaque application message (the mesh's;
//                                     0..MessageConn::kMaxMessageSize bytes)
//                      2 = Heartbeat  payload: empty
//                      3 = Close      payload: printable UTF-8 reason, 0..kMaxCloseReason
//                                     bytes; the last frame its sender sends
//                      4 = Confirm    payload: H (32 bytes); exactly once, at counter 0
//   1      ...   payload
// The counter starts at 0 in each direction and increases by one per frame; it is never
// sent. A receiver opens frame i only with counter i, so a replayed, reordered, dropped or
// tampered frame fails authentication; the receiver closes the connection and counts it.
// A length outside the limits closes the connection before any ciphertext is read.
// Heartbeat: once per heartbeat interval (default 10 s) a side that sent nothing for half
// an interval sends a Heartbeat; a side that received no frame at all for `misses`
// intervals (default 3) closes the connection. Both values are local settings, not
// negotiated; peers should use the same interval.
//
// ==========================================================================================
// 5. Gossip payloads: see router/gossip_codec.hpp
// ==========================================================================================
// The payload of a Message frame belongs to the mesh layer (gossip channels, topology,
// IPAM). Its layout is documented in router/gossip_codec.hpp; this header only guarantees
// that it arrives whole, in order, authenticated, and at most kMaxMessageSize bytes.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "router/message_conn.hpp"
#include "router/peer_name.hpp"

namespace weft::router {

inline constexpr std::uint16_t kDefaultPort = 6783;
inline constexpr std::array<std::uint8_t, 4> kHelloMagic = {'W', 'E', 'F', 'T'};
// The protocol versions this build speaks.
inline constexpr std::uint16_t kMinProtocolVersion = 1;
inline constexpr std::uint16_t kMaxProtocolVersion = 1;

inline constexpr std::uint8_t kHelloFlagPassword = 0x01;
inline constexpr std::uint8_t kHelloFlagStaticKey = 0x02;
inline constexpr std::size_t kHelloHeaderSize = 6;
inline constexpr std::size_t kHelloMinBody = 57;
inline constexpr std::size_t kMaxHelloBody = 512;
inline constexpr std::size_t kMaxNickname = 64;
inline constexpr std::size_t kMaxHelloExtensions = 256;

inline constexpr std::size_t kFrameHeaderSize = 4;
inline constexpr std::size_t kAeadOverhead = 16;
inline constexpr std::size_t kMinFrameCiphertext = 1 + kAeadOverhead;
inline constexpr std::size_t kMaxFrameCiphertext = 1 + MessageConn::kMaxMessageSize + kAeadOverhead;
inline constexpr std::size_t kMaxCloseReason = 256;
inline constexpr std::size_t kConfirmSize = 32;

struct Hello {
  std::uint16_t min_version = kMinProtocolVersion;
  std::uint16_t max_version = kMaxProtocolVersion;
  bool password = false;
  PeerName name;
  std::uint64_t uid = 0;
  std::uint16_t listen_port = kDefaultPort;
  PublicKey ephemeral_key{};
  std::optional<PublicKey> static_key;
  std::string nickname;
  std::vector<std::uint8_t> extensions;  // raw extension list (ignored by version 1)

  bool operator==(const Hello&) const = default;
};

// Encodes a Hello; the caller guarantees the field limits documented above (asserted).
std::vector<std::uint8_t> encode_hello(const Hello& hello);
// Validates the 6-byte header (magic, body length bounds) and returns the body length.
Result<std::size_t> decode_hello_header(std::span<const std::uint8_t> header);
// Decodes one complete Hello (header + body, nothing more), validating every field.
Result<Hello> decode_hello(std::span<const std::uint8_t> bytes);

// The highest version both ranges contain; kUnsupported with both ranges in the message
// when there is none.
Result<std::uint16_t> negotiate_version(std::uint16_t our_min, std::uint16_t our_max,
                                        std::uint16_t peer_min, std::uint16_t peer_max);

enum class FrameType : std::uint8_t { kMessage = 1, kHeartbeat = 2, kClose = 3, kConfirm = 4 };

std::array<std::uint8_t, kFrameHeaderSize> encode_frame_header(std::uint32_t ciphertext_size);
// Returns the ciphertext length; kTooLarge above kMaxFrameCiphertext, kMalformed below
// kMinFrameCiphertext or when `header` is not exactly 4 bytes.
Result<std::uint32_t> decode_frame_header(std::span<const std::uint8_t> header);

// An opened frame: its type and a view of its payload (into the decoded plaintext).
struct FrameView {
  FrameType type = FrameType::kMessage;
  std::span<const std::uint8_t> payload;
};
// [type][payload], the frame plaintext.
std::vector<std::uint8_t> encode_frame_plaintext(FrameType type,
                                                 std::span<const std::uint8_t> payload);
// Validates the type and the per-type payload rules (heartbeat empty, close reason UTF-8
// within kMaxCloseReason, confirm exactly kConfirmSize bytes, message within
// kMaxMessageSize).
Result<FrameView> decode_frame_plaintext(std::span<const std::uint8_t> plaintext);

// True when `text` is valid UTF-8 (no overlongs, surrogates or values over U+10FFFF) and
// has no control characters (< 0x20, 0x7f).
bool is_printable_utf8(std::span<const std::uint8_t> text);

}  // namespace weft::router
