#include "router/notifier.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace weft::router {

namespace asio = boost::asio;

Notifier::Notifier(asio::any_io_executor executor) : timer_(std::move(executor)) {
  timer_.expires_at(asio::steady_timer::time_point::max());
}

void Notifier::notify() {
  pending_ = true;
  timer_.cancel();
}

asio::awaitable<bool> Notifier::wait() {
  while (!pending_) {
    co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
    const auto state = co_await asio::this_coro::cancellation_state;
    if (state.cancelled() != asio::cancellation_type::none) {
      co_return false;
    }
  }
  pending_ = false;
  co_return true;
}

}  // namespace weft::router
