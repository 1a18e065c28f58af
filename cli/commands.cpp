#include "cli/commands.hpp"

#include <optional>

#include <nlohmann/json.hpp>

#include "api/control.hpp"
#include "api/paths.hpp"
#include "cli/help.hpp"
#include "cli/ipam_commands.hpp"
#include "cli/launch.hpp"
#include "cli/ps.hpp"
#include "cli/status_format.hpp"
#include "cli/weftd_client.hpp"
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

int usage_error(const Io& io, const std::string& command) {
  const std::string page = command_help(command).value_or("");
  io.err << "weft: " << page.substr(0, page.find('\n')) << "\n       (weft " << command
         << " --help for more)\n";
  return kExitUsage;
}

int cmd_status(const Options& o, const Io& io) {
  const std::string what = o.words.size() > 1 ? o.words[1] : "";
  if (o.words.size() > 2 ||
      (!what.empty() && what != "peers" && what != "connections" && what != "ipam")) {
    return usage_error(io, "status");
  }
  auto report =
      call_weftd_json(io.err, o.status_addr, Method::kGet, api::target(api::RouteId::kReport));
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
  if (o.words.size() != 1) {
    return usage_error(io, "report");
  }
  auto report =
      call_weftd_json(io.err, o.status_addr, Method::kGet, api::target(api::RouteId::kReport));
  if (!report) {
    return kExitFailure;
  }
  io.out << report->dump(2) << "\n";
  return kExitOk;
}

// POSTs `body` to the unix socket and prints the answer's "message".
int post_and_print(const Options& o, const Io& io, api::RouteId route, const std::string& body) {
  auto answer = call_weftd(io.err, "unix:" + o.api_socket, Method::kPost, api::target(route), body);
  if (!answer) {
    return kExitFailure;
  }
  auto message = api::parse_message(answer->body);
  if (!message) {
    io.err << "weft: weftd answered " << answer->status << ": " << message.error().message << "\n";
    return kExitFailure;
  }
  io.out << *message << "\n";
  return kExitOk;
}

// connect [--replace] PEER... / forget PEER...
int cmd_peers(const Options& o, const Io& io, const std::string& verb) {
  api::PeersRequest request;
  for (size_t i = 1; i < o.words.size(); ++i) {
    if (verb == "connect" && o.words[i] == "--replace") {
      request.replace = true;
    } else if (o.words[i].starts_with("-")) {
      return usage_error(io, verb);
    } else {
      request.peers.push_back(o.words[i]);
    }
  }
  if (request.peers.empty() && !(verb == "connect" && request.replace)) {
    return usage_error(io, verb);
  }
  return post_and_print(o, io, verb == "connect" ? api::RouteId::kConnect : api::RouteId::kForget,
                        api::encode(request));
}

// expose [CIDR...] / hide [CIDR...]; without addresses weftd asks IPAM.
int cmd_expose(const Options& o, const Io& io, const std::string& verb) {
  api::ExposeRequest request;
  for (size_t i = 1; i < o.words.size(); ++i) {
    if (o.words[i].starts_with("-")) {
      return usage_error(io, verb);
    }
    auto cidr = parse_host_cidr(o.words[i]);
    if (!cidr) {
      io.err << "weft: " << cidr.error().message << "\n";
      return usage_error(io, verb);
    }
    request.cidrs.push_back(*cidr);
  }
  return post_and_print(o, io, verb == "expose" ? api::RouteId::kExpose : api::RouteId::kHide,
                        api::encode(request));
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

// True when the command's words ask for help (--help or -h before any "--").
bool wants_help(const std::vector<std::string>& words) {
  for (std::size_t i = 1; i < words.size(); ++i) {
    if (words[i] == "--") {
      return false;
    }
    if (words[i] == "--help" || words[i] == "-h") {
      return true;
    }
  }
  return false;
}

int cmd_help(const Options& o, const Io& io) {
  if (o.words.size() == 1) {
    io.out << general_usage();
    return kExitOk;
  }
  const std::string& what = o.words[1] == "--help" || o.words[1] == "-h" ? o.words[0] : o.words[1];
  if (auto page = command_help(what); page && o.words.size() == 2) {
    io.out << *page;
    return kExitOk;
  }
  io.err << "weft: no help for \"" << o.words[1] << "\"\n" << general_usage();
  return kExitUsage;
}

int dispatch(const Options& o, const Io& io) {
  const std::string& command = o.words[0];
  if (command == "status") {
    return cmd_status(o, io);
  }
  if (command == "report") {
    return cmd_report(o, io);
  }
  if (command == "ps") {
    return run_ps(o.words, o.status_addr, io.out, io.err);
  }
  if (command == "connect" || command == "forget") {
    return cmd_peers(o, io, command);
  }
  if (command == "expose" || command == "hide") {
    return cmd_expose(o, io, command);
  }
  if (command == "ip") {
    return run_ip(o.words, o.api_socket, io.out, io.err);
  }
  if (command == "rmpeer") {
    return run_rmpeer(o.words, o.api_socket, io.out, io.err);
  }
  if (command == "launch") {
    return run_launch(o.words, real_launch_env(), io.out, io.err);
  }
  if (command == "version") {
    io.out << "weft " << kVersion << "\n";
    return kExitOk;
  }
  io.err << "weft: unknown command \"" << command << "\"\n" << general_usage();
  return kExitUsage;
}

}  // namespace

std::string cli_usage() {
  return general_usage();
}

int run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  const Io io{out, err};
  auto options = parse_options(args, io);
  if (!options) {
    return kExitUsage;
  }
  Options& o = *options;
  if (o.words.empty()) {
    err << general_usage();
    return kExitUsage;
  }
  std::string& command = o.words[0];
  if (command == "--help" || command == "-h") {
    command = "help";
  } else if (command == "--version") {
    command = "version";
  }
  if (command == "help") {
    return cmd_help(o, io);
  }
  if (wants_help(o.words)) {
    if (auto page = command_help(command)) {
      out << *page;
      return kExitOk;
    }
  }
  return dispatch(o, io);
}

}  // namespace weft::cli
