#include "policy/npc_config.hpp"

#include <charconv>

#include "common/log.hpp"
#include <fmt/format.h>

namespace weft::policy {

Result<std::chrono::milliseconds> parse_duration(std::string_view text) {
  std::uint64_t number = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (ec != std::errc() || end == text.data() || number > 1'000'000'000) {
    return make_error(Errc::kInvalidArgument, "\"{}\" is not a duration (500ms, 10s, 5m)", text);
  }
  const std::string_view unit(end, static_cast<std::size_t>(text.data() + text.size() - end));
  std::uint64_t ms = 0;
  if (unit == "ms") {
    ms = number;
  } else if (unit.empty() || unit == "s") {
    ms = number * 1000;
  } else if (unit == "m") {
    ms = number * 60'000;
  } else if (unit == "h") {
    ms = number * 3'600'000;
  } else {
    return make_error(Errc::kInvalidArgument, "\"{}\" is not a duration (500ms, 10s, 5m)", text);
  }
  return std::chrono::milliseconds(ms);
}

Result<NpcConfig> parse_npc_args(const std::vector<std::string>& args, const EnvLookup& env,
                                 const std::string& hostname) {
  NpcConfig c;
  bool prefixes_given = false;
  if (auto v = env("KUBECONFIG"); v && !v->empty()) {
    c.kubeconfig = v->substr(0, v->find(':'));  // kubectl merges a list; the first file here
  }
  c.node_name = env("NODE_NAME").value_or(hostname);
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string arg = args[i];
    std::optional<std::string> inline_value;
    if (arg.starts_with("--") && arg.find('=') != std::string::npos) {
      inline_value = arg.substr(arg.find('=') + 1);
      arg = arg.substr(0, arg.find('='));
    }
    auto value = [&]() -> Result<std::string> {
      if (inline_value) {
        return *inline_value;
      }
      if (i + 1 >= args.size()) {
        return make_error(Errc::kInvalidArgument, "{} needs a value", arg);
      }
      return args[++i];
    };
    if (arg == "-h" || arg == "--help") {
      c.help = true;
    } else if (arg == "--version") {
      c.version = true;
    } else if (arg == "--cleanup") {
      c.cleanup = true;
    } else if (arg == "--kubeconfig") {
      WEFT_TRY(c.kubeconfig, value());
    } else if (arg == "--context") {
      WEFT_TRY(c.context, value());
    } else if (arg == "--node-name") {
      WEFT_TRY(c.node_name, value());
    } else if (arg == "--bridge") {
      WEFT_TRY(c.bridge, value());
    } else if (arg == "--pod-port-prefix") {
      WEFT_TRY(auto prefix, value());
      if (prefix.empty() || prefix.size() > 14) {
        return make_error(Errc::kInvalidArgument,
                          "--pod-port-prefix: 1 to 14 characters of an interface name");
      }
      if (!prefixes_given) {
        c.pod_port_prefixes.clear();
        prefixes_given = true;
      }
      c.pod_port_prefixes.push_back(prefix);
    } else if (arg == "--metrics-address") {
      WEFT_TRY(c.metrics_address, value());
    } else if (arg == "--nflog-group") {
      WEFT_TRY(auto text, value());
      unsigned group = 0;
      const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), group);
      if (ec != std::errc() || end != text.data() + text.size() || group == 0 || group > 65535) {
        return make_error(Errc::kInvalidArgument, "--nflog-group: 1..65535");
      }
      c.nflog_group = static_cast<std::uint16_t>(group);
    } else if (arg == "--resync-interval" || arg == "--verify-interval") {
      WEFT_TRY(auto text, value());
      WEFT_TRY(auto d, parse_duration(text));
      if (d < std::chrono::milliseconds(100)) {
        return make_error(Errc::kInvalidArgument, "{}: at least 100ms", arg);
      }
      (arg == "--resync-interval" ? c.resync_interval : c.verify_interval) = d;
    } else if (arg == "--log-level") {
      WEFT_TRY(c.log_level, value());
      log::Level level{};
      if (!log::parse_level(c.log_level, level)) {
        return make_error(Errc::kInvalidArgument, "--log-level: debug, info, warn or error");
      }
    } else {
      return make_error(Errc::kInvalidArgument, "unknown flag {}", args[i]);
    }
  }
  if (c.node_name.empty()) {
    return make_error(Errc::kInvalidArgument,
                      "no node name: give --node-name (or NODE_NAME, as the DaemonSet does)");
  }
  return c;
}

}  // namespace weft::policy
