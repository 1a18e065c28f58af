// WeftLab: a small multi-host lab for netns tests. One namespace holds the underlay bridge;
// each host is a namespace linked to it by a veth ("eth0" inside the host) with IPv4 and/or
// IPv6 underlay addresses. Real weftd and weft binaries from the build tree run inside the
// hosts, with their data directories, API sockets and logs in a per-lab temp directory.
//
// Contract: tests run as root. Everything a lab made (processes by PID, namespaces, the
// temp directory) goes away in its destructor, also when the test failed; names are unique
// per process and lab (`weft-t<pid>-<n>`), so labs can run side by side. Blocking calls.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.hpp"
#include "tests/support/netns_fixture.hpp"
#include "tests/support/process.hpp"

namespace weft::test {

// Directory of the built binaries (build/bin of the tree the tests were built in).
std::string weft_bin_dir();
// Directory of the test binaries and test tools (build/tests: weft-probe, ...).
std::string weft_test_dir();

class WeftHost {
 public:
  WeftHost(std::string label, std::string dir);
  ~WeftHost();
  WeftHost(const WeftHost&) = delete;
  WeftHost& operator=(const WeftHost&) = delete;

  const std::string& label() const { return label_; }
  const ScopedNetns& ns() const { return ns_; }
  const std::string& netns() const { return ns_.name(); }
  const std::string& data_dir() const { return data_dir_; }
  const std::string& api_socket() const { return api_socket_; }
  const std::string& log_path() const { return log_path_; }

  // Starts weftd in the host with --nickname <label>, --data-dir, --api-socket and `args`
  // (peers and further flags); `env` adds "KEY=VALUE" entries (e.g. WEFT_PASSWORD).
  Result<void> start_weftd(const std::vector<std::string>& args,
                           const std::vector<std::string>& env = {});
  bool weftd_running();
  // SIGTERM and wait; returns the exit status (0 on a clean shutdown).
  int stop_weftd();
  // kill -9.
  void kill_weftd();

  // Runs `weft <args>` in the host against this host's daemon.
  CommandResult weft(const std::string& args) const;
  // `weft report` parsed; null when weftd is not answering.
  nlohmann::json report() const;
  // The last `lines` lines of weftd's log, for failure messages.
  std::string log_tail(std::size_t lines = 40) const;

 private:
  std::string label_;
  ScopedNetns ns_;
  std::string data_dir_, api_socket_, log_path_;
  std::vector<std::string> last_args_;
  std::optional<ChildProcess> weftd_;
};

class WeftLab {
 public:
  WeftLab();
  ~WeftLab();
  WeftLab(const WeftLab&) = delete;
  WeftLab& operator=(const WeftLab&) = delete;

  // Empty when the lab is usable, else why not.
  const std::string& error() const { return error_; }
  const std::string& dir() const { return dir_; }
  const ScopedNetns& underlay() const { return *underlay_; }

  // Adds a host linked to the underlay bridge with `addresses` ("198.18.0.1/24",
  // "fd00:18::1/64") on its eth0; IPv6 addresses skip DAD.
  Result<WeftHost*> add_host(const std::string& label, const std::vector<std::string>& addresses,
                             int mtu = 1500);
  WeftHost& host(const std::string& label);

  // Logs of every host, for a failure message.
  std::string logs() const;

 private:
  std::string dir_;
  std::string error_;
  std::unique_ptr<ScopedNetns> underlay_;
  std::vector<std::unique_ptr<WeftHost>> hosts_;
  int links_ = 0;
};

// Polls `condition` every 200 ms until it returns an empty string (success) or `timeout`
// passes; returns the last non-empty answer (why it is not there yet) or "".
std::string eventually(const std::function<std::string()>& condition,
                       std::chrono::milliseconds timeout);

}  // namespace weft::test
