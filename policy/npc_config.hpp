// weft-npc's flags for running the controller (policy/command.hpp prints the usage).
//
// Contract: parse_npc_args is a pure function of the arguments and the environment lookup.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"

namespace weft::policy {

struct NpcConfig {
  std::string kubeconfig;  // empty: in-cluster config
  std::string context;
  std::string node_name;
  std::string bridge = "weft";
  std::vector<std::string> pod_port_prefixes{"vethwc"};
  std::string metrics_address = "127.0.0.1:6781";  // "off": no HTTP endpoint
  std::uint16_t nflog_group = 86;
  std::chrono::milliseconds resync_interval{std::chrono::minutes(5)};
  std::chrono::milliseconds verify_interval{std::chrono::seconds(10)};
  std::string log_level = "info";
  bool cleanup = false;
  bool help = false;
  bool version = false;
};

using EnvLookup = std::function<std::optional<std::string>(std::string_view)>;

// `hostname` is the default node name when neither --node-name nor NODE_NAME is given.
Result<NpcConfig> parse_npc_args(const std::vector<std::string>& args, const EnvLookup& env,
                                 const std::string& hostname);

// "500ms", "10s", "5m", "1h"; a bare number is seconds.
Result<std::chrono::milliseconds> parse_duration(std::string_view text);

}  // namespace weft::policy
