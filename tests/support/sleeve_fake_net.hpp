// SleeveFakeNet: sleeve engines wired back to back in memory, for unit tests. Each engine
// is a peer at 198.18.0.<n>:6783; datagrams an engine emits are delivered to the engine at
// their destination endpoint (the fake packet conn), frames for the TAP are collected per
// peer (the fake TAP). Synchronous and deterministic: run() delivers until nothing is in
// flight. A filter can drop or rewrite datagrams (tamper, partition, path MTU), and every
// datagram that crossed the wire is kept in `wire` (a capture).
//
// Header-only so that weft_test_support does not depend on weft_router.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <vector>

#include <gtest/gtest.h>

#include "datapath/sleeve.hpp"

namespace weft::test {

class SleeveFakeNet {
 public:
  explicit SleeveFakeNet(const Clock* clock) : clock_(clock) {}

  datapath::SleeveEngine& add(std::uint64_t peer, std::size_t underlay_mtu = 1500) {
    const auto n = static_cast<unsigned char>(nodes_.size() + 1);
    Node node;
    node.endpoint = Endpoint(boost::asio::ip::address_v4({198, 18, 0, n}), 6783);
    datapath::SleeveConfig config;
    config.self = peer;
    config.clock = clock_;
    config.underlay_mtu = underlay_mtu;
    node.engine = std::make_unique<datapath::SleeveEngine>(config);
    auto& e = *node.engine;
    nodes_.emplace(peer, std::move(node));
    return e;
  }
  datapath::SleeveEngine& engine(std::uint64_t peer) { return *nodes_.at(peer).engine; }
  Endpoint endpoint(std::uint64_t peer) const { return nodes_.at(peer).endpoint; }

  // Sessions in both directions with fresh keys; indices are derived from the names.
  void connect(std::uint64_t a, std::uint64_t b, datapath::SleeveSuite suite) {
    datapath::SleeveKey ab{}, ba{};
    for (std::size_t i = 0; i < ab.size(); ++i) {
      ab[i] = static_cast<std::uint8_t>(a * 31 + b * 7 + i);
      ba[i] = static_cast<std::uint8_t>(b * 31 + a * 7 + i * 3);
    }
    const auto idx = [](std::uint64_t from, std::uint64_t to) {
      return static_cast<std::uint32_t>(from * 1000 + to);
    };
    // a receives with index idx(b, a) (chosen by a), sends with idx(a, b) (chosen by b).
    auto ra = engine(a).add_peer({.peer = b,
                                  .tx_index = idx(a, b),
                                  .rx_index = idx(b, a),
                                  .tx_key = ab,
                                  .rx_key = ba,
                                  .suite = suite,
                                  .endpoint = endpoint(b)});
    auto rb = engine(b).add_peer({.peer = a,
                                  .tx_index = idx(b, a),
                                  .rx_index = idx(a, b),
                                  .tx_key = ba,
                                  .rx_key = ab,
                                  .suite = suite,
                                  .endpoint = endpoint(a)});
    EXPECT_TRUE(ra && rb);
  }

  void send_from_tap(std::uint64_t peer, const std::vector<std::vector<std::uint8_t>>& frames) {
    std::vector<std::span<const std::uint8_t>> views(frames.begin(), frames.end());
    datapath::SleeveOutput out;
    engine(peer).handle_tap_frames(views, out);
    collect(peer, out);
    run();
  }
  void tick_all() {
    for (auto& [peer, node] : nodes_) {
      datapath::SleeveOutput out;
      node.engine->tick(out);
      collect(peer, out);
    }
    run();
  }
  // Delivers a datagram as if it had arrived from `from` (a replayed or forged one).
  void inject(std::uint64_t to, const Datagram& d) {
    datapath::SleeveOutput out;
    engine(to).handle_datagrams(std::span<const Datagram>(&d, 1), out);
    collect(to, out);
    run();
  }

  void run() {
    while (!in_flight_.empty()) {
      Datagram d = std::move(in_flight_.front().first);
      const Endpoint from = in_flight_.front().second;
      in_flight_.pop_front();
      if (filter && !filter(d)) {
        continue;
      }
      wire.push_back(d);
      for (auto& [peer, node] : nodes_) {
        if (node.endpoint == d.peer) {
          Datagram arriving = d;
          arriving.peer = from;
          datapath::SleeveOutput out;
          node.engine->handle_datagrams(std::span<const Datagram>(&arriving, 1), out);
          collect(peer, out);
        }
      }
    }
  }

  std::vector<std::vector<std::uint8_t>>& tap(std::uint64_t peer) { return nodes_.at(peer).tap; }

  // Return false to drop; may rewrite. Sees the destination in d.peer.
  std::function<bool(Datagram&)> filter;
  std::vector<Datagram> wire;

 private:
  struct Node {
    Endpoint endpoint;
    std::unique_ptr<datapath::SleeveEngine> engine;
    std::vector<std::vector<std::uint8_t>> tap;
  };
  void collect(std::uint64_t peer, datapath::SleeveOutput& out) {
    for (const auto& f : out.frames()) {
      nodes_.at(peer).tap.push_back(f);
    }
    for (const auto& d : out.datagrams()) {
      Datagram copy;
      copy.peer = d.peer;
      copy.assign(d.payload());
      copy.buffer.resize(copy.size);
      in_flight_.emplace_back(std::move(copy), nodes_.at(peer).endpoint);
    }
    out.clear();
  }

  const Clock* clock_;
  std::map<std::uint64_t, Node> nodes_;
  std::deque<std::pair<Datagram, Endpoint>> in_flight_;  // datagram, source
};

}  // namespace weft::test
