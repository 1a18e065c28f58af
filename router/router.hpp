// Router: one peer of the gossip mesh. Owns the connections (from the Transport), the
// connection maker, the topology and its routes, and the gossip channels.
//
// Design note:
//  - All state lives on the control thread (the executor given at construction); every
//    coroutine runs in one TaskGroup: the accept loop, the dial loop and one task per dial,
//    one receive loop (and, while pending, a heartbeat loop) per connection, the flush loop
//    and the anti-entropy loop. stop() closes every connection, cancels and joins them.
//  - One connection per peer pair. When two exist (both dialled at once, or a reconnect
//    before the old one was noticed dead) both ends keep the one dialled by the lower peer
//    name; between two of the same direction the newer wins.
//  - A connection is pending until the first message from the peer arrives over it (both
//    ends send digests at once, and heartbeats while pending), then established. Only
//    established connections count as edges, and only when both ends list them.
//  - Changes (connections, merged gossip) are batched: after `gossip_delay` the router
//    updates its own record, drops unreachable peers, recomputes routes, refreshes the
//    discovered targets, fires on_topology_changed and sends the gossip deltas.
//
// Contract: construct, start(), use and destroy on the control thread; co_await stop()
// before destroying. Clock, Rng, Transport and registered channels outlive the Router.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "common/clock.hpp"
#include "common/result.hpp"
#include "common/rng.hpp"
#include "common/task_group.hpp"
#include "router/connection_maker.hpp"
#include "router/gossip.hpp"
#include "router/message_conn.hpp"
#include "router/notifier.hpp"
#include "router/routes.hpp"
#include "router/topology.hpp"
#include "router/topology_channel.hpp"

namespace weft::router {

struct RouterConfig {
  PeerName name{};
  std::string nickname{};
  std::uint64_t uid = 0;      // per launch; must differ from the previous launch's
  std::uint16_t port = 6783;  // default port of targets given without one
  std::size_t conn_limit = 200;
  bool discovery = true;
  Clock::Duration gossip_delay = std::chrono::milliseconds(50);         // batching before a flush
  Clock::Duration gossip_interval = std::chrono::seconds(5);            // anti-entropy period
  Clock::Duration heartbeat_interval = std::chrono::milliseconds(500);  // while pending
  Clock::Duration initial_backoff = std::chrono::seconds(1);
  Clock::Duration max_backoff = std::chrono::minutes(2);
};

// One line of the connections table (`weft status connections`).
struct ConnectionStatus {
  std::string address{};
  bool outbound = false;
  TargetState state = TargetState::kConnecting;  // to_string(): what /report shows
  std::string info{};                            // the last error, or what the handshake told
  std::optional<PeerName> peer{};
  std::string peer_nickname{};
  bool encrypted = false;
  int attempts = 0;
  std::optional<Clock::TimePoint> next_retry{};
};

struct PeerStatus {
  PeerName name{};
  std::string nickname{};
  std::uint64_t uid = 0;
  std::uint64_t version = 0;
  std::vector<ConnectionRecord> connections{};
};

struct RouterStatus {
  PeerName name{};
  std::string nickname{};
  std::uint64_t uid = 0;
  std::uint64_t version = 0;
  std::vector<PeerStatus> peers{};  // the topology, sorted by name (us included)
  std::vector<ConnectionStatus> connections{};
  std::size_t reachable = 0;
  GossipStats gossip{};
};

class Router final : private MeshLinks {
 public:
  Router(boost::asio::any_io_executor executor, Clock& clock, Rng& rng, Transport& transport,
         RouterConfig config);
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;
  ~Router() override;

  // Validates `targets` (none is added when one is invalid), then starts accepting and
  // dialling.
  Result<void> start(std::vector<std::string> targets);
  // Closes every connection and ends every task.
  boost::asio::awaitable<void> stop();

