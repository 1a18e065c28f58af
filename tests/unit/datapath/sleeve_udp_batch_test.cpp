// UdpBatchSocket (common/udp_batch.hpp), the sleeve's socket seam, on loopback: batches
// in and out with sendmmsg/recvmmsg, IPv4 peers on a dual-stack socket reported unmapped,
// oversize datagrams refused and counted rather than fragmented.
#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "common/udp_batch.hpp"

namespace weft {
namespace {

std::size_t receive_all(UdpBatchSocket& s, std::vector<Datagram>& got, std::size_t want) {
  std::vector<Datagram> batch(UdpBatchSocket::kMaxBatch);
  for (int tries = 0; tries < 200 && got.size() < want; ++tries) {
    auto n = s.receive(batch);
    EXPECT_TRUE(n);
    if (!n || *n == 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      continue;
    }
    for (std::size_t i = 0; i < *n; ++i) {
      got.push_back(batch[i]);
    }
  }
  return got.size();
}

TEST(SleeveUdpBatch, BatchesOverDualStackSocket) {
  auto ns = Netns::current();
  ASSERT_TRUE(ns);
  auto a = UdpBatchSocket::open(*ns, Endpoint(boost::asio::ip::address_v6::any(), 0));
  auto b = UdpBatchSocket::open(*ns, Endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  ASSERT_TRUE(a) << a.error().to_string();
  ASSERT_TRUE(b) << b.error().to_string();
  const Endpoint to_a(boost::asio::ip::make_address("127.0.0.1"), a->local_endpoint().port());
  std::vector<Datagram> out(150);
  for (std::size_t i = 0; i < out.size(); ++i) {
    out[i].peer = to_a;
    out[i].assign(std::vector<std::uint8_t>(100 + i, static_cast<std::uint8_t>(i)));
  }
  const auto sent = b->send(out);
  EXPECT_EQ(sent.sent, out.size());
  EXPECT_EQ(sent.dropped, 0u);
  std::vector<Datagram> got;
  ASSERT_EQ(receive_all(*a, got, out.size()), out.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].size, 100 + i);
    EXPECT_EQ(got[i].buffer[0], static_cast<std::uint8_t>(i));
    EXPECT_TRUE(got[i].peer.address().is_v4()) << got[i].peer.address().to_string();
    EXPECT_EQ(got[i].peer.port(), b->local_endpoint().port());
  }
  // Answer to the (unmapped) IPv4 source from the dual-stack socket.
  Datagram back;
  back.peer = got[0].peer;
  back.assign(std::vector<std::uint8_t>{1, 2, 3});
  EXPECT_EQ(a->send(std::span<const Datagram>(&back, 1)).sent, 1u);
  std::vector<Datagram> answer;
  EXPECT_EQ(receive_all(*b, answer, 1), 1u);
}

TEST(SleeveUdpBatch, OversizeIsCountedNotFatal) {
  auto ns = Netns::current();
  ASSERT_TRUE(ns);
  auto s = UdpBatchSocket::open(*ns, Endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  ASSERT_TRUE(s);
  std::vector<Datagram> out(3);
  for (auto& d : out) {
    d.peer = s->local_endpoint();
    d.assign(std::vector<std::uint8_t>(10, 1));
  }
  out[1].buffer.assign(70000, 0);  // over the UDP maximum
  out[1].size = out[1].buffer.size();
  const auto r = s->send(out);
  EXPECT_EQ(r.sent, 2u);
  EXPECT_EQ(r.dropped, 1u);
  std::vector<Datagram> got;
  EXPECT_EQ(receive_all(*s, got, 2), 2u);
}

}  // namespace
}  // namespace weft
