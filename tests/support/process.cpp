#include "tests/support/process.hpp"

#include <cstring>
#include <thread>

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace weft::test {
namespace {

int decode_status(int status) {
  if (WIFEXITED(status)) {
    return WEXITSTATUS(status);
  }
  if (WIFSIGNALED(status)) {
    return 128 + WTERMSIG(status);
  }
  return -1;
}

// Runs in the forked child: only async-signal-safe calls until execve.
[[noreturn]] void exec_child(const std::vector<std::string>& argv, const SpawnOptions& options,
                             int netns_fd, int log_fd) {
  // If the test process dies without running destructors (an abort, a crash, kill -9), its
  // children die with it instead of running on as orphans.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (netns_fd >= 0 && setns(netns_fd, CLONE_NEWNET) != 0) {
    _exit(126);
  }
  if (log_fd >= 0) {
    dup2(log_fd, STDOUT_FILENO);
    dup2(log_fd, STDERR_FILENO);
  }
  const int devnull = open("/dev/null", O_RDONLY);
  if (devnull >= 0) {
    dup2(devnull, STDIN_FILENO);
  }
  // Nothing else of the test process goes along: a listening socket of the test (a fake
  // server) inherited by a child would outlive the server's stop() and keep its port.
  syscall(SYS_close_range, 3U, ~0U, 0U);
  std::vector<char*> args;
  for (const auto& a : argv) {
    args.push_back(const_cast<char*>(a.c_str()));
  }
  args.push_back(nullptr);
  std::vector<char*> env;
  for (char** e = environ; *e != nullptr; ++e) {
    env.push_back(*e);
  }
  for (const auto& e : options.env) {
    env.push_back(const_cast<char*>(e.c_str()));
  }
  env.push_back(nullptr);
  execve(args[0], args.data(), env.data());
  _exit(127);
}

}  // namespace

Result<ChildProcess> ChildProcess::spawn(const std::vector<std::string>& argv,
                                         const SpawnOptions& options) {
  if (argv.empty()) {
    return make_error(Errc::kInvalidArgument, "spawn: empty argv");
  }
  int netns_fd = -1;
  if (!options.netns.empty()) {
    const std::string path = "/run/netns/" + options.netns;
    netns_fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (netns_fd < 0) {
      return errno_error("spawn: open " + path);
    }
  }
  int log_fd = -1;
  if (!options.log_path.empty()) {
    log_fd = open(options.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (log_fd < 0) {
      const auto err = errno_error("spawn: open " + options.log_path);
      if (netns_fd >= 0) {
        close(netns_fd);
      }
      return err;
    }
  }
  const pid_t pid = fork();
  if (pid == 0) {
    exec_child(argv, options, netns_fd, log_fd);
  }
  const int fork_errno = errno;
  if (netns_fd >= 0) {
    close(netns_fd);
  }
  if (log_fd >= 0) {
    close(log_fd);
  }
  if (pid < 0) {
    errno = fork_errno;
    return errno_error("spawn: fork");
  }
  return ChildProcess(pid);
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)), status_(other.status_) {}

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
  if (this != &other) {
    if (pid_ > 0 && !status_) {
      stop();
    }
    pid_ = std::exchange(other.pid_, -1);
    status_ = other.status_;
  }
  return *this;
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0 && !status_) {
    stop();
  }
}

bool ChildProcess::running() {
  if (pid_ <= 0 || status_) {
    return false;
  }
  int status = 0;
  const pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    status_ = decode_status(status);
    return false;
  }
  return r == 0;
}

bool ChildProcess::signal(int sig) {
  return running() && ::kill(pid_, sig) == 0;
}

std::optional<int> ChildProcess::wait(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (running()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return std::nullopt;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return status_;
}

int ChildProcess::stop(std::chrono::milliseconds grace) {
  if (signal(SIGTERM)) {
    if (auto s = wait(grace)) {
      return *s;
    }
  }
  kill_now();
  return status_.value_or(-1);
}

void ChildProcess::kill_now() {
  if (pid_ <= 0 || status_) {
    return;
  }
  ::kill(pid_, SIGKILL);
  int status = 0;
  if (waitpid(pid_, &status, 0) == pid_) {
    status_ = decode_status(status);
  }
}

bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return true;
}

}  // namespace weft::test
