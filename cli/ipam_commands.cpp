#include "cli/ipam_commands.hpp"

#include <chrono>
#include <optional>

#include <nlohmann/json.hpp>

#include "api/containers.hpp"
#include "api/ipam.hpp"
#include "cli/commands.hpp"
#include "cli/weftd_client.hpp"
#include "common/address.hpp"
#include "common/cidr.hpp"
#include "common/http_client.hpp"
#include <fmt/format.h>

namespace weft::cli {
namespace {

using nlohmann::json;

// An allocation may wait up to 10 s in weftd for a donation; leave room for that.
constexpr auto kTimeout = std::chrono::seconds(30);

struct Io {
  std::ostream& out;
  std::ostream& err;
};

// A container id or peer name: refused here when weftd would refuse it ('/', control
// characters, empty or over 256 bytes); anything else is percent-encoded into the path.
bool valid_key(const std::string& s) {
  return api::validate_container_key("id", s).has_value();
}
// One exchange over the unix socket; nullopt (message printed) when weftd is unreachable or
// answered an error status, unless `accept` is that status.
std::optional<Response> call(const Io& io, const std::string& socket, Method method,
                             const std::string& path, std::optional<int> accept = {}) {
  return call_weftd(io.err, "unix:" + socket, method, path, {}, accept, kTimeout);
}

// Splits "--name value" / "--name=value" options (only those in `known`) from positionals.
struct Parsed {
  std::vector<std::string> positional;
  std::vector<std::pair<std::string, std::string>> options;
  std::string error;
};
Parsed split(const std::vector<std::string>& words, std::size_t from,
             const std::vector<std::string>& known) {
  Parsed p;
  for (std::size_t i = from; i < words.size(); ++i) {
    const std::string& w = words[i];
    if (!w.starts_with("--")) {
      p.positional.push_back(w);
      continue;
    }
    const auto eq = w.find('=');
    const std::string name = w.substr(0, eq);
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      p.error = "unknown option " + name;
      return p;
    }
    if (eq != std::string::npos) {
      p.options.emplace_back(name, w.substr(eq + 1));
    } else if (i + 1 < words.size()) {
      p.options.emplace_back(name, words[++i]);
    } else {
      p.error = name + " needs a value";
      return p;
    }
  }
  return p;
}

std::string option(const Parsed& p, const std::string& name) {
  std::string value;
  for (const auto& [n, v] : p.options) {
    if (n == name) {
      value = v;
    }
  }
  return value;
}

int usage(const Io& io, const std::string& why, const std::string& line) {
  io.err << "weft: " << (why.empty() ? "" : why + "\n      ") << "usage: weft " << line << "\n";
  return kExitUsage;
}

// The addresses of an answer, one per line; nullopt (message printed) when it does not parse.
std::optional<std::string> address_lines(const Io& io, const Response& answer) {
  auto addresses = api::parse_address_lines(answer.body);
  if (!addresses) {
    io.err << "weft: weftd answered something that is not a list of addresses: "
           << addresses.error().message << "\n";
    return std::nullopt;
  }
  return api::format_address_lines(*addresses);
}

std::optional<U128> count_of(const Io& io, const Response& answer) {
  auto n = api::parse_count(answer.body);
  if (!n) {
    io.err << "weft: weftd answered something that is not a count: " << n.error().message << "\n";
    return std::nullopt;
  }
  return *n;
}

// Prints the addresses of a successful call; the exit code.
int print_addresses(const Io& io, const std::optional<Response>& answer) {
  if (!answer) {
    return kExitFailure;
  }
  auto lines = address_lines(io, *answer);
  if (!lines) {
    return kExitFailure;
  }
  io.out << *lines;
  return kExitOk;
}

constexpr const char* kAllocUsage = "ip alloc ID [--family ipv4|ipv6|dual] [--ifname NAME] [CIDR]";
constexpr const char* kClaimUsage = "ip claim ID ADDRESS[/PREFIX] [--ifname NAME]";
constexpr const char* kReleaseUsage = "ip release ID [ADDRESS]";
constexpr const char* kLookupUsage = "ip lookup ID";

int cmd_alloc(const std::vector<std::string>& words, const std::string& socket, const Io& io) {
  const Parsed p = split(words, 2, {"--family", "--ifname"});
  if (!p.error.empty() || p.positional.empty() || p.positional.size() > 2) {
    return usage(io, p.error, kAllocUsage);
  }
  api::IpAllocate request;
  request.id = p.positional[0];
  auto family = api::parse_family(option(p, "--family"));
  if (!family) {
    return usage(io, "--family must be ipv4, ipv6 or dual", kAllocUsage);
  }
  request.family = *family;
  if (const std::string ifname = option(p, "--ifname"); !ifname.empty()) {
    request.ifname = ifname;
  }
  if (!valid_key(request.id) || !api::validate_ifname(request.ifname)) {
    return usage(io, "bad container id or interface name", kAllocUsage);
  }
  if (p.positional.size() == 2) {
    auto cidr = parse_host_cidr(p.positional[1]);
    if (!cidr) {
      return usage(io, "bad subnet " + p.positional[1] + ": " + cidr.error().message, kAllocUsage);
    }
    request.subnet = cidr->masked();
  }
  return print_addresses(io, call(io, socket, Method::kPost, api::target(request)));
}

int cmd_claim(const std::vector<std::string>& words, const std::string& socket, const Io& io) {
  const Parsed p = split(words, 2, {"--ifname"});
  if (!p.error.empty() || p.positional.size() != 2) {
    return usage(io, p.error, kClaimUsage);
  }
  const std::string& addr = p.positional[1];
  Result<Cidr> cidr = parse_host_cidr(addr);
  if (addr.find('/') == std::string::npos) {
    auto ip = parse_ip_address(addr);
    cidr = ip ? Result<Cidr>(Cidr::single(*ip)) : Result<Cidr>(ip.error());
  }
  api::IpClaim request;
  request.id = p.positional[0];
  if (const std::string ifname = option(p, "--ifname"); !ifname.empty()) {
    request.ifname = ifname;
  }
  if (!cidr || !valid_key(request.id) || !api::validate_ifname(request.ifname)) {
    return usage(io, "bad container id, address " + addr + " or interface name", kClaimUsage);
  }
  request.address = *cidr;
  return print_addresses(io, call(io, socket, Method::kPut, api::target(request)));
}

int cmd_release(const std::vector<std::string>& words, const std::string& socket, const Io& io) {
  if (words.size() < 3 || words.size() > 4 || !valid_key(words[2])) {
    return usage(io, "", kReleaseUsage);
  }
  api::IpRelease request{words[2], std::nullopt, std::nullopt};
  if (words.size() == 4) {
    auto addr = parse_ip_address(words[3].substr(0, words[3].find('/')));
    if (!addr) {
      return usage(io, "bad address " + words[3], kReleaseUsage);
    }
    request.address = *addr;
  }
  auto answer = call(io, socket, Method::kDelete, api::target(request));
  auto n = answer ? count_of(io, *answer) : std::nullopt;
  if (!n) {
    return kExitFailure;
  }
  io.out << "released " << u128_to_string(*n) << (*n == 1 ? " address" : " addresses") << " of "
         << words[2] << "\n";
  return kExitOk;
}

int cmd_lookup(const std::vector<std::string>& words, const std::string& socket, const Io& io) {
  if (words.size() != 3 || !valid_key(words[2])) {
    return usage(io, "", kLookupUsage);
  }
  return print_addresses(io, call(io, socket, Method::kGet, api::ip_lookup_target(words[2])));
}

int cmd_list(const std::vector<std::string>& words, const std::string& socket, const Io& io) {
  if (words.size() != 2) {
    return usage(io, "", "ip list");
  }
  auto answer = call(io, socket, Method::kGet, api::ip_list_target());
  if (!answer) {
    return kExitFailure;
  }
  auto list = api::parse_ip_list(answer->body);
  if (!list) {
    io.err << "weft: weftd answered something that is not a list: " << list.error().message << "\n";
    return kExitFailure;
  }
  for (const auto& a : *list) {
    io.out << fmt::format("{} {} {}\n", a.container, a.ifname, a.address);
  }
  return kExitOk;
}

}  // namespace

