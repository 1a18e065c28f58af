// Reflector: keeps a WatchSink in step with one API resource (an informer without a cache):
// list, then watch from the list's resourceVersion, for as long as it runs.
//
//   list (all pages) ──replace()──> watch ?resourceVersion=RV&allowWatchBookmarks=true
//     ^                               │ ADDED/MODIFIED/DELETED ──apply()──> sink; RV advances
//     │                               │ BOOKMARK: RV advances (nothing reaches the sink)
//     ├── 410 Gone (HTTP 410, or an ERROR event with code 410) ── relist at once
//     ├── every resync_interval ── relist (a complete snapshot again)
//     │                               │ stream ended (timeoutSeconds): watch again from RV
//     └── list failed ── backoff      │ error / connection lost: backoff, watch again from RV
//
// Contract:
// - Thread: start(), stop(), status() and every sink call run on the Client's executor (the
//   consumer's control thread). The Client, sink, clock and rng must outlive the Reflector.
// - The sink sees replace() first, then apply() calls; replace() again after each relist.
//   It never sees an empty intermediate state (see watch_sink.hpp).
// - Backoff: capped exponential (backoff_initial doubling up to backoff_max) with jitter
//   (each wait uniform in [d/2, d]), reset after a successful list and after a watch that
//   delivered something. Errors never end the Reflector: it retries until stopped.
// - Time comes from the injected Clock (resync and backoff), randomness from the Rng (jitter,
//   timeoutSeconds spread over [watch_timeout, 2*watch_timeout) like client-go).
// - stop(): cancels the running list or watch and completes when the loop has ended; no sink
//   call happens after stop() has returned. `co_await stop()` before destroying a started
//   Reflector (its task uses the Reflector and what it references).
// - 410 Gone relists at once, as client-go does; a 410 on the first watch after a list (the
//   list's version already compacted away) waits a backoff first, so that a server that
//   compacts all the time does not get a tight loop of lists.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <nlohmann/json.hpp>

#include "common/clock.hpp"
#include "common/result.hpp"
#include "common/rng.hpp"
#include "common/task_group.hpp"
#include "kube/client.hpp"
#include "kube/watch_sink.hpp"

namespace weft::kube {

struct ReflectorOptions {
  std::string path;  // a collection: "/api/v1/pods", "/apis/networking.k8s.io/v1/networkpolicies"
  std::string label_selector;
  std::string field_selector;
  std::size_t page_size = 500;                                // list limit; 0: one response
  Clock::Duration resync_interval = std::chrono::minutes(5);  // 0: never
  Clock::Duration watch_timeout = std::chrono::minutes(5);    // base of timeoutSeconds
  Clock::Duration backoff_initial = std::chrono::milliseconds(500);
  Clock::Duration backoff_max = std::chrono::seconds(30);
  // Applied to every object before the sink sees it (listed, or in an ADDED/MODIFIED/DELETED
  // event, after the reflector read its resourceVersion): keep what the consumer reads.
  std::function<void(nlohmann::json&)> transform;
};

// Counters for metrics and status pages; read them with Reflector::status().
struct ReflectorStatus {
  bool synced = false;               // a complete snapshot has been delivered
  std::string resource_version;      // where the next watch starts
  std::uint64_t lists = 0;           // snapshots delivered (initial, relists, resyncs)
  std::uint64_t relists_gone = 0;    // relists because of 410 Gone
  std::uint64_t resyncs = 0;         // periodic relists
  std::uint64_t watches = 0;         // watch streams opened
  std::uint64_t watch_restarts = 0;  // watches opened again without a relist
  std::uint64_t events = 0;          // ADDED/MODIFIED/DELETED handed to the sink
  std::uint64_t bookmarks = 0;
  std::uint64_t errors = 0;  // failed lists and watches
  std::string last_error;
};

class Reflector {
 public:
  Reflector(Client& client, WatchSink& sink, Clock& clock, Rng& rng, ReflectorOptions options);
  Reflector(const Reflector&) = delete;
  Reflector& operator=(const Reflector&) = delete;
  ~Reflector();

  void start();
  boost::asio::awaitable<void> stop();
  const ReflectorStatus& status() const { return status_; }
  const ReflectorOptions& options() const { return options_; }

 private:
  enum class WatchEnd { kEnded, kGone, kResync, kFailed };

  boost::asio::awaitable<void> run();
  boost::asio::awaitable<bool> relist();
  boost::asio::awaitable<WatchEnd> watch_once(bool* progress);
  boost::asio::awaitable<bool> backoff();
  void fail(const Error& error, std::string_view what);
  bool handle(WatchEvent event, WatchEnd* end);

  Client& client_;
  WatchSink& sink_;
  Clock& clock_;
  Rng& rng_;
  ReflectorOptions options_;
  ReflectorStatus status_;
  unsigned failures_ = 0;  // consecutive failures (backoff exponent)
  Clock::TimePoint next_resync_{};
  bool listed_ = false;    // a list happened since the last watch was opened
  bool stopping_ = false;  // stop() was called: no more sink calls
  TaskGroup tasks_;
};

}  // namespace weft::kube
