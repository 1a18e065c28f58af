// Helpers for netns tests: per-test network namespaces and running shell commands (iproute2,
// ping) inside them to check what the kernel really has.
//
// Contract: tests run as root (use WEFT_REQUIRE_ROOT() first). A ScopedNetns owns a fresh
// uniquely named namespace `weft-t<pid>-<n>` and deletes its name in the destructor, also
// when an assertion failed; the namespace then ends once the last handle/socket on it is
// closed, taking its links with it. Declare a ScopedNetns before the objects that use it so
// that it is destroyed after them. Command helpers block; they are safe to call from
// several threads.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/netlink.hpp"
#include "common/netns.hpp"
#include <unistd.h>

// Skips the current test with a message unless running as root.
#define WEFT_REQUIRE_ROOT()                                                    \
  do {                                                                         \
    if (::geteuid() != 0) {                                                    \
      GTEST_SKIP() << "netns tests need root (run them with sudo or as root)"; \
    }                                                                          \
  } while (false)

// Asserts/expects that a Result holds a value, printing the error otherwise.
#define WEFT_ASSERT_OK(expr)                                              \
  do {                                                                    \
    const auto& weft_r_ = (expr);                                         \
    ASSERT_TRUE(weft_r_) << #expr << ": " << weft_r_.error().to_string(); \
  } while (false)
#define WEFT_EXPECT_OK(expr)                                              \
  do {                                                                    \
    const auto& weft_r_ = (expr);                                         \
    EXPECT_TRUE(weft_r_) << #expr << ": " << weft_r_.error().to_string(); \
  } while (false)

namespace weft::test {

// Test literals: "198.19.0.1" -> IpAddress, "02:00:00:00:00:01" -> MacAddress,
// "198.19.0.2/24" -> Cidr (host bits kept, as for interface addresses). Bad text fails the
// test (ADD_FAILURE) and gives a zero value.
IpAddress ip(std::string_view text);
MacAddress mac(std::string_view text);
Cidr prefix(std::string_view text);

// True when the JSON array `flags` (as in `ip -j link`) holds `flag`.
bool has_flag(const nlohmann::json& flags, std::string_view flag);

// The error code of a failed Result (or kOk when it succeeded), for EXPECT_EQ.
template <class R>
Errc errc_of(const R& r) {
  if (r) {
    return Errc::kOk;
  }
  if (r.error().code.category() != weft_category()) {
    return Errc::kIo;
  }
  return static_cast<Errc>(r.error().code.value());
}

// Pings `target` once from inside the namespace (ping -c1 -W1), retrying up to `attempts`
// times to ride out a slow machine.
bool ping_ok(std::string_view netns_name, std::string_view target, int attempts = 3);

struct CommandResult {
  int exit_status = -1;  // -1: did not exit normally (signal) or could not start
  std::string out;       // stdout; stderr goes to the test's stderr
  bool ok() const { return exit_status == 0; }
};

// Runs `command` with /bin/sh -c and captures its stdout and exit status.
CommandResult run_command(const std::string& command);

// Runs `command` (a shell command line) inside the named namespace via `ip netns exec`.
CommandResult run_in_netns(std::string_view netns_name, const std::string& command);

// Runs a command inside the namespace that prints JSON (`ip -j ...`, `bridge -j ...`) and
// parses it. Fails the test (ADD_FAILURE) and returns null when the command fails or its
// output is not JSON.
nlohmann::json json_in_netns(std::string_view netns_name, const std::string& command);

// Single-quotes `s` for a shell command line.
std::string shell_quote(std::string_view s);

class ScopedNetns {
 public:
  // Creates `weft-t<pid>-<n>`; on failure, netns() is unusable and error() says why.
  ScopedNetns();
  ~ScopedNetns();
  ScopedNetns(const ScopedNetns&) = delete;
  ScopedNetns& operator=(const ScopedNetns&) = delete;

  bool ok() const { return netns_.has_value(); }
  const std::string& error() const { return error_; }
  const std::string& name() const { return name_; }
  std::string path() const { return Netns::named_path(name_); }
  const Netns& netns() const { return *netns_; }

  // Shortcuts for run_in_netns / json_in_netns in this namespace.
  CommandResult run(const std::string& command) const { return run_in_netns(name_, command); }
  nlohmann::json json(const std::string& command) const { return json_in_netns(name_, command); }

 private:
  std::string name_;
  std::optional<Netns> netns_;
  std::string error_;
};

// Creates a ScopedNetns and fails the test (fatal) when it could not be made; use inside a
// TEST body: `WEFT_SCOPED_NETNS(host);`
#define WEFT_SCOPED_NETNS(var)   \
  ::weft::test::ScopedNetns var; \
  ASSERT_TRUE(var.ok()) << "cannot create netns: " << var.error()

}  // namespace weft::test
