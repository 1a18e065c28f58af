#include "policy/nft_program.hpp"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

namespace weft::policy {
namespace {

constexpr std::string_view kCounterProtocols[] = {"tcp", "udp", "sctp", "other"};

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// nft quoted string: namespace names are DNS labels, port patterns come from flags; anything
// outside a conservative alphabet is replaced so that the script always parses.
std::string quoted(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    const bool ok = std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_' ||
                    c == '.' || c == '*' || c == ' ' || c == '/' || c == ':' || c == '?';
    out += ok ? c : '_';
  }
  return out + "\"";
}

void elements(std::string& out, const std::vector<std::string>& items) {
  if (items.empty()) {
    return;
  }
  out += "    elements = { ";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) {
      out += i % 8 == 0 ? ",\n      " : ", ";
    }
    out += items[i];
  }
  out += " }\n";
}

std::string group_namespace(const CompiledNode::RuleGroup& group) {
  if (group.policies.empty()) {
    return "?";
  }
  const std::string& key = group.policies.front();
  return key.substr(0, key.find('/'));
}

std::string address_selector(IpFamily family, Direction direction) {
  // The peer: the source of ingress, the destination of egress.
  const char* field = direction == Direction::kIngress ? "saddr" : "daddr";
  return fmt::format("{} {}", family == IpFamily::kV4 ? "ip" : "ip6", field);
}

void render_group(std::string& out, std::string_view name, const CompiledNode::RuleGroup& group,
                  const NftOptions& options) {
  const char* allow = group.direction == Direction::kIngress ? "accept" : "return";
  std::string rules;
  for (IpFamily family : {IpFamily::kV4, IpFamily::kV6}) {
    const char* suffix = family == IpFamily::kV4 ? "4" : "6";
    const char* type = family == IpFamily::kV4 ? "ipv4_addr" : "ipv6_addr";
    auto any = group.rules.any.to_nft_elements(family);
    if (!any.empty()) {
      out += fmt::format("  set {}_any{} {{\n    type {}; flags interval;\n", name, suffix, type);
      elements(out, any);
      out += "  }\n";
      rules += fmt::format("    {} @{}_any{} {}\n", address_selector(family, group.direction), name,
                           suffix, allow);
    }
    std::vector<std::string> items;
    for (const auto& port : group.rules.ports) {
      const std::string proto = lower(to_string(port.protocol));
      const std::string range = port.ports.first == port.ports.last
                                    ? fmt::format("{}", port.ports.first)
                                    : fmt::format("{}-{}", port.ports.first, port.ports.last);
      for (const auto& peer : port.peers.to_nft_elements(family)) {
        items.push_back(fmt::format("{} . {} . {}", peer, proto, range));
      }
    }
    if (!items.empty()) {
      out += fmt::format(
          "  set {}_ports{} {{\n    type {} . inet_proto . inet_service; flags interval;\n", name,
          suffix, type);
      elements(out, items);
      out += "  }\n";
      rules += fmt::format("    {} . meta l4proto . th dport @{}_ports{} {}\n",
                           address_selector(family, group.direction), name, suffix, allow);
    }
  }
  out += fmt::format("  chain {} {{\n{}", name, rules);
  out += fmt::format(
      "    limit rate {}/second burst {} packets log prefix {} group {}\n"
      "    goto blocked_{}\n  }}\n",
      options.log_rate, options.log_rate * 2,
      quoted(fmt::format("weft-npc {} {} ", to_string(group.direction), group_namespace(group))),
      options.log_group, to_string(group.direction));
}

}  // namespace

std::string blocked_counter_name(Direction direction, std::string_view protocol) {
  return fmt::format("blocked_{}_{}", to_string(direction), protocol);
}

std::string render_removal(const NftOptions& options) {
  return fmt::format(
      "add table bridge {0}\ndelete table bridge {0}\nadd table inet {0}\ndelete table inet {0}\n",
      options.table);
}

