// Loopback: several Allocators wired back to back in one process (no router): messages go
// through a queue delivered by pump(), rings are exchanged by sync() (full gossip rounds).
// Only for the ipam unit tests.
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <set>
#include <vector>

#include "ipam/allocator.hpp"
#include "ipam/network.hpp"
#include "ipam/store.hpp"
#include "tests/support/virtual_clock.hpp"

namespace weft::ipam::test {

class Loopback {
 public:
  struct Node;
  class Net final : public Network {
   public:
    Net(Loopback& lb, PeerId self) : lb_(lb), self_(self) {}
    bool unicast(PeerId to, std::vector<std::uint8_t> m) override {
      if (!reachable(to))
        return false;
      lb_.queue_.push_back({self_, to, std::move(m)});
      return true;
    }
    void broadcast(std::vector<std::uint8_t> m) override {
      for (auto& [id, node] : lb_.nodes_) {
        if (id != self_ && reachable(id))
          lb_.queue_.push_back({self_, id, m});
      }
    }
    void rings_changed() override { ++changes; }
    bool reachable(PeerId peer) const override {
      return lb_.nodes_.contains(peer) && !lb_.cut_.contains(self_) && !lb_.cut_.contains(peer);
    }
    int changes = 0;

   private:
    Loopback& lb_;
    PeerId self_;
  };
  struct Node {
    std::unique_ptr<MemoryStore> store;
    std::unique_ptr<Net> net;
    std::unique_ptr<Allocator> alloc;
  };

  explicit Loopback(AllocatorConfig config) : config_(std::move(config)) {}

  Allocator& add(PeerId id, Store* store = nullptr) {
    Node n;
    n.store = std::make_unique<MemoryStore>();
    n.net = std::make_unique<Net>(*this, id);
    n.alloc = std::make_unique<Allocator>(config_, id, store ? *store : *n.store, *n.net, clock);
    auto loaded = n.alloc->load();
    EXPECT_TRUE(loaded) << loaded.error().to_string();
    return *(nodes_[id] = std::move(n)).alloc;
  }
  Allocator& operator[](PeerId id) { return *nodes_.at(id).alloc; }
  void remove(PeerId id) { nodes_.erase(id); }
  // Peers in `cut` hear nobody and nobody hears them.
  void isolate(std::set<PeerId> cut) { cut_ = std::move(cut); }

  void pump() {
    while (!queue_.empty()) {
      auto m = std::move(queue_.front());
      queue_.pop_front();
      if (auto it = nodes_.find(m.to); it != nodes_.end())
        it->second.alloc->on_message(m.from, m.bytes);
    }
  }
  // Every node merges every other reachable node's rings; conflicts are counted.
  int sync() {
    int conflicts = 0;
    for (auto& [a, na] : nodes_) {
      for (auto& [b, nb] : nodes_) {
        if (a != b && na.net->reachable(b)) {
          auto r = nb.alloc->merge_rings(na.alloc->encode_rings());
          conflicts += r ? 0 : 1;
        }
      }
    }
    return conflicts;
  }
  void tick_all(int rounds = 1) {
    for (int i = 0; i < rounds; ++i) {
      clock.advance(std::chrono::seconds(1));
      for (auto& [id, n] : nodes_)
        n.alloc->tick();
      pump();
      sync();
      pump();
    }
  }

  weft::test::VirtualClock clock;

 private:
  struct Queued {
    PeerId from, to;
    std::vector<std::uint8_t> bytes;
  };
  AllocatorConfig config_;
  std::map<PeerId, Node> nodes_;
  std::deque<Queued> queue_;
  std::set<PeerId> cut_;
};

}  // namespace weft::ipam::test
