#include "cli/help.hpp"

#include <utility>

namespace weft::cli {
namespace {

constexpr std::string_view kGlobal = R"(
Global options (before the command):
  --api-socket PATH        weftd's unix socket (default /run/weft/weft.sock; root only)
  --status-addr ADDR:PORT  weftd's read-only status address (default 127.0.0.1:6784)
)";

struct Page {
  const char* command;
  const char* text;
  const char* overview = nullptr;  // lines for the overview instead of the usage line
};

// The first line of each page is its usage line; the overview repeats it.
constexpr Page kPages[] = {
    {"status", R"(usage: weft status [peers|connections|ipam]

Show the router's status (as `weave status`), read from --status-addr.
  (nothing)    name, encryption, peers, connections, data plane and IPAM summary
  peers        every peer of the mesh with its connections
  connections  this router's connections: state, datapath, encryption
  ipam         the address ranges and how much of them each peer owns
Exits 1 when weftd cannot be reached.
)"},
    {"report", R"(usage: weft report

Print weftd's full status report (/report) as indented JSON, read from --status-addr.
)"},
    {"ps", R"(usage: weft ps [ID...] [--json]

List the containers attached to this host's weft bridge (as `weave ps`), one line per
interface:  ID[:IFNAME] MAC ADDRESS/PREFIX...   (IFNAME shown when it is not eth0),
after a line "weft:expose BRIDGE-MAC ADDRESS/PREFIX..." when the bridge is exposed.
  ID...    show only containers whose id starts with one of these prefixes
  --json   print {"containers": [...]} with every field weftd keeps (netns, host_ifname,
           source, created, attached) instead of the table
Read from --status-addr (GET /containers and /report).
)"},
    {"connect", R"(usage: weft connect [--replace] PEER...

Add peers (HOST[:PORT], [IPv6]:PORT) for weftd to connect to and keep connected.
  --replace  drop every other peer given before (by --peer flags or earlier connects)
)"},
    {"forget", R"(usage: weft forget PEER...

Stop connecting to peers (HOST[:PORT]) added at start or by `weft connect`.
)"},
    {"expose", R"(usage: weft expose [ADDRESS/PREFIX...]

Give the host an address on the weft bridge so that it can reach containers, and
masquerade the subnet's traffic out of the host. Without addresses weftd takes one per
range from IPAM (held as "weft:expose"). Prints what was exposed.
)"},
    {"hide", R"(usage: weft hide [ADDRESS/PREFIX...]

Undo `weft expose` (without addresses: the ones IPAM gave to expose).
)"},
    {"rmpeer", R"(usage: weft rmpeer PEER-NAME

Take over the address ranges of a peer that is gone for good (e.g. 0a:1b:2c:3d:4e:5f).
Prints how many addresses were taken over (0 when the peer owns nothing).
)"},
    {"ip", R"(usage: weft ip alloc|claim|release|lookup|list ...

IPAM through weftd's unix socket (Weave-style /ip API):
  ip alloc ID [--family ipv4|ipv6|dual] [--ifname NAME] [CIDR]
                         allocate addresses (default: dual-stack, ifname eth0), in CIDR
                         when given
  ip claim ID ADDRESS[/PREFIX] [--ifname NAME]
                         claim a specific address
  ip release ID [ADDRESS]
                         release a container's addresses (or one of them)
  ip lookup ID           addresses of a container
  ip list                every allocation on this peer
)",
     R"(  weft ip alloc ID [--family ipv4|ipv6|dual] [--ifname NAME] [CIDR]
  weft ip claim ID ADDRESS[/PREFIX] [--ifname NAME]
  weft ip release ID [ADDRESS]
  weft ip lookup ID
  weft ip list
)"},
    {"launch", R"(usage: weft launch [--systemd [--unit-dir DIR] [--no-start]] [--] [WEFTD-FLAGS...]

Start weftd on this host. weftd is the binary next to `weft`, else the one on PATH;
WEFTD-FLAGS go to it unchanged (see `weftd --help`; the password is best given as
WEFT_PASSWORD in the environment).
  (default)       run weftd in the foreground (weft becomes weftd: same PID, exit code)
  --systemd       write a systemd unit weftd.service running weftd with WEFTD-FLAGS, then
                  `systemctl daemon-reload` and `systemctl enable --now weftd.service`
  --unit-dir DIR  where to write the unit (default /etc/systemd/system)
  --no-start      only write the unit
  --              everything after it goes to weftd
Exits 1 when weftd cannot be found or started, or (with --systemd) when systemd is not
running or systemctl fails; the unit file is written first either way.
)"},
    {"version", R"(usage: weft version

Print the version of this weft binary.
)"},
    {"help", R"(usage: weft help [COMMAND]

Print the overview, or the help page of COMMAND (as `weft COMMAND --help`).
)"},
};

}  // namespace

const std::vector<std::string>& command_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const Page& p : kPages) {
      out.emplace_back(p.command);
    }
    return out;
  }();
  return names;
}

std::optional<std::string> command_help(std::string_view command) {
  for (const Page& p : kPages) {
    if (command == p.command) {
      return std::string(p.text) + std::string(kGlobal);
    }
  }
  return std::nullopt;
}

std::string general_usage() {
  std::string out = "usage: weft [GLOBAL-OPTIONS] COMMAND [ARGS]\n\nCommands:\n";
  for (const Page& p : kPages) {
    if (p.overview != nullptr) {
      out += p.overview;
      continue;
    }
    const std::string_view text = p.text;
    const std::string_view first = text.substr(0, text.find('\n'));
    out += "  " + std::string(first.substr(std::string_view("usage: ").size())) + "\n";
  }
  out += "\n`weft COMMAND --help` or `weft help COMMAND` describes a command and its options.\n";
  out += "status, report and ps read from --status-addr; the others use --api-socket.\n";
  out += kGlobal;
  return out;
}

}  // namespace weft::cli
