// What the runtime tells the plugin: the CNI_* environment and the network configuration
// on stdin. Both are untrusted input: pure parsers, fuzzed (tests/fuzz/cni_config_fuzz.cpp).
//
// The configuration this plugin reads (anything else is kept for delegates and ignored):
//   {"cniVersion": "1.0.0", "name": "weft", "type": "weft-cni",
//    "socket": "/run/weft/weft.sock",   weftd's API socket
//    "bridge": "weft",                  the bridge weftd made
//    "mtu": 1376,                       default: the bridge's MTU (the overlay's)
//    "hairpinMode": false,
//    "families": ["ipv4", "ipv6"],      default: every range weftd has
//    "defaultRoute": true,              default routes via the bridge's address per family
//    "ipam": {"type": "host-local", ...}   default: weftd's allocator
//    "prevResult": {...}, "cni.dev/valid-attachments": [...]}
// As an IPAM plugin (type "weft-ipam" in the "ipam" object of another plugin), the same
// keys ("socket", "families", "routes") are read from the "ipam" object.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "cni/spec.hpp"
#include "common/address.hpp"

namespace weft::cni {

inline constexpr std::string_view kPluginType = "weft-cni";
inline constexpr std::string_view kIpamType = "weft-ipam";
inline constexpr std::string_view kDefaultSocket = "/run/weft/weft.sock";

struct CniEnv {
  Command command = Command::kVersion;
  std::string container_id;
  std::string netns;
  std::string ifname;
  std::vector<std::pair<std::string, std::string>> args;  // CNI_ARGS, in order
  std::string path;                                       // CNI_PATH (':'-separated)
};

// `get(name)` returns the variable or nullopt. Checks what the command requires (spec
// section 2): code 4 naming the variable when it is missing or malformed.
template <class Get>
CniResult<CniEnv> parse_env(Get&& get);
CniResult<CniEnv> parse_env_values(std::optional<std::string_view> command,
                                   std::optional<std::string_view> container_id,
                                   std::optional<std::string_view> netns,
                                   std::optional<std::string_view> ifname,
                                   std::optional<std::string_view> args,
                                   std::optional<std::string_view> path);

struct ValidAttachment {
  std::string container_id;
  std::string ifname;
  friend auto operator<=>(const ValidAttachment&, const ValidAttachment&) = default;
};

struct NetConf {
  std::string cni_version;  // as given
  SpecVersion version = SpecVersion::k110;
  std::string name;
  std::string type;
  bool ipam_only = false;  // invoked as weft-ipam (the "ipam" object names us)
  std::string socket{kDefaultSocket};
  std::string bridge = "weft";
  std::optional<std::uint32_t> mtu;
  bool hairpin = false;
  bool default_route = true;
  std::vector<IpFamily> families;  // empty: every range weftd has
  nlohmann::json ipam;             // the "ipam" object, or null
  std::string ipam_type;           // "" when weftd allocates, else the delegate's type
  std::vector<Cidr> ipam_routes;   // weft-ipam: "routes": [{"dst": ...}] passed back
  std::optional<nlohmann::json> prev_result;
  std::vector<ValidAttachment> valid_attachments;  // GC
};

// Parses stdin for `command`: code 6 when it is not a JSON object, 1 for a version this
// plugin does not speak (or an operation the version lacks), 7 for a bad value, 2 for a
// field of an unsupported kind. VERSION accepts any (or no) configuration.
CniResult<NetConf> parse_config(std::string_view text, Command command);

// "1.0.0" from the config text when it has one, else "" (for error objects before parsing).
std::string peek_version(std::string_view text);

template <class Get>
CniResult<CniEnv> parse_env(Get&& get) {
  return parse_env_values(get("CNI_COMMAND"), get("CNI_CONTAINERID"), get("CNI_NETNS"),
                          get("CNI_IFNAME"), get("CNI_ARGS"), get("CNI_PATH"));
}

}  // namespace weft::cni