std::string render_program(const CompiledNode& node, const NftOptions& options) {
  std::string out = render_removal(options);

  // The bridge table: marks by port.
  out += fmt::format("table bridge {} {{\n", options.table);
  for (const char* hook : {"forward", "input"}) {
    out += fmt::format(
        "  chain mark_{0} {{\n    type filter hook {0} priority -200; policy accept;\n", hook);
    for (const auto& pattern : options.pod_port_patterns) {
      out += fmt::format("    iifname {} meta mark set meta mark | {:#010x}\n", quoted(pattern),
                         options.mark_from_pod);
      if (std::string_view(hook) == "forward") {
        out += fmt::format("    oifname {} meta mark set meta mark | {:#010x}\n", quoted(pattern),
                           options.mark_to_pod);
      }
    }
    out += "  }\n";
  }
  out += "}\n";

  // The inet table: the policy.
  out += fmt::format("table inet {} {{\n", options.table);
  for (Direction direction : {Direction::kIngress, Direction::kEgress}) {
    for (auto protocol : kCounterProtocols) {
      out += fmt::format("  counter {} {{ }}\n", blocked_counter_name(direction, protocol));
    }
  }
  // Verdict maps: local pod address -> its group chain.
  for (Direction direction : {Direction::kIngress, Direction::kEgress}) {
    const char* unrestricted = direction == Direction::kIngress ? "accept" : "return";
    for (IpFamily family : {IpFamily::kV4, IpFamily::kV6}) {
      std::vector<std::string> items;
      for (const auto& [address, index] : node.by_address) {
        if (address.family() != family) {
          continue;
        }
        std::string verdict;
        if (index == CompiledNode::kConflict) {
          verdict = fmt::format("goto deny_{}", to_string(direction));
        } else {
          const auto& pod = node.pods[index];
          const std::uint32_t group = direction == Direction::kIngress ? pod.ingress : pod.egress;
          verdict = group == CompiledNode::kUnrestricted ? std::string(unrestricted)
                                                         : fmt::format("goto g{}", group);
        }
        items.push_back(fmt::format("{} : {}", address.to_string(), verdict));
      }
      out += fmt::format("  map {}{} {{\n    type {} : verdict;\n", to_string(direction),
                         family == IpFamily::kV4 ? "4" : "6",
                         family == IpFamily::kV4 ? "ipv4_addr" : "ipv6_addr");
      elements(out, items);
      out += "  }\n";
    }
  }
  for (std::size_t i = 0; i < node.groups.size(); ++i) {
    render_group(out, fmt::format("g{}", i), node.groups[i], options);
  }
  for (Direction direction : {Direction::kIngress, Direction::kEgress}) {
    const auto d = to_string(direction);
    out += fmt::format("  chain blocked_{} {{\n", d);
    for (auto protocol : kCounterProtocols) {
      if (protocol == "other") {
        out += fmt::format("    counter name {} drop\n", blocked_counter_name(direction, protocol));
      } else {
        out += fmt::format("    meta l4proto {} counter name {} drop\n", protocol,
                           blocked_counter_name(direction, protocol));
      }
    }
    out += "  }\n";
    // Contested addresses and local pods not classified yet: nothing passes.
    out += fmt::format(
        "  chain deny_{0} {{\n    limit rate {1}/second burst {2} packets log prefix {3} group "
        "{4}\n    goto blocked_{0}\n  }}\n",
        d, options.log_rate, options.log_rate * 2, quoted(fmt::format("weft-npc {} ? ", d)),
        options.log_group);
  }
  out += fmt::format(
      "  chain egress {{\n"
      "    ip saddr vmap @egress4\n"
      "    ip6 saddr vmap @egress6\n"
      "    meta mark & {0:#010x} != 0 goto deny_egress\n"
      "  }}\n"
      "  chain ingress {{\n"
      "    ip daddr vmap @ingress4\n"
      "    ip6 daddr vmap @ingress6\n"
      "    meta mark & {1:#010x} != 0 goto deny_ingress\n"
      "  }}\n"
      "  chain filter_forward {{\n"
      "    type filter hook forward priority filter; policy accept;\n"
      "    iifname != {2} oifname != {2} accept\n"
      "    ct state established,related accept\n"
      "    icmpv6 type {{ nd-neighbor-solicit, nd-neighbor-advert, nd-router-solicit, "
      "nd-router-advert, nd-redirect }} accept\n"
      "    jump egress\n"
      "    jump ingress\n"
      "  }}\n"
      "}}\n",
      options.mark_from_pod, options.mark_to_pod, quoted(options.bridge));
  return out;
}

}  // namespace weft::policy