std::string ipam_usage() {
  constexpr const char* kIndent = "\n                               ";
  return fmt::format(
      "  {}{}allocate (default: dual-stack, ifname eth0; inside CIDR when given)\n"
      "  {}{}claim a specific address\n"
      "  {}{}release a container's addresses (or one of them)\n"
      "  ip lookup ID                 addresses of a container\n"
      "  ip list                      every allocation on this peer\n"
      "  rmpeer PEER-NAME             take over the address ranges of a peer that is gone\n",
      kAllocUsage, kIndent, kClaimUsage, kIndent, kReleaseUsage, kIndent);
}

int run_ip(const std::vector<std::string>& words, const std::string& api_socket, std::ostream& out,
           std::ostream& err) {
  const Io io{out, err};
  const std::string verb = words.size() > 1 ? words[1] : "";
  if (verb == "alloc") {
    return cmd_alloc(words, api_socket, io);
  }
  if (verb == "claim") {
    return cmd_claim(words, api_socket, io);
  }
  if (verb == "release") {
    return cmd_release(words, api_socket, io);
  }
  if (verb == "lookup") {
    return cmd_lookup(words, api_socket, io);
  }
  if (verb == "list") {
    return cmd_list(words, api_socket, io);
  }
  err << "weft: usage:\n" << ipam_usage();
  return kExitUsage;
}

int run_rmpeer(const std::vector<std::string>& words, const std::string& api_socket,
               std::ostream& out, std::ostream& err) {
  const Io io{out, err};
  if (words.size() != 2 || !valid_key(words[1])) {
    return usage(io, "", "rmpeer PEER-NAME   (e.g. 0a:1b:2c:3d:4e:5f)");
  }
  const std::string& name = words[1];
  auto answer = call(io, api_socket, Method::kDelete, api::rmpeer_target(name), 404);
  if (!answer) {
    return kExitFailure;
  }
  if (answer->status == 404) {
    // Already taken over (or never owned anything): what the operator wanted holds. A 404
    // that is not weftd saying so (no IPAM) stays an error.
    if (answer->body.find("owns no range") == std::string::npos) {
      auto why = json_from_response(*answer);
      err << "weft: weftd answered " << (why ? "HTTP 404" : why.error().message) << "\n";
      return kExitFailure;
    }
    out << "0 addresses taken over from " << name << " (it owns no range)\n";
    return kExitOk;
  }
  auto n = count_of(io, *answer);
  if (!n) {
    return kExitFailure;
  }
  out << u128_to_string(*n) << " addresses taken over from " << name << "\n";
  return kExitOk;
}

}  // namespace weft::cli
