// PolicyService: weft-npc on weftd's status page. Polls this node's weft-npc status
// (--npc-status-url, npc_status.hpp) every few seconds, keeps the summary for /report
// (policy_summary.hpp), and publishes it to the mesh on the policy gossip channel
// (policy_channel.hpp), which also brings every other node's summary.
//
// Design note: weft-npc is a separate process that may be absent, slow or broken; a poll
// that fails only changes the summary's state (not running / bad answer) and keeps the last
// data. Each poll has a 2 s timeout and a body limit, so a hung weft-npc delays nothing but
// its own summary. Without a URL nothing is polled or published, and the channel still
// brings the others' summaries.
//
// Contract: construct, start(), use and co_await stop() on the control thread (the
// router's); the clock and the router outlive the service.
#pragma once

#include <map>
#include <optional>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "common/clock.hpp"
#include "common/task_group.hpp"
#include "router/router.hpp"
#include "weftd/npc_status.hpp"
#include "weftd/policy_channel.hpp"
#include "weftd/policy_summary.hpp"

namespace weft::weftd {

struct PolicyServiceConfig {
  std::optional<NpcStatusUrl> url;  // absent: no local weft-npc to poll
  Clock::Duration interval = std::chrono::seconds(3);
  Clock::Duration timeout = std::chrono::seconds(2);
};

class PolicyService {
 public:
  PolicyService(boost::asio::any_io_executor executor, Clock& clock, router::Router& router,
                PolicyServiceConfig config);
  PolicyService(const PolicyService&) = delete;
  PolicyService& operator=(const PolicyService&) = delete;
  ~PolicyService();

  // Registers the gossip channel and starts polling.
  void start();
  boost::asio::awaitable<void> stop();

  // This node's summary; null without a URL. Before the first poll ends: not running.
  const PolicySummary* local() const { return config_.url ? &local_ : nullptr; }
  // Every node's summary known here (ours included once published), by peer.
  const std::map<router::PeerName, PolicyEntry>& entries() const { return channel_.entries(); }
  const PolicyServiceConfig& config() const { return config_; }

 private:
  boost::asio::awaitable<void> poll_loop();
  boost::asio::awaitable<Result<NpcStatus>> fetch();
  void polled(const Result<NpcStatus>& fetched);
  void collect_garbage();

  boost::asio::any_io_executor executor_;
  Clock& clock_;
  router::Router& router_;
  PolicyServiceConfig config_;
  PolicyChannel channel_;
  PolicySummary local_;
  TaskGroup tasks_;
};

}  // namespace weft::weftd
