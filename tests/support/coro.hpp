// Coroutine test helpers: run an awaitable to completion from a plain (GoogleTest) test.
#pragma once

#include <chrono>
#include <exception>
#include <functional>
#include <optional>
#include <stdexcept>
#include <utility>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

namespace weft::test {

// Runs `task` on `io` until it finishes and returns its value; rethrows its exception.
// Fails (throws) if the task has not finished after `limit` of real time, so that a hung
// coroutine fails the test instead of hanging ctest.
template <class T>
T run(boost::asio::io_context& io, boost::asio::awaitable<T> task,
      std::chrono::milliseconds limit = std::chrono::seconds(30)) {
  std::exception_ptr error;
  std::optional<T> value;
  bool done = false;
  boost::asio::co_spawn(io, std::move(task), [&](const std::exception_ptr& e, T v) {
    error = e;
    if (!e) {
      value.emplace(std::move(v));
    }
    done = true;
  });
  io.restart();
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done && std::chrono::steady_clock::now() < deadline) {
    if (io.run_for(std::chrono::milliseconds(50)) == 0 && io.stopped()) {
      io.restart();
    }
  }
  if (!done) {
    throw std::runtime_error("test coroutine did not finish in time");
  }
  if (error) {
    std::rethrow_exception(error);
  }
  return std::move(*value);
}

inline void run(boost::asio::io_context& io, boost::asio::awaitable<void> task,
                std::chrono::milliseconds limit = std::chrono::seconds(30)) {
  auto wrapper = [](boost::asio::awaitable<void> t) -> boost::asio::awaitable<bool> {
    co_await std::move(t);
    co_return true;
  };
  run<bool>(io, wrapper(std::move(task)), limit);
}

// Runs `io` in short slices until `done()` holds (true) or `limit` of real time passes
// (false): for tests that wait on a component's own coroutines.
inline bool run_until(boost::asio::io_context& io, const std::function<bool()>& done,
                      std::chrono::milliseconds limit = std::chrono::seconds(5)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) {
      return false;
    }
    io.restart();
    io.run_for(std::chrono::milliseconds(5));
  }
  return true;
}

}  // namespace weft::test