  // `weft connect`: adds explicit targets (all or none). `weft forget`: removes targets and
  // closes their connections.
  Result<void> connect(std::vector<std::string> targets);
  void forget(std::vector<std::string> targets);

  RouterStatus status() const;
  // The verified details (keys for the sleeve included) of our established connection to
  // `peer`; nullopt when there is none.
  std::optional<PeerInfo> connection_info(PeerName peer) const;
  // Publishes what we offer the data plane (an encoded DatapathInfo) in our topology record.
  void set_datapath_info(std::vector<std::uint8_t> info);
  // Called (on the control thread) after the topology or the routes changed.
  void on_topology_changed(std::function<void()> callback);
  // Adds a gossip channel (ids unique; topology is taken); the returned sender lives as
  // long as the Router.
  GossipSender& register_channel(GossipChannel& channel);

  PeerName name() const { return config_.name; }
  std::uint64_t uid() const { return config_.uid; }
  const Topology& topology() const { return topology_; }
  // Routes for the current topology (recomputed on demand after the graph changed).
  const Routes& routes() const;
  const GossipStats& gossip_stats() const { return gossip_.stats(); }

 private:
  struct Conn {
    std::uint64_t id = 0;
    std::shared_ptr<MessageConn> conn{};
    PeerInfo info{};
    std::string address{};  // where the peer accepts connections
    bool outbound = false;
    bool established = false;
  };

  // MeshLinks, for the gossip layer.
  PeerName self() const override { return config_.name; }
  std::vector<PeerName> neighbours() const override;
  bool send(PeerName neighbour, std::vector<std::uint8_t> message) override;
  std::optional<PeerName> next_hop(PeerName dest) const override;
  std::vector<PeerName> broadcast_next_hops(PeerName source) const override;
  std::size_t peer_count() const override { return topology_.size(); }
  void request_flush() override { flush_wake_.notify(); }

  void adopt(std::shared_ptr<MessageConn> conn, std::optional<std::string> target);
  void on_message(PeerName peer, std::uint64_t id, std::span<const std::uint8_t> bytes);
  void mark_established(Conn& c);
  void drop(PeerName peer, std::uint64_t id, std::string reason);
  void flush_now();
  void refresh_discovered();
  std::vector<ConnectionRecord> own_connections() const;
  std::size_t open_count() const { return conns_.size() + dialing_; }

  boost::asio::awaitable<void> accept_loop();
  boost::asio::awaitable<void> dial_loop();
  boost::asio::awaitable<void> dial(std::string address);
  boost::asio::awaitable<void> receive_loop(std::shared_ptr<MessageConn> conn, PeerName peer,
                                            std::uint64_t id);
  boost::asio::awaitable<void> heartbeat_loop(PeerName peer, std::uint64_t id);
  boost::asio::awaitable<void> flush_loop();
  boost::asio::awaitable<void> anti_entropy_loop();

  boost::asio::any_io_executor executor_;
  Clock& clock_;
  Rng& rng_;
  Transport& transport_;
  RouterConfig config_;

  // Control-thread state.
  Topology topology_;
  TopologyChannel topology_channel_;
  mutable Routes routes_;                        // a cache: see routes()
  mutable std::uint64_t routes_generation_ = 0;  // graph generation routes_ belongs to
  std::uint64_t gc_generation_ = 0;              // reachability generation last collected
  std::uint64_t topology_generation_ = 0;        // generation last reported to observers
  Gossip gossip_;
  ConnectionMaker maker_;
  std::map<PeerName, Conn> conns_;
  std::map<PeerName, std::uint64_t> seen_uids_;  // peers in the topology at the last refresh
  std::uint64_t next_conn_id_ = 1;
  std::size_t dialing_ = 0;
  bool own_dirty_ = false;
  bool started_ = false;
  bool stopping_ = false;
  std::function<void()> on_topology_changed_;
  Notifier dial_wake_;
  Notifier flush_wake_;
  TaskGroup tasks_;
};

}  // namespace weft::router
