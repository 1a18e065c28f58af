// ChildProcess: a program started by a test (weftd in a network namespace, iperf3, ...),
// stopped by its PID when the test ends, also when the test fails. Never kills by name.
//
// Contract: blocking calls, any thread. The destructor sends SIGTERM, waits up to 5 s, then
// SIGKILL, and always reaps the child.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"
#include <sys/types.h>

namespace weft::test {

// argv[0] must be a path (execve, no PATH search).
struct SpawnOptions {
  std::string netns;             // empty: the test's own namespace; else a name under /run/netns
  std::string log_path;          // empty: inherit stdout/stderr; else both appended to this file
  std::vector<std::string> env;  // extra "KEY=VALUE" entries
};

class ChildProcess {
 public:
  static Result<ChildProcess> spawn(const std::vector<std::string>& argv,
                                    const SpawnOptions& options = {});

  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess();

  pid_t pid() const { return pid_; }
  bool running();
  // Sends `sig`; returns false when the process is already gone.
  bool signal(int sig);
  // Waits for exit; returns the exit status (128+signal when killed), nullopt on timeout.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  // SIGTERM, wait `grace`, then SIGKILL; returns the exit status.
  int stop(std::chrono::milliseconds grace = std::chrono::seconds(5));
  // SIGKILL and reap (kill -9).
  void kill_now();

 private:
  explicit ChildProcess(pid_t pid) : pid_(pid) {}
  pid_t pid_ = -1;
  std::optional<int> status_;
};

// Polls `condition` every 50 ms until it is true or `timeout` passes.
bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout);

}  // namespace weft::test
