// SleeveDatapath: runs a SleeveEngine on its own thread over a real TAP queue and a UDP
// socket, so that crypto and packet I/O never run on the control io_context.
//
// Design note: the thread blocks in epoll on the TAP fd, the UDP socket and an eventfd for
// posted commands (100 ms timeout for ticks). Each wake drains the TAP up to a batch of
// frames (packed several to a datagram by the engine) and the socket with recvmmsg, then
// sends with sendmmsg and writes the TAP. Engine state is touched only on that thread: the
// control thread posts closures (add/update/remove peer, routes) and reads a snapshot of
// counters and peer status that the thread refreshes every 100 ms.
//
// Contract: start() takes ownership of both fds. Every public function is thread-safe.
// Posted closures run in order on the datapath thread. stop() (also the destructor) ends
// the thread and closes the fds; the TAP device disappears when its last queue closes.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "common/tap_batch.hpp"
#include "common/udp_batch.hpp"
#include "datapath/sleeve.hpp"

namespace weft::datapath {

class SleeveDatapath {
 public:
  static constexpr std::size_t kBatch = 64;

  // `config.clock` must be thread-safe for now() (SteadyClock is).
  static Result<std::unique_ptr<SleeveDatapath>> start(SleeveConfig config, OwnedFd tap_fd,
                                                       UdpBatchSocket udp);
  ~SleeveDatapath();
  SleeveDatapath(const SleeveDatapath&) = delete;
  SleeveDatapath& operator=(const SleeveDatapath&) = delete;

  void stop();

  // Runs fn(engine) on the datapath thread, in posting order.
  void post(std::function<void(SleeveEngine&)> fn);
  // Shortcuts for post(); errors are logged on the datapath thread.
  void add_or_update_peer(SleeveSession session);
  void remove_peer(std::uint64_t peer);
  void set_routes(SleeveRoutes routes);

  // Latest snapshot (at most ~100 ms old).
  SleeveStats stats() const;
  std::vector<SleevePeerStatus> peer_status() const;
  Endpoint local_endpoint() const { return local_; }

 private:
  SleeveDatapath(SleeveConfig config, TapBatch tap, UdpBatchSocket udp, OwnedFd wake);
  void run();
  bool pump_tap();
  bool pump_udp();
  void emit();
  void run_posted();
  void snapshot();

  // Datapath thread only.
  SleeveEngine engine_;
  TapBatch tap_;
  UdpBatchSocket udp_;
  SleeveOutput out_;
  std::vector<TapFrame> tap_in_;
  std::vector<std::span<const std::uint8_t>> frame_views_;
  std::vector<Datagram> udp_in_;
  const Clock* clock_;

  // Any thread.
  OwnedFd wake_;  // eventfd
  Endpoint local_;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mu_;  // guards posted_, stats_, status_
  std::vector<std::function<void(SleeveEngine&)>> posted_;
  SleeveStats stats_;
  std::vector<SleevePeerStatus> status_;
  std::thread thread_;
};

}  // namespace weft::datapath
