// Network namespaces: handles, named namespaces like `ip netns`, and running code inside one.
//
// Design note: the network namespace is a per-thread attribute (setns(CLONE_NEWNET) and
// unshare(CLONE_NEWNET) change only the calling thread). We never switch a caller's thread:
// run_in_netns() starts a short-lived thread, joins the namespace there, runs the function,
// and lets the thread end. Whatever is bound to a namespace when it is created (netlink and
// other sockets, /dev/net/tun queues) stays in that namespace after the thread has gone, so
// one process can work in many namespaces at once (the router, the CNI plugin, parallel
// tests) without ever depending on the process's current namespace.
//
// Contract: Netns is a move-only owner of an nsfs file descriptor; it keeps the namespace
// alive while open, even after its name was removed. All functions are thread-safe (they
// touch no shared state besides the /run/netns directory). Errors: kNotFound for a missing
// name/path/pid, kAlreadyExists when creating a taken name, kInvalidArgument for a bad
// name, kIo for other system failures.
#pragma once

#include <cstdint>
#include <exception>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "common/result.hpp"
#include <sys/types.h>

namespace weft {

// Owns one file descriptor; closes it on destruction.
class OwnedFd {
 public:
  OwnedFd() = default;
  explicit OwnedFd(int fd) : fd_(fd) {}
  OwnedFd(OwnedFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  OwnedFd& operator=(OwnedFd&& other) noexcept;
  OwnedFd(const OwnedFd&) = delete;
  OwnedFd& operator=(const OwnedFd&) = delete;
  ~OwnedFd() { reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  explicit operator bool() const { return valid(); }
  // Gives up ownership without closing.
  int release() { return std::exchange(fd_, -1); }
  void reset(int fd = -1);

 private:
  int fd_ = -1;
};

class Netns {
 public:
  // Directory of named namespaces, as used by iproute2.
  static constexpr std::string_view kRunDir = "/run/netns";

  // The namespace of the calling thread.
  static Result<Netns> current();
  // A namespace file: /run/netns/NAME, /var/run/netns/x, /proc/<pid>/ns/net, a bind mount.
  static Result<Netns> open_path(std::string_view path);
  // A named namespace (/run/netns/NAME).
  static Result<Netns> open_name(std::string_view name);
  // The namespace of a process.
  static Result<Netns> open_pid(pid_t pid);
  // Creates a new empty named namespace like `ip netns add NAME` and opens it.
  static Result<Netns> create(std::string_view name);
  // Removes the name like `ip netns delete NAME`. The namespace itself ends when nothing
  // uses it any more (no process, open handle or socket).
  static Result<void> remove(std::string_view name);
  // "/run/netns/NAME"
  static std::string named_path(std::string_view name);

  Netns(Netns&&) noexcept = default;
  Netns& operator=(Netns&&) noexcept = default;

  int fd() const { return fd_.get(); }
  // The path it was opened from (for messages).
  const std::string& path() const { return path_; }
  // Identity of the namespace (nsfs inode); equal inodes = same namespace.
  std::uint64_t inode() const { return inode_; }
  bool same_as(const Netns& other) const { return inode_ == other.inode_; }
  // A second handle on the same namespace.
  Result<Netns> duplicate() const;

 private:
  Netns(OwnedFd fd, std::string path, std::uint64_t inode)
      : fd_(std::move(fd)), path_(std::move(path)), inode_(inode) {}
  static Result<Netns> from_fd(OwnedFd fd, std::string path);

  OwnedFd fd_;
  std::string path_;
  std::uint64_t inode_ = 0;
};

namespace detail {
// Runs `body` on a new thread that has joined `ns`, and waits for it. Returns an error
// (without running `body`) when the thread cannot be started or cannot join `ns`.
Result<void> run_on_netns_thread(const Netns& ns, const std::function<void()>& body);
}  // namespace detail

// Calls `fn()` inside `ns` on a dedicated short-lived thread and returns its result; the
// calling thread's namespace never changes. `fn` must return a Result<...>; an exception
// thrown by `fn` is rethrown in the caller. Blocks until `fn` returns.
template <class F>
std::invoke_result_t<F&> run_in_netns(const Netns& ns, F&& fn) {
  using R = std::invoke_result_t<F&>;
  static_assert(std::is_constructible_v<R, Error>, "fn must return a Result<...>");
  std::optional<R> out;
  std::exception_ptr thrown;
  auto started = detail::run_on_netns_thread(ns, [&] {
    try {
      out.emplace(fn());
    } catch (...) {
      thrown = std::current_exception();
    }
  });
  if (!started) {
    return R(started.error());
  }
  if (thrown) {
    std::rethrow_exception(thrown);
  }
  return std::move(*out);
}

}  // namespace weft
