// SleeveLab: hosts of a WeftLab (tests/support/weft_lab.hpp), each with a bridge `weft`, a
// real TAP device `weft-sleeve` on it driven by an in-process SleeveDatapath (UDP 6783 in
// the host namespace), and one "container" namespace veth'd to the bridge with
// 198.19.0.<n>/16 and fd00:19::<n>/64. No weftd: sessions and routes are set by the test,
// as the control plane would. Header-only (weft_test_support does not link weft_router).
//
// Contract: root; blocking; declare the WeftLab before the SleeveLab so that the datapaths
// (and their TAP fds) go away before the host namespaces.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <sodium.h>

#include "common/tap.hpp"
#include "datapath/sleeve_datapath.hpp"
#include "tests/support/weft_lab.hpp"
#include <fmt/format.h>

namespace weft::test {

struct SleeveNode {
  int n = 0;  // 1.. : underlay 198.18.0.n / fd00:18::n, overlay .n / ::n
  std::uint64_t peer = 0;
  WeftHost* host = nullptr;
  std::unique_ptr<ScopedNetns> container;
  std::unique_ptr<datapath::SleeveDatapath> dp;
};

class SleeveLab {
 public:
  explicit SleeveLab(WeftLab& lab) : lab_(lab) {}

  // Adds host n with its bridge, TAP, container and running datapath; "" or why not.
  std::string add(int n) {
    auto h = lab_.add_host(fmt::format("h{}", n),
                           {fmt::format("198.18.0.{}/24", n), fmt::format("fd00:18::{}/64", n)});
    if (!h) {
      return h.error().to_string();
    }
    auto node = std::make_unique<SleeveNode>();
    node->n = n;
    node->peer = 0x020000000000ULL + static_cast<std::uint64_t>(n);
    node->host = *h;
    node->container = std::make_unique<ScopedNetns>();
    if (!node->container->ok()) {
      return node->container->error();
    }
    const auto& hn = node->host->ns();
    if (!hn.run("ip link add weft type bridge && ip link set weft up").ok()) {
      return "bridge";
    }
    auto taps = open_tap(hn.netns(), TapConfig{.name = "weft-sleeve"});
    if (!taps) {
      return taps.error().to_string();
    }
    const std::string plumb = fmt::format(
        "ip link set weft-sleeve master weft up && "
        "ip link add vc{0} type veth peer name eth0 netns {1} && "
        "ip link set vc{0} master weft up",
        n, node->container->name());
    if (!hn.run(plumb).ok()) {
      return "plumb: " + plumb;
    }
    const std::string inside = fmt::format(
        "ip link set lo up && ip link set eth0 address 02:00:00:00:19:{0:02x} && "
        "ip addr add 198.19.0.{0}/16 dev eth0 && ip -6 addr add fd00:19::{0}/64 dev eth0 nodad "
        "&& ip link set eth0 up",
        n);
    if (!node->container->run(inside).ok()) {
      return "container: " + inside;
    }
    auto udp = UdpBatchSocket::open(hn.netns(), Endpoint(boost::asio::ip::address_v6::any(), 6783));
    if (!udp) {
      return udp.error().to_string();
    }
    datapath::SleeveConfig config;
    config.self = node->peer;
    config.clock = &clock_;
    auto dp = datapath::SleeveDatapath::start(config, std::move((*taps)[0]), std::move(*udp));
    if (!dp) {
      return dp.error().to_string();
    }
    node->dp = std::move(*dp);
    nodes_.push_back(std::move(node));
    return "";
  }

  SleeveNode& node(int n) { return *nodes_.at(static_cast<std::size_t>(n - 1)); }
  std::vector<std::unique_ptr<SleeveNode>>& nodes() { return nodes_; }

  // Sessions between every pair with fresh random keys; endpoints on the IPv4 or IPv6
  // underlay.
  void connect_all(datapath::SleeveSuite suite, bool v6_underlay = false) {
    for (auto& a : nodes_) {
      for (auto& b : nodes_) {
        if (a->n < b->n) {
          connect(*a, *b, suite, v6_underlay);
        }
      }
    }
  }

  // Every peer direct (full mesh).
  void direct_routes() {
    for (auto& a : nodes_) {
      datapath::SleeveRoutes r;
      for (auto& b : nodes_) {
        if (b != a) {
          r.next_hop[b->peer] = b->peer;
          r.broadcast[a->peer].push_back(b->peer);
        }
      }
      a->dp->set_routes(std::move(r));
    }
  }

  // A chain 1 - 2 - ... - n: everything between non-neighbours goes through the middle.
  void chain_routes() {
    const int count = static_cast<int>(nodes_.size());
    for (auto& a : nodes_) {
      datapath::SleeveRoutes r;
      for (auto& b : nodes_) {
        if (b == a) {
          continue;
        }
        const int step = b->n > a->n ? 1 : -1;
        r.next_hop[b->peer] = node(a->n + step).peer;
      }
      // Broadcast tree of source s: a forwards away from s.
      for (auto& s : nodes_) {
        auto& hops = r.broadcast[s->peer];
        if (a->n >= s->n && a->n < count) {
          hops.push_back(node(a->n + 1).peer);
        }
        if (a->n <= s->n && a->n > 1) {
          hops.push_back(node(a->n - 1).peer);
        }
      }
      a->dp->set_routes(std::move(r));
    }
  }

 private:
  void connect(SleeveNode& a, SleeveNode& b, datapath::SleeveSuite suite, bool v6) {
    datapath::SleeveKey ab{}, ba{};
    randombytes_buf(ab.data(), ab.size());
    randombytes_buf(ba.data(), ba.size());
    const auto ep = [v6](const SleeveNode& x) {
      return Endpoint(boost::asio::ip::make_address(v6 ? fmt::format("fd00:18::{}", x.n)
                                                       : fmt::format("198.18.0.{}", x.n)),
                      6783);
    };
    const auto idx = [](const SleeveNode& from, const SleeveNode& to) {
      return static_cast<std::uint32_t>(0x1000 * from.n + to.n);
    };
    datapath::SleeveSession sa;
    sa.peer = b.peer;
    sa.tx_index = idx(a, b);
    sa.rx_index = idx(b, a);
    sa.tx_key = ab;
    sa.rx_key = ba;
    sa.suite = suite;
    sa.endpoint = ep(b);
    datapath::SleeveSession sb = sa;
    sb.peer = a.peer;
    sb.tx_index = idx(b, a);
    sb.rx_index = idx(a, b);
    sb.tx_key = ba;
    sb.rx_key = ab;
    sb.endpoint = ep(a);
    a.dp->add_or_update_peer(sa);
    b.dp->add_or_update_peer(sb);
  }

  WeftLab& lab_;
  SteadyClock clock_;
  std::vector<std::unique_ptr<SleeveNode>> nodes_;
};

}  // namespace weft::test
