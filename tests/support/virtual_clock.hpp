// VirtualClock: a Clock whose time moves only when the test (or simulation driver) says so.
//
// Contract: single-threaded; every coroutine that sleeps on it runs on the io_context given
// to run_until_idle(). Sleepers are woken in deadline order (ties in the order they slept).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <utility>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "common/clock.hpp"

namespace weft::test {

class VirtualClock final : public Clock {
 public:
  TimePoint now() const override { return now_; }
  boost::asio::awaitable<bool> sleep_for(Duration d) override;

  // Number of coroutines currently sleeping.
  std::size_t sleepers() const { return sleepers_.size(); }
  // Deadline of the earliest sleeper; only valid when sleepers() > 0.
  TimePoint next_deadline() const { return sleepers_.begin()->first.first; }

  // Moves time to `t` (never backwards) and wakes every sleeper due by then.
  void advance_to(TimePoint t);
  void advance(Duration d) { advance_to(now_ + d); }

  // Runs `io` until nothing is runnable, then jumps time to the next deadline, and so on,
  // until `done()` is true, no sleeper is left, or virtual time passes `limit`.
  // Returns true when `done()` became true.
  bool run_until(boost::asio::io_context& io, const std::function<bool()>& done, Duration limit);
  // Runs until no coroutine is runnable or sleeping, or `limit` of virtual time passed.
  void run_until_idle(boost::asio::io_context& io, Duration limit);

 private:
  struct Sleeper {
    boost::asio::steady_timer* timer;
    bool* fired;
  };
  using Key = std::pair<TimePoint, std::uint64_t>;

  TimePoint now_{};
  std::uint64_t seq_ = 0;
  std::map<Key, Sleeper> sleepers_;
};

}  // namespace weft::test
