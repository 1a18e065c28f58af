#include "cni/config.hpp"

#include <algorithm>

#include "common/http_parse.hpp"

namespace weft::cni {

namespace {

using nlohmann::json;

// CNI_CONTAINERID: an alphanumeric, then alphanumerics, '_', '.' or '-' (spec section 2).
bool valid_container_id(std::string_view id) {
  if (id.empty() || id.size() > 1024)
    return false;
  auto alnum = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  };
  if (!alnum(id.front()))
    return false;
  return std::all_of(id.begin(), id.end(),
                     [&](char c) { return alnum(c) || c == '_' || c == '.' || c == '-'; });
}

// A Linux interface name: 1-15 bytes, not "." or "..", no '/', ':' or whitespace.
bool valid_ifname(std::string_view name) {
  if (name.empty() || name.size() > 15 || name == "." || name == "..")
    return false;
  return std::none_of(name.begin(), name.end(), [](char c) {
    return c == '/' || c == ':' || c == ' ' || c == '\t' || c == '\n' || c == '\0';
  });
}

CniError env_error(std::string_view var, std::string_view why) {
  return cni_error(kCodeInvalidEnvironment, std::string(var) + " " + std::string(why));
}

CniError config_error(std::string what) {
  return cni_error(kCodeInvalidConfig, "invalid network configuration", std::move(what));
}

CniResult<std::vector<std::pair<std::string, std::string>>> parse_args(std::string_view text) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!text.empty()) {
    const auto semi = text.find(';');
    const std::string_view kv = text.substr(0, semi);
    text = semi == std::string_view::npos ? std::string_view{} : text.substr(semi + 1);
    if (kv.empty())
      continue;
    const auto eq = kv.find('=');
    if (eq == std::string_view::npos || eq == 0) {
      return env_error("CNI_ARGS", "is not KEY=VALUE;...: \"" + std::string(kv) + "\"");
    }
    out.emplace_back(std::string(kv.substr(0, eq)), std::string(kv.substr(eq + 1)));
  }
  return out;
}

// Optional typed members: absent or null is "not given"; a wrong type is code 7.
CniResult<std::optional<std::string>> opt_string(const json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null())
    return std::optional<std::string>{};
  if (!it->is_string())
    return config_error(fmt::format("\"{}\" must be a string", key));
  return std::optional<std::string>(it->get<std::string>());
}

CniResult<std::optional<bool>> opt_bool(const json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null())
    return std::optional<bool>{};
  if (!it->is_boolean())
    return config_error(fmt::format("\"{}\" must be true or false", key));
  return std::optional<bool>(it->get<bool>());
}

CniResult<std::vector<IpFamily>> parse_families(const json& obj) {
  std::vector<IpFamily> out;
  auto it = obj.find("families");
  if (it == obj.end() || it->is_null())
    return out;
  if (!it->is_array() || it->empty()) {
    return config_error("\"families\" must be a non-empty list of \"ipv4\" and \"ipv6\"");
  }
  for (const auto& f : *it) {
    const std::string s = f.is_string() ? f.get<std::string>() : std::string();
    IpFamily fam{};
    if (s == "ipv4") {
      fam = IpFamily::kV4;
    } else if (s == "ipv6") {
      fam = IpFamily::kV6;
    } else {
      return config_error(fmt::format("\"families\": unknown family {}", f.dump()));
    }
    if (std::find(out.begin(), out.end(), fam) == out.end())
      out.push_back(fam);
  }
  return out;
}

CniResult<std::vector<Cidr>> parse_routes(const json& obj) {
  std::vector<Cidr> out;
  auto it = obj.find("routes");
  if (it == obj.end() || it->is_null())
    return out;
  if (!it->is_array())
    return config_error("ipam \"routes\" must be a list");
  for (const auto& r : *it) {
    if (!r.is_object() || !r.contains("dst") || !r["dst"].is_string()) {
      return config_error("ipam \"routes\": each needs a \"dst\" CIDR");
    }
    auto c = parse_cidr(r["dst"].get<std::string>());
    if (!c)
      return config_error("ipam \"routes\": " + c.error().message);
    out.push_back(*c);
  }
  return out;
}

