#include "weftd/daemon_config.hpp"

#include <charconv>

#include "common/host_port.hpp"
#include "weftd/npc_status.hpp"

namespace weft::weftd {

using router::parse_peer_name;
namespace {

std::vector<std::string> split_list(std::string_view text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    const auto comma = text.find(',', start);
    const auto end = comma == std::string_view::npos ? text.size() : comma;
    if (end > start) {
      out.emplace_back(text.substr(start, end - start));
    }
    if (comma == std::string_view::npos) {
      break;
    }
    start = comma + 1;
  }
  return out;
}

Result<int> parse_int(std::string_view flag, std::string_view text, int lo, int hi) {
  int v = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || ec != std::errc() || ptr != end || v < lo || v > hi) {
    return make_error(Errc::kInvalidArgument, "{}: \"{}\" is not a number in {}..{}", flag, text,
                      lo, hi);
  }
  return v;
}

// Flags that take a value, in the order of daemon_usage().
enum class Flag {
  kName,
  kNickname,
  kPort,
  kHost,
  kPassword,
  kPasswordFile,
  kTrustedKeys,
  kTrustedSubnets,
  kConnLimit,
  kDataDir,
  kApiSocket,
  kStatusAddr,
  kLogLevel,
  kDatapath,
  kMtu,
  kBridge,
  kIpallocRange,
  kIpallocDefaultSubnet,
  kIpallocInit,
  kNpcStatusUrl,
  kUnknown
};

Flag value_flag(std::string_view name) {
  static constexpr std::pair<std::string_view, Flag> kFlags[] = {
      {"--name", Flag::kName},
      {"--nickname", Flag::kNickname},
      {"--port", Flag::kPort},
      {"--host", Flag::kHost},
      {"--password", Flag::kPassword},
      {"--password-file", Flag::kPasswordFile},
      {"--trusted-keys", Flag::kTrustedKeys},
      {"--trusted-subnets", Flag::kTrustedSubnets},
      {"--conn-limit", Flag::kConnLimit},
      {"--data-dir", Flag::kDataDir},
      {"--api-socket", Flag::kApiSocket},
      {"--status-addr", Flag::kStatusAddr},
      {"--log-level", Flag::kLogLevel},
      {"--datapath", Flag::kDatapath},
      {"--mtu", Flag::kMtu},
      {"--bridge", Flag::kBridge},
      {"--ipalloc-range", Flag::kIpallocRange},
      {"--ipalloc-default-subnet", Flag::kIpallocDefaultSubnet},
      {"--ipalloc-init", Flag::kIpallocInit},
      {"--npc-status-url", Flag::kNpcStatusUrl},
  };
  for (const auto& [n, f] : kFlags) {
    if (n == name) {
      return f;
    }
  }
  return Flag::kUnknown;
}

// One case per flag: long, flat and easy to scan.
// NOLINTNEXTLINE(readability-function-size)
Result<void> apply_value(ParsedArgs& out, Flag flag, std::string_view name, std::string_view v) {
  DaemonConfig& c = out.config;
  switch (flag) {
    case Flag::kName: {
      WEFT_TRY(auto n, parse_peer_name(v));
      if (n.empty()) {
        return make_error(Errc::kInvalidArgument, "--name: 00:00:00:00:00:00 is reserved");
      }
      c.name = n;
      return {};
    }
    case Flag::kNickname:
      c.nickname = std::string(v);
      return {};
    case Flag::kPort: {
      WEFT_TRY(auto p, parse_int(name, v, 1, 65535));
      c.port = static_cast<std::uint16_t>(p);
      return {};
    }
    case Flag::kHost:
      c.host = std::string(v);
      return {};
    case Flag::kPassword:
      c.password = std::string(v);
      return {};
    case Flag::kPasswordFile:
      out.password_file = std::string(v);
      return {};
    case Flag::kTrustedKeys:
      c.trusted_keys = split_list(v);
      c.static_key = true;
      return {};
    case Flag::kTrustedSubnets:
      c.trusted_subnets.clear();
      for (const auto& item : split_list(v)) {
        WEFT_TRY(auto cidr, parse_cidr(item));
        c.trusted_subnets.push_back(cidr);
      }
      return {};
    case Flag::kConnLimit: {
      WEFT_TRY(auto n, parse_int(name, v, 0, 100000));
      c.conn_limit = n;
      return {};
    }
    case Flag::kDataDir:
      c.data_dir = std::string(v);
      return {};
    case Flag::kApiSocket:
      c.api_socket = std::string(v);
      return {};
    case Flag::kStatusAddr: {
      WEFT_TRY(auto hp, parse_host_port(v));
      if (!hp.port) {
        return make_error(Errc::kInvalidArgument, "--status-addr: \"{}\" needs a port", v);
      }
      c.status_addr = std::string(v);
      return {};
    }
    case Flag::kLogLevel:
      if (!log::parse_level(v, c.log_level)) {
        return make_error(Errc::kInvalidArgument,
                          "--log-level: \"{}\" is not debug, info, warn or error", v);
      }
      return {};
    case Flag::kDatapath: {
      auto mode = datapath::parse_datapath_mode(v);
      if (!mode) {
        return make_error(Errc::kInvalidArgument,
                          "--datapath: \"{}\" is not auto, fastdp or sleeve", v);
      }
      c.datapath = *mode;
      return {};
    }
    case Flag::kMtu: {
      WEFT_TRY(auto m, parse_int(name, v, 576, 65000));
      c.mtu = static_cast<std::uint32_t>(m);
      return {};
    }
    case Flag::kBridge:
      if (v.empty() || v.size() > 15 || v.find_first_of("/: ") != std::string_view::npos) {
        return make_error(Errc::kInvalidArgument, "--bridge: \"{}\" is not an interface name", v);
      }
      c.bridge = std::string(v);
      return {};
    case Flag::kIpallocRange:
    case Flag::kIpallocDefaultSubnet: {
      WEFT_TRY(auto cidr, parse_cidr(v));
      auto& list = flag == Flag::kIpallocRange ? c.ipalloc_ranges : c.ipalloc_default_subnets;
      for (const auto& other : list) {
        if (other.family() == cidr.family()) {
          return make_error(Errc::kInvalidArgument, "{}: one {} CIDR at most", name,
                            cidr.family() == IpFamily::kV4 ? "IPv4" : "IPv6");
        }
      }
      list.push_back(cidr);
      return {};
    }
    case Flag::kIpallocInit:
      out.ipalloc_init_text = std::string(v);
      return {};
    case Flag::kNpcStatusUrl:
      if (!v.empty()) {
        WEFT_TRY_VOID(parse_npc_status_url(v));
      }
      c.npc_status_url = std::string(v);
      return {};
    case Flag::kUnknown:
      break;
  }
  return make_error(Errc::kInvalidArgument, "unknown flag {}", name);
}

}  // namespace

