// Helpers for the CNI netns tests (weft hosts running weftd for CNI), and a way to call a CNI
// plugin the way a runtime does: in the host's netns, CNI_* in the environment, the config on
// stdin.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "tests/support/netns_fixture.hpp"
#include "tests/support/weft_lab.hpp"

namespace weft::test {

struct CniCall {
  int exit_status = -1;
  nlohmann::json out;  // the parsed stdout (null when empty or not JSON)
  std::string raw;
  bool ok() const { return exit_status == 0; }
  int code() const { return out.is_object() ? out.value("code", -1) : -1; }
};

struct CniRequest {
  CniRequest(std::string cmd, std::string id = {}, std::string ns = {})
      : command(std::move(cmd)), container_id(std::move(id)), netns(std::move(ns)) {}
  std::string command;
  std::string container_id;
  std::string netns;  // path
  std::string ifname = "eth0";
  std::string cni_path;  // CNI_PATH
  std::string plugin;    // executable; default build/bin/weft-cni
};

// Runs the plugin inside `host_netns` with `config` on stdin.
CniCall call_cni(const std::string& host_netns, const std::string& scratch_dir,
                 const CniRequest& request, const nlohmann::json& config);

// The weft-cni network config for a host: {"cniVersion", "name", "type", "socket"}.
nlohmann::json weft_config(const WeftHost& host, const std::string& version = "1.1.0");

// weftd flags for a CNI test host: dual-stack ranges in the test overlay, consensus of `n`.
std::vector<std::string> cni_weftd_args(int consensus, const std::vector<std::string>& peers);

// Empty when `host` has its bridge and a ready IPAM ring, else why not.
std::string cni_host_gap(const WeftHost& host);

// The addresses a host's weftd holds for `container_id` (GET /ip/{id}).
std::vector<std::string> held_addresses(const WeftHost& host, const std::string& container_id);

// Adds hosts h1..hN on 198.18.0.0/24 to `lab`, starts weftd on each (h2.. join h1) and
// waits for their bridges and IPAM; "" when ready, else why not (with the logs).
std::string start_cni_hosts(WeftLab& lab, int n);

// GET /containers of a host's weftd: the "containers" array (empty when unreachable).
nlohmann::json registered_containers(const WeftHost& host);

// The source tree (for scripts/install-cni).
std::string weft_source_dir();

// A busybox root filesystem in `dir` (/bin/busybox and its applets, /etc, /tmp, ...), for
// runtimes to import or run from.
Result<void> make_busybox_rootfs(const std::string& dir);

// scripts/install-cni into `bin_dir`/`conf_dir` for a weftd listening on `socket`.
CommandResult install_cni(const std::string& bin_dir, const std::string& conf_dir,
                          const std::string& socket);

}  // namespace weft::test
