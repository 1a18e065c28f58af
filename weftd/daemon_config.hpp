// DaemonConfig: weftd's command line (and WEFT_* environment for secrets), parsed by a
// pure function so that it can be tested and fuzzed without starting anything.
//
// Flags (operators and scripts rely on these names and defaults):
//   --name NAME              persistent 48-bit peer name (aa:bb:cc:dd:ee:ff); generated once
//                            and stored in the data directory when not given
//   --nickname NICK          default: the host name
//   --port PORT              mesh TCP port (default 6783)
//   --host ADDR              listen address, IPv4 or IPv6 (default: all, both families)
//   --password PW            or WEFT_PASSWORD; binds session keys to it
//   --password-file PATH     read the password from a file (first line)
//   --static-key             use a persistent static key pair (stored in the data dir)
//   --trusted-keys K[,K..]   base64 X25519 public keys allowed to join (implies --static-key);
//                            or WEFT_TRUSTED_KEYS
//   --trusted-subnets C[,C]  underlay subnets whose links need no encryption
//   --conn-limit N           default 200
//   --no-discovery           dial only the peers named explicitly
//   --data-dir DIR           default /var/lib/weft
//   --api-socket PATH        default /run/weft/weft.sock (mutating API, root only)
//   --status-addr ADDR:PORT  default 127.0.0.1:6784 (read-only status, report, metrics)
//   --log-level LEVEL        debug | info | warn | error (default info)
//   --datapath MODE          auto | fastdp | sleeve (default auto); --no-fastdp = sleeve
//   --mtu N                  overlay MTU (default: underlay MTU - 50, or - 70 with IPv6)
//   --bridge NAME            local overlay bridge (default weft)
//   --no-dataplane           mesh only, no bridge or datapaths
//   --ipalloc-range CIDR     repeatable, one per family (default 10.32.0.0/12, fd10:32::/48)
//   --ipalloc-default-subnet CIDR   repeatable, one per family (default: the range)
//   --ipalloc-init MODE      consensus[=N] | seed=NAME,... | observer (default consensus)
//   --no-ipam                no IPAM on this peer
//   --npc-status-url URL     weft-npc's status to show on the status page and share with
//                            the mesh (default http://127.0.0.1:6781/status; "" disables)
//   PEER...                  host, host:port, [v6]:port
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/cidr.hpp"
#include "common/log.hpp"
#include "common/result.hpp"
#include "datapath/overlay_switch.hpp"
#include "ipam/bootstrap.hpp"
#include "router/peer_name.hpp"

namespace weft::weftd {

using router::PeerName;

struct DaemonConfig {
  std::optional<PeerName> name;
  std::string nickname;  // empty: use the host name
  std::uint16_t port = 6783;
  std::string host;      // empty: listen on all addresses of both families
  std::string password;  // empty: no password
  bool static_key = false;
  std::vector<std::string> trusted_keys;  // base64
  std::vector<Cidr> trusted_subnets;
  int conn_limit = 200;
  bool discovery = true;
  std::string data_dir = "/var/lib/weft";
  std::string api_socket = "/run/weft/weft.sock";
  std::string status_addr = "127.0.0.1:6784";
  log::Level log_level = log::Level::kInfo;
  datapath::DatapathMode datapath = datapath::DatapathMode::kAuto;
  std::optional<std::uint32_t> mtu;
  std::string bridge = "weft";
  bool dataplane = true;
  std::vector<Cidr> ipalloc_ranges;  // empty: the defaults
  std::vector<Cidr> ipalloc_default_subnets;
  // --ipalloc-init, parsed once the initial peers are known (consensus counts them).
  ipam::BootstrapConfig ipalloc_init{};
  bool ipam = true;
  std::string npc_status_url = "http://127.0.0.1:6781/status";  // empty: not polled
  std::vector<std::string> peers;
  bool help = false;
  bool version = false;
};

// Reads an environment variable; returns nullopt when unset.
using EnvLookup = std::function<std::optional<std::string>(std::string_view)>;

// Parses argv[1..] (without the program name). Password files are read by the caller
// (`password_file` is returned for that), so that this stays pure.
struct ParsedArgs {
  DaemonConfig config;
  std::string password_file;
  std::string ipalloc_init_text = "consensus";  // as given (config.ipalloc_init is parsed)
};
Result<ParsedArgs> parse_daemon_args(const std::vector<std::string>& args, const EnvLookup& env);

// Validates a peer address argument: "host", "host:port", "[v6]" or "[v6]:port".
Result<void> validate_peer_address(std::string_view text);

std::string daemon_usage();

}  // namespace weft::weftd