Result<void> validate_peer_address(std::string_view text) {
  WEFT_TRY(auto hp, parse_host_port(text));
  (void)hp;
  return {};
}

Result<ParsedArgs> parse_daemon_args(const std::vector<std::string>& args, const EnvLookup& env) {
  ParsedArgs out;
  if (auto pw = env("WEFT_PASSWORD")) {
    out.config.password = *pw;
  }
  if (auto keys = env("WEFT_TRUSTED_KEYS")) {
    out.config.trusted_keys = split_list(*keys);
    out.config.static_key = !out.config.trusted_keys.empty();
  }
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (arg == "--help" || arg == "-h") {
      out.config.help = true;
    } else if (arg == "--version") {
      out.config.version = true;
    } else if (arg == "--no-discovery") {
      out.config.discovery = false;
    } else if (arg == "--no-fastdp") {
      out.config.datapath = datapath::DatapathMode::kSleeve;
    } else if (arg == "--no-dataplane") {
      out.config.dataplane = false;
    } else if (arg == "--no-ipam") {
      out.config.ipam = false;
    } else if (arg == "--static-key") {
      out.config.static_key = true;
    } else if (arg.starts_with("--")) {
      std::string_view name = arg;
      std::string_view value;
      const auto eq = arg.find('=');
      if (eq != std::string_view::npos) {
        name = arg.substr(0, eq);
        value = arg.substr(eq + 1);
      } else {
        if (value_flag(name) == Flag::kUnknown) {
          return make_error(Errc::kInvalidArgument, "unknown flag {}", name);
        }
        if (i + 1 >= args.size()) {
          return make_error(Errc::kInvalidArgument, "{} needs a value", name);
        }
        value = args[++i];
      }
      WEFT_TRY_VOID(apply_value(out, value_flag(name), name, value));
    } else {
      WEFT_TRY_VOID(validate_peer_address(arg));
      out.config.peers.emplace_back(arg);
    }
  }
  WEFT_TRY(out.config.ipalloc_init,
           ipam::parse_ipalloc_init(out.ipalloc_init_text, out.config.peers.size() + 1));
  return out;
}

std::string daemon_usage() {
  return R"(usage: weftd [flags] [PEER...]

Joins this host to the Weft mesh. PEER is host, host:port or [v6]:port (port 6783).

  --name NAME              persistent peer name aa:bb:cc:dd:ee:ff (generated once if unset)
  --nickname NICK          shown in status (default: host name)
  --port PORT              mesh TCP port (default 6783)
  --host ADDR              listen address, IPv4 or IPv6 (default: all addresses)
  --password PW            shared secret; also WEFT_PASSWORD
  --password-file PATH     read the shared secret from a file
  --static-key             use a persistent static key pair from the data directory
  --trusted-keys K[,K...]  base64 public keys of the only peers allowed to join
                           (implies --static-key); also WEFT_TRUSTED_KEYS
  --trusted-subnets C,...  underlay subnets whose links need no encryption
  --conn-limit N           maximum connections (default 200)
  --no-discovery           connect only to peers named explicitly
  --data-dir DIR           state directory (default /var/lib/weft)
  --api-socket PATH        control API unix socket (default /run/weft/weft.sock)
  --status-addr ADDR:PORT  read-only status, report, metrics and web page
                           (default 127.0.0.1:6784)
  --log-level LEVEL        debug, info, warn or error (default info)
  --datapath MODE          auto (fastdp where possible, else sleeve), fastdp or sleeve
  --no-fastdp              same as --datapath sleeve
  --mtu N                  overlay MTU (default: underlay MTU - 50, or - 70 with IPv6)
  --bridge NAME            the local overlay bridge (default weft)
  --no-dataplane           mesh only: no bridge, no datapaths (control-plane tests)
  --ipalloc-range CIDR     address range to allocate from; once per family
                           (default 10.32.0.0/12 and fd10:32::/48)
  --ipalloc-default-subnet CIDR  subnet for allocations that name none (default: the range)
  --ipalloc-init MODE      consensus[=N] (default), seed=NAME,..., or observer
  --no-ipam                no address allocation on this peer
  --npc-status-url URL     weft-npc's status, shown on the status page and shared with the
                           mesh (default http://127.0.0.1:6781/status; "" disables)
  --version, --help
)";
}

}  // namespace weft::weftd
