// Mesh message encodings: byte layouts pinned by golden vectors, random round trips, and
// rejection of malformed input (every truncation, bad order, bad flags, bad counts).
#include "router/gossip_codec.hpp"

#include <vector>

#include <gtest/gtest.h>

#include "common/rng.hpp"

namespace weft::router {
namespace {

using Bytes = std::vector<std::uint8_t>;

PeerRecord sample_record() {
  return {.name = PeerName{0x0a0b0c0d0e0fULL},
          .nickname = "h1",
          .uid = 0x1122334455667788ULL,
          .version = 3,
          .connections = {{PeerName{0x000000000002ULL}, "10.0.0.2:6783", true, true},
                          {PeerName{0x000000000003ULL}, "b:1", false, false}},
          .datapath = {0xd0, 0x0d}};
}

TEST(GossipCodec, GoldenRecordLayout) {
  const PeerRecord r = sample_record();
  const Bytes got = encode_topology_update(std::span(&r, 1));
  Bytes want = {0,    0,    0,    1,                             // count
                0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,              // name
                0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,  // uid
                0,    0,    0,    0,    0,    0,    0,    3,     // version
                2,    'h',  '1',                                 // nickname
                0,    2,                                         // connection count
                0,    0,    0,    0,    0,    2,    0x03, 13};   // name, flags, addr_len
  for (char c : std::string("10.0.0.2:6783")) {
    want.push_back(static_cast<std::uint8_t>(c));
  }
  const Bytes second = {0, 0, 0,    0,   0, 3, 0x00, 3, 'b', ':', '1',  //
                        0, 2, 0xd0, 0x0d};                              // datapath info
  want.insert(want.end(), second.begin(), second.end());
  EXPECT_EQ(got, want);
  auto back = parse_topology_update(got);
  ASSERT_TRUE(back);
  ASSERT_EQ(back->size(), 1u);
  EXPECT_EQ((*back)[0], r);
}

TEST(GossipCodec, GoldenMessageHeaders) {
  const Bytes payload = {0xaa, 0xbb};
  EXPECT_EQ(encode_message({.type = MessageType::kHeartbeat, .flags = kHeartbeatPending}),
            (Bytes{0x01, 0x01}));
  EXPECT_EQ(encode_message({.type = MessageType::kUpdate, .channel = 1, .payload = payload}),
            (Bytes{0x02, 0x01, 0xaa, 0xbb}));
  EXPECT_EQ(
      encode_message({.type = MessageType::kDigest, .channel = 2, .flags = 1, .payload = payload}),
      (Bytes{0x03, 0x02, 0x01, 0xaa, 0xbb}));
  EXPECT_EQ(encode_message({.type = MessageType::kUnicast,
                            .channel = 2,
                            .hops = 64,
                            .source = PeerName{0x010203040506ULL},
                            .dest = PeerName{0x0708090a0b0cULL},
                            .payload = payload}),
            (Bytes{0x04, 0x02, 64, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0xaa, 0xbb}));
  EXPECT_EQ(encode_message({.type = MessageType::kBroadcast,
                            .channel = 1,
                            .hops = 3,
                            .source = PeerName{0x010203040506ULL},
                            .payload = payload}),
            (Bytes{0x05, 0x01, 3, 1, 2, 3, 4, 5, 6, 0xaa, 0xbb}));
  const std::vector<RecordStamp> stamps{{PeerName{1}, 2, 3}};
  EXPECT_EQ(encode_topology_digest(stamps),
            (Bytes{0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 3}));
}

TEST(GossipCodec, MessagesRoundTrip) {
  const Bytes payload = {1, 2, 3};
  for (auto type : {MessageType::kHeartbeat, MessageType::kUpdate, MessageType::kDigest,
                    MessageType::kUnicast, MessageType::kBroadcast}) {
    MeshMessage m{.type = type,
                  .channel = 7,
                  .flags = 1,
                  .hops = 9,
                  .source = PeerName{11},
                  .dest = PeerName{12},
                  .payload = payload};
    const Bytes bytes = encode_message(m);
    auto back = parse_message(bytes);
    ASSERT_TRUE(back) << static_cast<int>(type);
    EXPECT_EQ(back->type, type);
    if (type != MessageType::kHeartbeat) {
      EXPECT_EQ(back->channel, 7);
      EXPECT_EQ(Bytes(back->payload.begin(), back->payload.end()), payload);
    }
    // Every proper prefix that cuts the header is rejected.
    const std::size_t header = bytes.size() - (type == MessageType::kHeartbeat ? 0 : 3);
    for (std::size_t n = 0; n < header; ++n) {
      EXPECT_FALSE(parse_message(std::span(bytes.data(), n))) << static_cast<int>(type) << " " << n;
    }
  }
}

TEST(GossipCodec, RandomRecordsRoundTripAndTruncationsFail) {
  SeededRng rng(11);
  for (int round = 0; round < 300; ++round) {
    std::vector<PeerRecord> records(rng.uniform(5));
    for (auto& r : records) {
      r.name = PeerName{1 + rng.uniform(PeerName::kMask)};
      r.uid = rng.next_u64();
      r.version = rng.next_u64() >> 2;  // the wire refuses versions above 2^62
      r.nickname = std::string(rng.uniform(20), 'n');
      const auto n = rng.uniform(6);
      for (std::uint64_t i = 0; i < n; ++i) {
        r.connections.push_back({PeerName{1 + rng.uniform(1000)}, std::string(rng.uniform(30), 'a'),
                                 rng.chance(0.5), rng.chance(0.5)});
      }
      normalize_connections(r.name, r.connections);
    }
    const Bytes bytes = encode_topology_update(records);
    auto back = parse_topology_update(bytes);
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, records);
    for (std::size_t cut = 0; cut < bytes.size(); cut += 1 + bytes.size() / 16) {
      EXPECT_FALSE(parse_topology_update(std::span(bytes.data(), cut))) << cut;
    }
    Bytes longer = bytes;
    longer.push_back(0);
    EXPECT_FALSE(parse_topology_update(longer));
  }
}

TEST(GossipCodec, RefusesVersionsThatWouldWrap) {
  // A record naming us with version 2^64-1 used to make us bump our own version to 0.
  PeerRecord r{.name = PeerName{7},
               .nickname = "x",
               .uid = 1,
               .version = ~std::uint64_t{0},
               .connections = {}};
  const std::vector<PeerRecord> one{r};
  EXPECT_FALSE(parse_topology_update(encode_topology_update(one)));
  r.version = std::uint64_t{1} << 62;
  const std::vector<PeerRecord> ok{r};
  EXPECT_TRUE(parse_topology_update(encode_topology_update(ok)));
}

TEST(GossipCodec, RejectsMalformedRecords) {
  PeerRecord r = sample_record();
  // Connections out of order.
  std::swap(r.connections[0], r.connections[1]);
  EXPECT_FALSE(parse_topology_update(encode_topology_update(std::span(&r, 1))));
  // A connection to itself.
  r = sample_record();
  r.connections[0].name = r.name;
  EXPECT_FALSE(parse_topology_update(encode_topology_update(std::span(&r, 1))));
  // An empty name.
  r = sample_record();
  r.name = PeerName{};
  EXPECT_FALSE(parse_topology_update(encode_topology_update(std::span(&r, 1))));
  // Unknown connection flag bits.
  r = sample_record();
  Bytes bytes = encode_topology_update(std::span(&r, 1));
  bytes[4 + 6 + 8 + 8 + 3 + 2 + 6] |= 0x80;
  EXPECT_FALSE(parse_topology_update(bytes));
  // A count larger than the bytes could hold.
  EXPECT_FALSE(parse_topology_update(Bytes{0xff, 0xff, 0xff, 0xff}));
  EXPECT_FALSE(parse_topology_update(Bytes{}));
}

TEST(GossipCodec, DigestsRoundTripAndRejectDisorder) {
  std::vector<RecordStamp> stamps{{PeerName{1}, 5, 6}, {PeerName{9}, 1, 2}};
  auto back = parse_topology_digest(encode_topology_digest(stamps));
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, stamps);
  std::swap(stamps[0], stamps[1]);
  EXPECT_FALSE(parse_topology_digest(encode_topology_digest(stamps)));
  stamps[1] = stamps[0];
  EXPECT_FALSE(parse_topology_digest(encode_topology_digest(stamps)));  // duplicate
  Bytes bytes = encode_topology_digest(std::vector<RecordStamp>{{PeerName{1}, 5, 6}});
  bytes.pop_back();
  EXPECT_FALSE(parse_topology_digest(bytes));
  EXPECT_TRUE(parse_topology_digest(Bytes{0, 0, 0, 0}));
  EXPECT_FALSE(parse_topology_digest(Bytes{0, 0, 0, 1}));
}

TEST(GossipCodec, RejectsUnknownTypesAndBadRoutedHeaders) {
  auto unknown = parse_message(Bytes{0x7f, 0});
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, make_error_code(Errc::kUnsupported));
  EXPECT_FALSE(parse_message(Bytes{}));
  EXPECT_FALSE(parse_message(Bytes{0x01, 0x00, 0x00}));  // heartbeat with trailing bytes
  // Unicast with an empty destination.
  EXPECT_FALSE(parse_message(Bytes{0x04, 1, 5, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0}));
  // Broadcast with an empty source.
  EXPECT_FALSE(parse_message(Bytes{0x05, 1, 5, 0, 0, 0, 0, 0, 0}));
}

TEST(GossipCodec, LongStringsAreCutTo255Bytes) {
  PeerRecord r = sample_record();
  r.nickname = std::string(300, 'x');
  auto back = parse_topology_update(encode_topology_update(std::span(&r, 1)));
  ASSERT_TRUE(back);
  EXPECT_EQ((*back)[0].nickname.size(), 255u);
}

}  // namespace
}  // namespace weft::router
