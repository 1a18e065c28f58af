#include "tests/support/virtual_clock.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace weft::test {

namespace asio = boost::asio;

asio::awaitable<bool> VirtualClock::sleep_for(Duration d) {
  // The timer never expires by itself; advance_to() cancels it when virtual time is due.
  asio::steady_timer timer(co_await asio::this_coro::executor,
                           asio::steady_timer::time_point::max());
  bool fired = false;
  const Key key{now_ + std::max(d, Duration::zero()), seq_++};
  sleepers_.emplace(key, Sleeper{&timer, &fired});
  co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  if (!fired) {
    // Cancelled from outside: forget the entry so advance_to() never touches the timer.
    sleepers_.erase(key);
  }
  co_return fired;
}

void VirtualClock::advance_to(TimePoint t) {
  if (t > now_) {
    now_ = t;
  }
  while (!sleepers_.empty() && sleepers_.begin()->first.first <= now_) {
    const Sleeper s = sleepers_.begin()->second;
    sleepers_.erase(sleepers_.begin());
    *s.fired = true;
    s.timer->cancel();
  }
}

bool VirtualClock::run_until(asio::io_context& io, const std::function<bool()>& done,
                             Duration limit) {
  const TimePoint end = now_ + limit;
  for (;;) {
    io.restart();
    io.poll();
    if (done()) {
      return true;
    }
    if (sleepers_.empty() || next_deadline() > end) {
      return false;
    }
    advance_to(next_deadline());
  }
}

void VirtualClock::run_until_idle(asio::io_context& io, Duration limit) {
  run_until(
      io, [] { return false; }, limit);
}

}  // namespace weft::test
