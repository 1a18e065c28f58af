#include "cli/commands.hpp"

#include <chrono>
#include <functional>
#include <map>
#include <optional>

#include <nlohmann/json.hpp>

#include "cli/ipam_commands.hpp"
#include "cli/status_format.hpp"
#include "common/http_client.hpp"
#include "common/version.hpp"

namespace weft::cli {
namespace {

using nlohmann::json;

struct Options {
  std::string api_socket = "/run/weft/weft.sock";
  std::string status_addr = "127.0.0.1:6784";
  std::vector<std::string> words;  // command and its arguments
};

struct Io {
  std::ostream& out;
  std::ostream& err;
};

constexpr auto kTimeout = std::chrono::seconds(10);

// Calls weftd and decodes a JSON answer; prints a clear message and returns nullopt when
// weftd is unreachable or answers with an error.
std::optional<json> call(const Io& io, const std::string& target, Method method,
                         const std::string& path, const std::string& body = {}) {
  auto response = http_call(target, method, path, body, kTimeout);
  if (!response) {
    const bool down = response.error().code == make_error_code(Errc::kUnavailable) ||
                      response.error().code == make_error_code(Errc::kTimeout);
    if (down) {
      io.err << "weft: weftd is not running or not reachable at " << target << " ("
             << response.error().to_string() << ")\n";
    } else {
      io.err << "weft: " << response.error().to_string() << "\n";
    }
    return std::nullopt;
  }
  auto decoded = json_from_response(*response);
  if (!decoded) {
    io.err << "weft: weftd answered " << response->status << ": "
           << decoded.error().message << "\n";
    return std::nullopt;
  }
  return *decoded;
}

int cmd_status(const Options& o, const Io& io) {
  const std::string what = o.words.size() > 1 ? o.words[1] : "";
  if (o.words.size() > 2 ||
      (!what.empty() && what != "peers" && what != "connections" && what != "ipam")) {
    io.err << "weft: usage: weft status [peers|connections|ipam]\n";
    return kExitUsage;
  }
  auto report = call(io, o.status_addr, Method::kGet, "/report");
  if (!report) {
    return kExitFailure;
  }
  if (what == "peers") {
    io.out << format_peers(*report);
  } else if (what == "connections") {
    io.out << format_connections(*report);
  } else if (what == "ipam") {
    io.out << format_ipam(*report);
  } else {
    io.out << format_status(*report);
  }
  return kExitOk;
}

int cmd_report(const Options& o, const Io& io) {
  auto report = call(io, o.status_addr, Method::kGet, "/report");
  if (!report) {
    return kExitFailure;
  }
  io.out << report->dump(2) << "\n";
  return kExitOk;
}

// POSTs `body` to the unix socket and prints the answer's "message".
int post_and_print(const Options& o, const Io& io, const std::string& path, const json& body) {
  auto answer = call(io, "unix:" + o.api_socket, Method::kPost, path, body.dump());
  if (!answer) {
    return kExitFailure;
  }
  if (answer->contains("message") && (*answer)["message"].is_string()) {
    io.out << (*answer)["message"].get<std::string>() << "\n";
  }
  return kExitOk;
}

// connect [--replace] PEER... / forget PEER...
int cmd_peers(const Options& o, const Io& io, const std::string& verb) {
  json body = {{"peers", json::array()}, {"replace", false}};
  for (size_t i = 1; i < o.words.size(); ++i) {
    if (verb == "connect" && o.words[i] == "--replace") {
      body["replace"] = true;
    } else {
      body["peers"].push_back(o.words[i]);
    }
  }
  if (body["peers"].empty() && !(verb == "connect" && body["replace"].get<bool>())) {
    io.err << "weft: usage: weft " << verb << (verb == "connect" ? " [--replace]" : "")
           << " PEER...\n";
    return kExitUsage;
  }
  return post_and_print(o, io, "/" + verb, body);
}

// expose CIDR... / hide CIDR...
int cmd_expose(const Options& o, const Io& io, const std::string& verb) {
  json body = {{"cidrs", json::array()}};
  for (size_t i = 1; i < o.words.size(); ++i) {
    body["cidrs"].push_back(o.words[i]);
  }
  if (body["cidrs"].empty()) {
    io.err << "weft: usage: weft " << verb << " ADDRESS/PREFIX...  (e.g. 198.19.0.1/16)\n";
    return kExitUsage;
  }
  return post_and_print(o, io, "/" + verb, body);
}

// Splits global flags (anywhere before the command) from the command words.
std::optional<Options> parse_options(const std::vector<std::string>& args, const Io& io) {
  Options o;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    std::string* target = nullptr;
    std::string_view name = a;
    std::optional<std::string> value;
    if (const auto eq = a.find('='); a.starts_with("--") && eq != std::string::npos) {
      name = std::string_view(a).substr(0, eq);
      value = a.substr(eq + 1);
    }
    if (name == "--api-socket") {
      target = &o.api_socket;
    } else if (name == "--status-addr") {
      target = &o.status_addr;
    }
    if (target == nullptr || !o.words.empty()) {
      o.words.push_back(a);
      continue;
    }
    if (!value) {
      if (i + 1 >= args.size()) {
        io.err << "weft: " << name << " needs a value\n";
        return std::nullopt;
      }
      value = args[++i];
    }
    *target = *value;
  }
  return o;
}

}  // namespace

std::string cli_usage() {
  return R"(usage: weft [--api-socket PATH] [--status-addr ADDR:PORT] COMMAND [ARGS]

Commands:
  status [peers|connections|ipam]
                               router status, peers and their connections, our
                               connections, IPAM (address ranges per peer)
  report                       full status report as JSON
  connect [--replace] PEER...  add peers to connect to (--replace: drop the other targets)
  forget PEER...               stop connecting to peers
  expose ADDRESS/PREFIX...     put a host address on the bridge; masquerade the subnet out
  hide ADDRESS/PREFIX...       undo expose
  version                      print the version
)" + ipam_usage() + R"(
status and report use --status-addr (default 127.0.0.1:6784); the others (ip lookup
and ip list included) use the unix socket --api-socket (default /run/weft/weft.sock, root only).
)";
}

int run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  const Io io{out, err};
  auto options = parse_options(args, io);
  if (!options) {
    return kExitUsage;
  }
  const Options& o = *options;
  const std::string command = o.words.empty() ? "" : o.words[0];
  if (command.empty() || command == "help" || command == "--help" || command == "-h") {
    (command.empty() ? err : out) << cli_usage();
    return command.empty() ? kExitUsage : kExitOk;
  }
  if (command == "version" || command == "--version") {
    out << "weft " << kVersion << "\n";
    return kExitOk;
  }
  if (command == "status") {
    return cmd_status(o, io);
  }
  if (command == "report") {
    return cmd_report(o, io);
  }
  if (command == "connect" || command == "forget") {
    return cmd_peers(o, io, command);
  }
  if (command == "ip") {
    return run_ip(o.words, o.api_socket, out, err);
  }
  if (command == "rmpeer") {
    return run_rmpeer(o.words, o.api_socket, out, err);
  }
  if (command == "expose" || command == "hide") {
    return cmd_expose(o, io, command);
  }
  err << "weft: unknown command \"" << command << "\"\n" << cli_usage();
  return kExitUsage;
}

}  // namespace weft::cli
