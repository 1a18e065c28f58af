#include "cli/ipam_commands.hpp"

#include <chrono>
#include <optional>

#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli/weftd_client.hpp"
#include "common/address.hpp"
#include "common/cidr.hpp"
#include "common/http_client.hpp"
#include "common/http_parse.hpp"
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

// A container id or peer name goes into the path unencoded: refuse what would change the
// route ('/', '?', '#', '%', spaces, controls).
bool safe_segment(const std::string& s) {
  if (s.empty() || s.size() > 256) {
    return false;
  }
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f || c == '/' || c == '?' || c == '#' || c == '%') {
      return false;
    }
  }
  return true;
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

std::string query_of(const Parsed& p) {
  std::string q;
  for (const char* key : {"family", "ifname"}) {
    const std::string v = option(p, std::string("--") + key);
    if (!v.empty()) {
      q += (q.empty() ? "?" : "&") + std::string(key) + "=" + percent_encode(v);
    }
  }
  return q;
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
  const std::string family = option(p, "--family");
  if (!family.empty() && family != "ipv4" && family != "ipv6" && family != "dual") {
    return usage(io, "--family must be ipv4, ipv6 or dual", kAllocUsage);
  }
  if (!safe_segment(p.positional[0]) ||
      !safe_segment(option(p, "--ifname").empty() ? "x" : option(p, "--ifname"))) {
    return usage(io, "bad container id or interface name", kAllocUsage);
  }
  std::string path = "/ip/" + p.positional[0];
  if (p.positional.size() == 2) {
    auto cidr = parse_host_cidr(p.positional[1]);
    if (!cidr) {
      return usage(io, "bad subnet " + p.positional[1] + ": " + cidr.error().message, kAllocUsage);
    }
    path += "/" + cidr->masked().to_string();
  }
  auto answer = call(io, socket, Method::kPost, path + query_of(p));
  if (!answer) {
    return kExitFailure;
  }
  io.out << answer->body;
  return kExitOk;
}

int cmd_claim(const std::vector<std::string>& words, const std::string& socket, const Io& io) {
  const Parsed p = split(words, 2, {"--ifname"});
  if (!p.error.empty() || p.positional.size() != 2) {
    return usage(io, p.error, kClaimUsage);
  }
  const std::string& addr = p.positional[1];
  const bool ok = addr.find('/') != std::string::npos ? parse_host_cidr(addr).has_value()
                                                      : parse_ip_address(addr).has_value();
  if (!ok || !safe_segment(p.positional[0])) {
    return usage(io, "bad container id or address " + addr, kClaimUsage);
  }
  auto answer = call(io, socket, Method::kPut, "/ip/" + p.positional[0] + "/" + addr + query_of(p));
  if (!answer) {
    return kExitFailure;
  }
  io.out << answer->body;
  return kExitOk;
}

int cmd_release(const std::vector<std::string>& words, const std::string& socket, const Io& io) {
  if (words.size() < 3 || words.size() > 4 || !safe_segment(words[2])) {
    return usage(io, "", kReleaseUsage);
  }
  std::string path = "/ip/" + words[2];
  if (words.size() == 4) {
    const std::string addr = words[3].substr(0, words[3].find('/'));
    if (!parse_ip_address(addr)) {
      return usage(io, "bad address " + words[3], kReleaseUsage);
    }
    path += "/" + addr;
  }
  auto answer = call(io, socket, Method::kDelete, path);
  if (!answer) {
    return kExitFailure;
  }
  std::string n = answer->body;
  while (!n.empty() && (n.back() == '\n' || n.back() == '\r')) {
    n.pop_back();
  }
  io.out << "released " << n << (n == "1" ? " address" : " addresses") << " of " << words[2]
         << "\n";
  return kExitOk;
}

int cmd_lookup(const std::vector<std::string>& words, const std::string& socket, const Io& io) {
  if (words.size() != 3 || !safe_segment(words[2])) {
    return usage(io, "", kLookupUsage);
  }
  auto answer = call(io, socket, Method::kGet, "/ip/" + words[2]);
  if (!answer) {
    return kExitFailure;
  }
  io.out << answer->body;
  return kExitOk;
}

int cmd_list(const std::vector<std::string>& words, const std::string& socket, const Io& io) {
  if (words.size() != 2) {
    return usage(io, "", "ip list");
  }
  auto answer = call(io, socket, Method::kGet, "/ip");
  if (!answer) {
    return kExitFailure;
  }
  auto list = json_from_response(*answer);
  if (!list || !list->is_array()) {
    io.err << "weft: weftd answered something that is not a list\n";
    return kExitFailure;
  }
  for (const auto& a : *list) {
    auto field = [&a](const char* key) {
      return a.is_object() && a.contains(key) && (*a.find(key)).is_string()
                 ? a[key].get<std::string>()
                 : std::string("?");
    };
    io.out << fmt::format("{} {} {}\n", field("container"), field("ifname"), field("address"));
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
  if (words.size() != 2 || !safe_segment(words[1])) {
    return usage(io, "", "rmpeer PEER-NAME   (e.g. 0a:1b:2c:3d:4e:5f)");
  }
  const std::string& name = words[1];
  auto answer = call(io, api_socket, Method::kDelete, "/peer/" + name, 404);
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
  std::string n = answer->body;
  while (!n.empty() && (n.back() == '\n' || n.back() == '\r')) {
    n.pop_back();
  }
  out << n << " addresses taken over from " << name << "\n";
  return kExitOk;
}

}  // namespace weft::cli
