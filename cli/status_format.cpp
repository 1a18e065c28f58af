#include "cli/status_format.hpp"

#include <map>

#include <fmt/format.h>

namespace weft::cli {
namespace {

using nlohmann::json;

// Reads report[key] as text; "?" when absent or not a scalar.
std::string text(const json& j, const char* key) {
  if (!j.is_object()) {
    return "?";
  }
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    return "?";
  }
  if (it->is_string()) {
    return it->get<std::string>();
  }
  if (it->is_boolean()) {
    return it->get<bool>() ? "true" : "false";
  }
  if (it->is_number()) {
    return it->dump();
  }
  return "?";
}

bool flag(const json& j, const char* key) {
  if (!j.is_object()) {
    return false;
  }
  const auto it = j.find(key);
  return it != j.end() && it->is_boolean() && it->get<bool>();
}

const json& array(const json& j, const char* key) {
  static const json kEmpty = json::array();
  if (!j.is_object()) {
    return kEmpty;
  }
  const auto it = j.find(key);
  return it != j.end() && it->is_array() ? *it : kEmpty;
}

const json& object(const json& j, const char* key) {
  static const json kEmpty = json::object();
  if (!j.is_object()) {
    return kEmpty;
  }
  const auto it = j.find(key);
  return it != j.end() && it->is_object() ? *it : kEmpty;
}

std::string peer_label(const json& p) {
  return fmt::format("{}({})", text(p, "name"), text(p, "nickname"));
}

void line(std::string& out, std::string_view label, std::string_view value) {
  out += fmt::format("{:>16}: {}\n", label, value);
}

}  // namespace

std::string format_status(const json& report) {
  const json& router = object(report, "router");
  std::string out;
  line(out, "Version", text(report, "version"));
  out += "\n";
  line(out, "Service", "router");
  line(out, "Protocol", fmt::format("weft {}", text(router, "protocol_version")));
  line(out, "Name", peer_label(router));
  line(out, "Encryption", text(router, "encryption"));
  line(out, "PeerDiscovery", flag(router, "peer_discovery") ? "enabled" : "disabled");
  line(out, "Targets", std::to_string(array(router, "targets").size()));

  const json& conns = array(router, "connections");
  size_t established = 0;
  for (const auto& c : conns) {
    established += text(c, "state") == "established" ? 1 : 0;
  }
  std::string conn_text = std::to_string(conns.size());
  if (!conns.empty()) {
    conn_text += fmt::format(" ({} established", established);
    for (const char* state : {"connecting", "pending", "retrying", "failed"}) {
      size_t n = 0;
      for (const auto& c : conns) {
        n += text(c, "state") == state ? 1 : 0;
      }
      if (n > 0) {
        conn_text += fmt::format(", {} {}", n, state);
      }
    }
    conn_text += ")";
  }
  line(out, "Connections", conn_text);

  const json& peers = array(router, "peers");
  size_t links = 0;
  for (const auto& p : peers) {
    for (const auto& c : array(p, "connections")) {
      links += flag(c, "established") ? 1 : 0;
    }
  }
  line(out, "Peers", fmt::format("{} (with {} established connections)", peers.size(), links));
  const json& subnets = array(router, "trusted_subnets");
  std::string subnet_text;
  for (const auto& s : subnets) {
    subnet_text += (subnet_text.empty() ? "" : ", ") + (s.is_string() ? s.get<std::string>() : "?");
  }
  line(out, "TrustedSubnets", subnet_text.empty() ? "none" : subnet_text);
  return out;
}

std::string format_peers(const json& report) {
  std::string out;
  for (const auto& p : array(object(report, "router"), "peers")) {
    out += peer_label(p) + "\n";
    for (const auto& c : array(p, "connections")) {
      out += fmt::format("   {} {:<28} {:<40} {}\n", flag(c, "outbound") ? "->" : "<-",
                         text(c, "address"), peer_label(c),
                         flag(c, "established") ? "established" : "pending");
    }
  }
  return out;
}

std::string format_connections(const json& report) {
  std::string out;
  for (const auto& c : array(object(report, "router"), "connections")) {
    std::string details;
    const std::string state = text(c, "state");
    if (state == "established") {
      details = fmt::format("{} {}", text(c, "datapath"),
                            flag(c, "encrypted") ? "encrypted" : "unencrypted");
      const json& peer = object(c, "peer");
      if (!peer.empty()) {
        details += " " + peer_label(peer);
      }
    }
    const std::string info = text(c, "info");
    if (info != "?" && !info.empty()) {
      details += (details.empty() ? "" : " ") + info;
    }
    out += fmt::format("{} {:<28} {:<12} {}\n", flag(c, "outbound") ? "->" : "<-",
                       text(c, "address"), state, details);
  }
  return out;
}

std::string format_ipam(const json& report) {
  const json& ipam = object(report, "ipam");
  if (ipam.empty()) {
    return "IPAM: disabled (weftd runs with --no-ipam, or is too old)\n";
  }
  std::map<std::string, std::string> nicknames;
  for (const auto& p : array(object(report, "router"), "peers")) {
    nicknames[text(p, "name")] = text(p, "nickname");
  }
  std::string out = fmt::format(
      "IPAM: {} (bootstrap {}), peer {}, {} allocations here{}\n",
      flag(ipam, "ready") ? "ready" : "not ready", text(ipam, "bootstrap"), text(ipam, "peer"),
      text(ipam, "allocations"),
      text(ipam, "stray") == "0" || text(ipam, "stray") == "?"
          ? ""
          : fmt::format(", {} stray (held in ranges another peer owns)", text(ipam, "stray")));
  for (const auto& ring : array(ipam, "rings")) {
    out += fmt::format("\n{} {} (ring {}, {} free here)\n", text(ring, "family"),
                       text(ring, "range"), text(ring, "id"), text(ring, "free_here"));
    const json& peers = array(ring, "peers");
    if (peers.empty()) {
      out += "  no peer owns any of it yet\n";
    }
    for (const auto& p : peers) {
      const std::string name = text(p, "name");
      const auto nick = nicknames.find(name);
      const std::string label =
          nick == nicknames.end() ? name : fmt::format("{}({})", name, nick->second);
      const auto share = p.is_object() && p.contains("share") && p["share"].is_number()
                             ? fmt::format("{:5.1f}%", p["share"].get<double>() * 100)
                             : std::string("    ?%");
      out += fmt::format("  {:<40} {:>12} addresses ({} of range) {}\n", label, text(p, "owned"),
                         share, flag(p, "reachable") ? "reachable" : "unreachable!");
    }
  }
  return out;
}

}  // namespace weft::cli
