// What the command handlers of weft-cni share (internal to cni/).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "cni/cni_result.hpp"
#include "cni/config.hpp"
#include "cni/weftd_client.hpp"
#include "common/netlink.hpp"

namespace weft::cni {

struct Context {
  const CniEnv& env;
  const NetConf& conf;
  std::string_view config_text;  // passed unchanged to delegates
  WeftdClient weftd;

  // The registry "source" of this network's attachments.
  std::string source() const { return (conf.ipam_only ? "cni-ipam:" : "cni:") + conf.name; }
  bool delegated() const { return !conf.ipam_type.empty(); }
};

// Steps to undo on failure, run in reverse unless disarmed.
class Rollback {
 public:
  Rollback() = default;
  Rollback(const Rollback&) = delete;
  Rollback& operator=(const Rollback&) = delete;
  ~Rollback() {
    if (!armed_)
      return;
    for (auto it = steps_.rbegin(); it != steps_.rend(); ++it)
      (*it)();
  }
  void add(std::function<void()> step) { steps_.push_back(std::move(step)); }
  void disarm() { armed_ = false; }

 private:
  std::vector<std::function<void()>> steps_;
  bool armed_ = true;
};

// Netlink in the plugin's own (the host's) namespace; code 100 when it cannot be opened.
CniResult<std::unique_ptr<Netlink>> host_netlink();
// Deletes `name` (a host veth end) when it exists; best effort, for DEL and GC.
void delete_link_if_present(Netlink& nl, const std::string& name);

CniResult<CniSuccess> cmd_add(Context& c);
CniResult<void> cmd_del(Context& c);
CniResult<void> cmd_check(Context& c);
CniResult<CniSuccess> ipam_add(Context& c);
CniResult<void> ipam_del(Context& c);
CniResult<void> ipam_check(Context& c);

}  // namespace weft::cni
