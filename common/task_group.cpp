#include "common/task_group.hpp"

#include <exception>
#include <list>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/log.hpp"

namespace weft {

namespace asio = boost::asio;

struct TaskGroup::State {
  explicit State(asio::any_io_executor ex) : idle(std::move(ex)) {
    idle.expires_at(asio::steady_timer::time_point::max());
  }
  struct Task {
    std::string name;
    asio::cancellation_signal signal;
  };
  std::list<Task> tasks;
  // Never expires; cancelled to wake joiners when the last task finishes.
  asio::steady_timer idle;
};

TaskGroup::TaskGroup(asio::any_io_executor executor)
    : executor_(executor), state_(std::make_shared<State>(executor)) {}

TaskGroup::~TaskGroup() {
  cancel();
}

void TaskGroup::spawn(asio::awaitable<void> task, std::string name) {
  auto it = state_->tasks.emplace(state_->tasks.end());
  it->name = std::move(name);
  auto done = [state = state_, it](const std::exception_ptr& e) {
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        log::error("task failed", {{"task", it->name}, {"error", ex.what()}});
      }
    }
    state->tasks.erase(it);
    if (state->tasks.empty()) {
      state->idle.cancel();
    }
  };
  asio::co_spawn(executor_, std::move(task),
                 asio::bind_cancellation_slot(it->signal.slot(), std::move(done)));
}

void TaskGroup::cancel() {
  for (auto& t : state_->tasks) {
    t.signal.emit(asio::cancellation_type::terminal);
  }
}

asio::awaitable<void> TaskGroup::join() {
  // Keep the state alive while waiting even if the group object goes away.
  auto state = state_;
  while (!state->tasks.empty()) {
    co_await state->idle.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

std::size_t TaskGroup::size() const {
  return state_->tasks.size();
}

}  // namespace weft
