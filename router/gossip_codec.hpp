// Mesh message encodings: what routers say to each other inside an authenticated
// MessageConn (router/protocol.hpp covers the framing and crypto around each message).
// Pure functions; the parsers take untrusted bytes (fuzzed by tests/fuzz/gossip_fuzz.cpp).
//
// Wire format. All integers are unsigned, big-endian. name = 6-byte peer name (48 bits,
// never zero). A message is one MessageConn message:
//
//   Message    = type:u8 body
//
//   type 0x01  HEARTBEAT  body = flags:u8
//                           flags bit 0: the sender still counts the connection as pending
//                           and asks for a heartbeat back. Other bits: ignored.
//   type 0x02  UPDATE     body = channel:u8 payload:*
//                           a delta of the channel's state, merged by the receiver.
//   type 0x03  DIGEST     body = channel:u8 flags:u8 payload:*
//                           a summary of the sender's state (anti-entropy). The receiver
//                           answers with an UPDATE of what it has newer; flags bit 0 (reply
//                           wanted): the receiver also sends its own DIGEST (without bit 0)
//                           when the sender has something it lacks.
//   type 0x04  UNICAST    body = channel:u8 hops:u8 source:name dest:name payload:*
//                           routed hop by hop along unicast routes to `dest`; `hops` is the
//                           hop budget left (start kMaxHops); dropped when it reaches zero.
//   type 0x05  BROADCAST  body = channel:u8 hops:u8 source:name payload:*
//                           delivered to every peer along `source`'s broadcast tree.
//
//   Unknown types are rejected (the receiver counts and drops them). `payload:*` runs to
//   the end of the message. Channels: 1 = topology, 2 = IPAM, 3 = NetworkPolicy summaries
//   (weftd/policy_channel.hpp).
//
// Topology channel (1) payloads:
//
//   Update     = count:u32 Record{count}
//   Record     = name:name uid:u64 version:u64 nick_len:u8 nickname:nick_len
//                conn_count:u16 Connection{conn_count} dp_len:u16 datapath:dp_len
//   Connection = name:name flags:u8 addr_len:u8 address:addr_len
//                  flags bit 0 outbound, bit 1 established; other bits must be zero.
//                  Connections are in strictly increasing name order and never name the
//                  record's own peer. address = "host:port" where the peer accepts
//                  connections ("[v6]:port" for IPv6).
//                datapath: what the peer offers the data plane (datapath/datapath_info.hpp),
//                  opaque to the topology, at most kMaxDatapathBytes.
//   Digest     = count:u32 Stamp{count}
//   Stamp      = name:name version:u64 uid:u64, in strictly increasing name order
//
// A message is at most MessageConn::kMaxMessageSize bytes; counts are checked against the
// bytes present before anything is allocated.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "common/result.hpp"
#include "router/peer_name.hpp"
#include "router/topology.hpp"

namespace weft::router {

using ChannelId = std::uint8_t;
inline constexpr ChannelId kTopologyChannel = 1;
inline constexpr ChannelId kIpamChannel = 2;
inline constexpr ChannelId kPolicyChannel = 3;

enum class MessageType : std::uint8_t {
  kHeartbeat = 1,
  kUpdate = 2,
  kDigest = 3,
  kUnicast = 4,
  kBroadcast = 5,
};

inline constexpr std::uint8_t kHeartbeatPending = 0x01;
inline constexpr std::uint8_t kDigestReplyWanted = 0x01;
inline constexpr std::uint8_t kMaxHops = 64;

// A decoded message. `payload` points into the parsed buffer.
struct MeshMessage {
  MessageType type = MessageType::kHeartbeat;
  ChannelId channel = 0;
  std::uint8_t flags = 0;  // HEARTBEAT, DIGEST
  std::uint8_t hops = 0;   // UNICAST, BROADCAST
  PeerName source{};       // UNICAST, BROADCAST
  PeerName dest{};         // UNICAST
  std::span<const std::uint8_t> payload{};
};

std::vector<std::uint8_t> encode_message(const MeshMessage& message);
Result<MeshMessage> parse_message(std::span<const std::uint8_t> bytes);

inline constexpr std::size_t kMaxDatapathBytes = 8192;

std::vector<std::uint8_t> encode_topology_update(std::span<const PeerRecord* const> records);
std::vector<std::uint8_t> encode_topology_update(std::span<const PeerRecord> records);
// Decides from a record's stamp whether to keep it (e.g. only records newer than ours).
using RecordFilter = std::function<bool(const RecordStamp&)>;
// Parses an update. With `want`, records it refuses are fully checked but not returned (and
// their strings never allocated).
Result<std::vector<PeerRecord>> parse_topology_update(std::span<const std::uint8_t> bytes,
                                                      const RecordFilter& want = {});

std::vector<std::uint8_t> encode_topology_digest(std::span<const RecordStamp> stamps);
Result<std::vector<RecordStamp>> parse_topology_digest(std::span<const std::uint8_t> bytes);

}  // namespace weft::router