CniResult<std::vector<ValidAttachment>> parse_valid_attachments(const json& obj) {
  std::vector<ValidAttachment> out;
  auto it = obj.find("cni.dev/valid-attachments");
  if (it == obj.end() || it->is_null())
    return out;
  if (!it->is_array())
    return config_error("\"cni.dev/valid-attachments\" must be a list");
  for (const auto& a : *it) {
    if (!a.is_object() || !a.contains("containerID") || !a["containerID"].is_string() ||
        !a.contains("ifname") || !a["ifname"].is_string()) {
      return config_error(
          "\"cni.dev/valid-attachments\": each needs \"containerID\" and \"ifname\" strings");
    }
    out.push_back({a["containerID"].get<std::string>(), a["ifname"].get<std::string>()});
  }
  std::sort(out.begin(), out.end());
  return out;
}

CniResult<void> parse_version(const json& obj, Command command, NetConf& conf) {
  WEFT_TRY(auto v, opt_string(obj, "cniVersion"));
  conf.cni_version = v.value_or("");
  if (command == Command::kVersion)
    return {};
  auto parsed = parse_spec_version(conf.cni_version);
  if (!parsed) {
    return cni_error(kCodeIncompatibleVersion, "incompatible CNI version",
                     fmt::format("cniVersion \"{}\" is not one of {}", conf.cni_version,
                                 fmt::join(supported_versions(), ", ")));
  }
  conf.version = *parsed;
  if (command == Command::kCheck && !supports_check(conf.version)) {
    return cni_error(kCodeIncompatibleVersion, "config version does not allow CHECK",
                     "CHECK needs cniVersion 0.4.0 or later");
  }
  if ((command == Command::kStatus || command == Command::kGc) &&
      !supports_status_gc(conf.version)) {
    return cni_error(kCodeIncompatibleVersion,
                     fmt::format("config version does not allow {}", to_string(command)),
                     "STATUS and GC need cniVersion 1.1.0 or later");
  }
  return {};
}

// The keys weft reads, from the top level (weft-cni) or the ipam object (weft-ipam).
CniResult<void> parse_weft_keys(const json& obj, NetConf& conf) {
  WEFT_TRY(auto socket, opt_string(obj, "socket"));
  if (socket) {
    if (socket->empty())
      return config_error("\"socket\" must not be empty");
    conf.socket = *socket;
  }
  WEFT_TRY(conf.families, parse_families(obj));
  return {};
}

CniResult<void> parse_plugin_keys(const json& obj, NetConf& conf) {
  WEFT_TRY_VOID(parse_weft_keys(obj, conf));
  WEFT_TRY(auto bridge, opt_string(obj, "bridge"));
  if (bridge) {
    if (bridge->empty() || bridge->size() > 15) {
      return config_error("\"bridge\" must be an interface name");
    }
    conf.bridge = *bridge;
  }
  if (auto it = obj.find("mtu"); it != obj.end() && !it->is_null()) {
    if (!it->is_number_integer() || it->get<std::int64_t>() < 576 ||
        it->get<std::int64_t>() > 65535) {
      return config_error("\"mtu\" must be a number from 576 to 65535");
    }
    conf.mtu = it->get<std::uint32_t>();
  }
  WEFT_TRY(auto hairpin, opt_bool(obj, "hairpinMode"));
  conf.hairpin = hairpin.value_or(false);
  WEFT_TRY(auto route, opt_bool(obj, "defaultRoute"));
  conf.default_route = route.value_or(true);
  return {};
}

