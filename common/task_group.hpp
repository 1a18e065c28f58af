// TaskGroup: structured concurrency for coroutines. Every coroutine a component starts
// belongs to a group; shutdown is `group.cancel(); co_await group.join();`.
//
// Contract: all calls happen on the group's executor (the control thread). Tasks that
// finish with an exception are logged with their name (a coroutine edge) and do not take
// the process down. The group may be destroyed before its tasks finish (their completion
// holds the shared state), but a component should join before it releases what its tasks
// use.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

namespace weft {

class TaskGroup {
 public:
  explicit TaskGroup(boost::asio::any_io_executor executor);
  TaskGroup(const TaskGroup&) = delete;
  TaskGroup& operator=(const TaskGroup&) = delete;
  ~TaskGroup();

  // Starts `task` on the group's executor.
  void spawn(boost::asio::awaitable<void> task, std::string name);
  // Requests terminal cancellation of every running task; new spawns are still accepted.
  void cancel();
  // Completes when no task is running.
  boost::asio::awaitable<void> join();
  std::size_t size() const;

 private:
  struct State;
  boost::asio::any_io_executor executor_;
  std::shared_ptr<State> state_;
};

}  // namespace weft
