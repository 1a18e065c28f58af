// Notifier: wakes one waiting coroutine on the control thread ("something changed, look
// again"). A notification sent while nobody waits is kept until the next wait().
//
// Contract: single-threaded; at most one waiter at a time. wait() returns false when the
// waiting coroutine was cancelled.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

namespace weft::router {

class Notifier {
 public:
  explicit Notifier(boost::asio::any_io_executor executor);
  void notify();
  // Forgets a notification nobody has waited for yet.
  void reset() { pending_ = false; }
  boost::asio::awaitable<bool> wait();

 private:
  boost::asio::steady_timer timer_;  // never expires; cancel() is the wake-up
  bool pending_ = false;
};

}  // namespace weft::router