CniResult<void> parse_ipam(const json& obj, NetConf& conf) {
  auto it = obj.find("ipam");
  if (it == obj.end() || it->is_null())
    return {};
  if (!it->is_object())
    return config_error("\"ipam\" must be an object");
  conf.ipam = *it;
  WEFT_TRY(auto type, opt_string(*it, "type"));
  if (!type || type->empty())
    return config_error("\"ipam\" needs a \"type\"");
  if (*type != kIpamType) {
    conf.ipam_type = *type;
    return {};
  }
  WEFT_TRY_VOID(parse_weft_keys(*it, conf));
  WEFT_TRY(conf.ipam_routes, parse_routes(*it));
  return {};
}

}  // namespace

CniResult<CniEnv> parse_env_values(std::optional<std::string_view> command,
                                   std::optional<std::string_view> container_id,
                                   std::optional<std::string_view> netns,
                                   std::optional<std::string_view> ifname,
                                   std::optional<std::string_view> args,
                                   std::optional<std::string_view> path) {
  CniEnv env;
  if (!command || command->empty())
    return env_error("CNI_COMMAND", "is not set");
  auto cmd = parse_command(*command);
  if (!cmd) {
    return env_error("CNI_COMMAND", "is not ADD, DEL, CHECK, STATUS, GC or VERSION: \"" +
                                        std::string(*command) + "\"");
  }
  env.command = *cmd;
  const bool attachment = env.command == Command::kAdd || env.command == Command::kDel ||
                          env.command == Command::kCheck;
  if (attachment) {
    if (!container_id || !valid_container_id(*container_id)) {
      return env_error("CNI_CONTAINERID",
                       container_id ? "is not a valid container ID" : "is not set");
    }
    if (!ifname || !valid_ifname(*ifname)) {
      return env_error("CNI_IFNAME", ifname ? "is not a valid interface name" : "is not set");
    }
    env.container_id = std::string(*container_id);
    env.ifname = std::string(*ifname);
    // DEL may come after the namespace is gone; ADD and CHECK need it.
    if (env.command != Command::kDel && (!netns || netns->empty())) {
      return env_error("CNI_NETNS", "is not set");
    }
    env.netns = std::string(netns.value_or(""));
  }
  if (args) {
    WEFT_TRY(env.args, parse_args(*args));
  }
  env.path = std::string(path.value_or(""));
  return env;
}

CniResult<NetConf> parse_config(std::string_view text, Command command) {
  NetConf conf;
  if (command == Command::kVersion && text.find_first_not_of(" \t\r\n") == std::string::npos) {
    return conf;
  }
  auto doc = parse_json_body(text);
  if (!doc || !doc->is_object()) {
    return cni_error(kCodeDecodeFailure, "cannot decode the network configuration",
                     doc ? std::string("it is not a JSON object") : doc.error().message);
  }
  const json& obj = *doc;
  WEFT_TRY_VOID(parse_version(obj, command, conf));
  if (command == Command::kVersion)
    return conf;
  WEFT_TRY(auto name, opt_string(obj, "name"));
  conf.name = name.value_or("");
  WEFT_TRY(auto type, opt_string(obj, "type"));
  conf.type = type.value_or("");
  WEFT_TRY_VOID(parse_ipam(obj, conf));
  if (conf.type == kPluginType) {
    WEFT_TRY_VOID(parse_plugin_keys(obj, conf));
  } else if (conf.ipam.is_object() && conf.ipam_type.empty()) {
    conf.ipam_only = true;  // another main plugin delegated its IPAM to us
  } else {
    return cni_error(kCodeUnsupportedField, "unsupported plugin type",
                     fmt::format("\"type\": \"{}\": this plugin is \"{}\" (or \"{}\" as ipam)",
                                 conf.type, kPluginType, kIpamType));
  }
  if (auto it = obj.find("prevResult"); it != obj.end() && !it->is_null()) {
    if (!it->is_object())
      return config_error("\"prevResult\" must be an object");
    conf.prev_result = *it;
  }
  WEFT_TRY(conf.valid_attachments, parse_valid_attachments(obj));
  return conf;
}

std::string peek_version(std::string_view text) {
  auto doc = parse_json_body(text);
  if (!doc || !doc->is_object())
    return {};
  auto it = doc->find("cniVersion");
  return it != doc->end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace weft::cni
