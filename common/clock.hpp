// Clock: the only source of time for library code, so that simulations can run many peers
// on virtual time. Library code never calls std::chrono::*::now() or sleeps directly.
//
// Contract: now() is monotonic. sleep_for() suspends the calling coroutine on its own
// executor and returns true when the time passed, false when the operation was cancelled
// (per-operation cancellation, e.g. from `sleep_for(d) || other_op()` or a TaskGroup).
#pragma once

#include <chrono>

#include <boost/asio/awaitable.hpp>

namespace weft {

class Clock {
 public:
  using Duration = std::chrono::nanoseconds;
  using TimePoint = std::chrono::time_point<std::chrono::steady_clock, Duration>;

  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
  virtual boost::asio::awaitable<bool> sleep_for(Duration d) = 0;
};

// The real monotonic clock; sleeps with an asio steady_timer.
class SteadyClock final : public Clock {
 public:
  TimePoint now() const override;
  boost::asio::awaitable<bool> sleep_for(Duration d) override;
};

}  // namespace weft
