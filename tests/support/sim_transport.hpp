// SimMeshNet / SimTransport: an in-memory network of hosts for running many Routers in one
// process on a VirtualClock.
//
// Each host has an address ("10.0.0.7:6783") and a Transport. A dial succeeds after one
// round trip when the target host is up and not partitioned from (or blocked with) the
// dialler; it is refused when the target is down and times out when it is unreachable.
// Connections carry whole messages with a fixed one-way latency (so each direction is
// FIFO); each message is dropped with probability `loss`, and messages between hosts that
// cannot reach each other are dropped. Connections across a partition close on both sides
// after `keepalive_timeout`, like a TCP keepalive would notice; a host going down closes
// its connections at once. The handshake is simulated: each end learns the other's
// PeerInfo (set_identity).
//
// Contract: single-threaded, one executor; all randomness from the Rng given (reproducible
// from a seed). Hosts live as long as the SimMeshNet; the SimMeshNet outlives the Routers using it.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include "common/clock.hpp"
#include "common/rng.hpp"
#include "common/task_group.hpp"
#include "router/message_conn.hpp"

namespace weft::test {

struct SimMeshConfig {
  double loss = 0.0;
  Clock::Duration latency = std::chrono::milliseconds(1);
  Clock::Duration dial_timeout = std::chrono::seconds(3);
  Clock::Duration keepalive_timeout = std::chrono::seconds(5);
};

struct SimMeshStats {
  std::uint64_t messages_sent = 0;
  std::uint64_t bytes_sent = 0;
  std::uint64_t messages_lost = 0;  // dropped by loss or partition
  std::uint64_t dials = 0;
};

class SimMeshNet;
struct SimMeshLink;

class SimTransport final : public router::Transport {
 public:
  SimTransport(SimMeshNet& net, std::string address, std::uint16_t port);
  ~SimTransport() override;

  // What this host's router presents in handshakes.
  void set_identity(router::PeerName name, std::string nickname, std::uint64_t uid);
  // A host that is down refuses dials and has no connections.
  void set_up(bool up);
  bool up() const { return up_; }

  boost::asio::awaitable<Result<std::unique_ptr<router::MessageConn>>> dial(
      std::string address) override;
  boost::asio::awaitable<Result<std::unique_ptr<router::MessageConn>>> accept() override;

  const std::string& address() const { return address_; }
  const std::string& host() const { return host_; }
  const SimMeshStats& stats() const { return stats_; }
  void reset_stats() { stats_ = {}; }
  router::PeerInfo info() const;

 private:
  friend class SimMeshNet;
  friend class SimMeshConn;

  SimMeshNet& net_;
  std::string address_;
  std::string host_;
  std::uint16_t port_;
  router::PeerName name_;
  std::string nickname_;
  std::uint64_t uid_ = 0;
  bool up_ = true;
  SimMeshStats stats_;
  std::deque<std::unique_ptr<router::MessageConn>> accept_queue_;
  boost::asio::steady_timer accept_wake_;
};

class SimMeshNet {
 public:
  SimMeshNet(boost::asio::any_io_executor executor, Clock& clock, Rng& rng, SimMeshConfig config);
  ~SimMeshNet();
  SimMeshNet(const SimMeshNet&) = delete;
  SimMeshNet& operator=(const SimMeshNet&) = delete;

  // `address` = "host:port"; hosts are unique.
  SimTransport& add_host(const std::string& address);
  SimTransport* find(const std::string& address) const;

  // Hosts in different groups cannot reach each other (hosts not listed: group 0).
  void partition(const std::map<std::string, int>& group_of_host);
  void heal();
  void block(const std::string& host_a, const std::string& host_b);
  void unblock(const std::string& host_a, const std::string& host_b);
  bool reachable(const SimTransport& a, const SimTransport& b) const;

  void set_loss(double loss) { config_.loss = loss; }
  const SimMeshConfig& config() const { return config_; }
  SimMeshStats totals() const;
  // Live connections (both ends open).
  std::size_t open_links() const;

 private:
  friend class SimTransport;
  friend class SimMeshConn;

  void register_link(const std::shared_ptr<SimMeshLink>& link);
  void close_host_links(const SimTransport& host, const std::string& reason);
  // Closes links that are still unreachable after the keepalive timeout.
  boost::asio::awaitable<void> keepalive_check();

  boost::asio::any_io_executor executor_;
  Clock& clock_;
  Rng& rng_;
  SimMeshConfig config_;
  std::map<std::string, std::unique_ptr<SimTransport>> hosts_;
  std::map<std::string, int> group_;
  std::set<std::pair<std::string, std::string>> blocked_;
  std::vector<std::weak_ptr<SimMeshLink>> links_;
  std::size_t gc_at_ = 64;
  std::uint16_t next_ephemeral_ = 30000;
  TaskGroup tasks_;
};

}  // namespace weft::test
