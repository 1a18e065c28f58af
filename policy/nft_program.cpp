#include "policy/nft_program.hpp"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

namespace weft::policy {
namespace {

constexpr std::string_view kCounterProtocols[] = {"tcp", "udp", "sctp", "other"};
constexpr const char* kSetNames[] = {"any4", "any6", "ports4", "ports6"};
constexpr const char* kMapNames[] = {"ingress4", "ingress6", "egress4", "egress6"};

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

// "{ a, b, ... }" with a line break every 8 items.
std::string element_list(const std::vector<std::string>& items) {
  std::string out = "{ ";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) {
      out += i % 8 == 0 ? ",\n    " : ", ";
    }
    out += items[i];
  }
  return out + " }";
}

std::string set_type(std::string_view set) {
  const bool v4 = set.back() == '4';
  const char* addr = v4 ? "ipv4_addr" : "ipv6_addr";
  if (set.starts_with("any")) {
    return fmt::format("type {}; flags interval;", addr);
  }
  return fmt::format("type {} . inet_proto . inet_service; flags interval;", addr);
}

std::string map_type(std::string_view map) {
  return fmt::format("type {} : verdict;", map.back() == '4' ? "ipv4_addr" : "ipv6_addr");
}

// The rules of a group's chain (fixed for its name: they refer to its four sets).
std::vector<std::string> group_rules(const std::string& name, const ProgramState::Group& group,
                                     const NftOptions& options) {
  const bool ingress = group.direction == Direction::kIngress;
  const char* allow = ingress ? "accept" : "return";
  const char* field = ingress ? "saddr" : "daddr";  // the peer
  std::vector<std::string> out;
  for (const char* family : {"4", "6"}) {
    const char* ip = family[0] == '4' ? "ip" : "ip6";
    out.push_back(fmt::format("{} {} @{}_any{} {}", ip, field, name, family, allow));
    out.push_back(fmt::format("{} {} . meta l4proto . th dport @{}_ports{} {}", ip, field, name,
                              family, allow));
  }
  out.push_back(fmt::format(
      "limit rate {}/second burst {} packets log prefix {} group {}", options.log_rate,
      options.log_rate * 2,
      quoted(fmt::format("weft-npc {} {} ", to_string(group.direction), group.namespace_name)),
      options.log_group));
  out.push_back(fmt::format("goto blocked_{}", to_string(group.direction)));
  return out;
}

// Adds a group: its sets (with elements) and its chain.
void add_group(std::string& out, const std::string& table, const std::string& name,
               const ProgramState::Group& group, const NftOptions& options) {
  for (const char* set : kSetNames) {
    out += fmt::format("add set inet {} {}_{} {{ {} }}\n", table, name, set, set_type(set));
    auto it = group.sets.find(set);
    if (it != group.sets.end() && !it->second.empty()) {
      out +=
          fmt::format("add element inet {} {}_{} {}\n", table, name, set, element_list(it->second));
    }
  }
  out += fmt::format("add chain inet {} {}\n", table, name);
  for (const auto& rule : group_rules(name, group, options)) {
    out += fmt::format("add rule inet {} {} {}\n", table, name, rule);
  }
}

std::vector<std::string> minus(const std::vector<std::string>& a,
                               const std::vector<std::string>& b) {
  std::vector<std::string> out;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

const std::vector<std::string>& set_of(const ProgramState::Group& group, const char* set) {
  static const std::vector<std::string> kEmpty;
  auto it = group.sets.find(set);
  return it == group.sets.end() ? kEmpty : it->second;
}

}  // namespace

std::string blocked_counter_name(Direction direction, std::string_view protocol) {
  return fmt::format("blocked_{}_{}", to_string(direction), protocol);
}

ProgramState program_of(const CompiledNode& node) {
  ProgramState state;
  for (const auto& group : node.groups) {
    ProgramState::Group g;
    g.direction = group.direction;
    g.namespace_name = "?";
    if (!group.policies.empty()) {
      g.namespace_name = group.policies.front().substr(0, group.policies.front().find('/'));
    }
    for (IpFamily family : {IpFamily::kV4, IpFamily::kV6}) {
      const std::string suffix = family == IpFamily::kV4 ? "4" : "6";
      auto any = group.rules.any.to_nft_elements(family);
      std::sort(any.begin(), any.end());
      g.sets["any" + suffix] = std::move(any);
      std::vector<std::string> ports;
      for (const auto& allow : group.rules.ports) {
        const std::string proto = lower(to_string(allow.protocol));
        const std::string range = allow.ports.first == allow.ports.last
                                      ? fmt::format("{}", allow.ports.first)
                                      : fmt::format("{}-{}", allow.ports.first, allow.ports.last);
        for (const auto& peer : allow.peers.to_nft_elements(family)) {
          ports.push_back(fmt::format("{} . {} . {}", peer, proto, range));
        }
      }
      std::sort(ports.begin(), ports.end());
      g.sets["ports" + suffix] = std::move(ports);
    }
    state.groups[group.name] = std::move(g);
  }
  for (const char* map : kMapNames) {
    state.maps[map];
  }
  for (const auto& [address, index] : node.by_address) {
    const char* family = address.is_v4() ? "4" : "6";
    for (Direction direction : {Direction::kIngress, Direction::kEgress}) {
      std::string verdict;
      if (index == CompiledNode::kConflict) {
        verdict = fmt::format("goto deny_{}", to_string(direction));
      } else {
        const auto& pod = node.pods[index];
        const std::uint32_t group = direction == Direction::kIngress ? pod.ingress : pod.egress;
        verdict = group != CompiledNode::kUnrestricted ? "goto " + node.groups[group].name
                  : direction == Direction::kIngress   ? "accept"
                                                       : "return";
      }
      state.maps[fmt::format("{}{}", to_string(direction), family)][address.to_string()] = verdict;
    }
  }
  return state;
}

std::string render_program(const CompiledNode& node, const NftOptions& options) {
  return render_program(program_of(node), options);
}

std::string render_removal(const NftOptions& options) {
  return fmt::format(
      "add table bridge {0}\ndelete table bridge {0}\nadd table inet {0}\ndelete table inet {0}\n",
      options.table);
}

std::string render_program(const ProgramState& program, const NftOptions& options) {
  const std::string& t = options.table;
  std::string out = render_removal(options);

  // The bridge table: marks by port.
  out += fmt::format("add table bridge {}\n", t);
  for (const char* hook : {"forward", "input"}) {
    out += fmt::format(
        "add chain bridge {0} mark_{1} {{ type filter hook {1} priority -200; policy accept; }}\n",
        t, hook);
    for (const auto& pattern : options.pod_port_patterns) {
      out +=
          fmt::format("add rule bridge {} mark_{} iifname {} meta mark set meta mark | {:#010x}\n",
                      t, hook, quoted(pattern), options.mark_from_pod);
      if (std::string_view(hook) == "forward") {
        out += fmt::format(
            "add rule bridge {} mark_{} oifname {} meta mark set meta mark | {:#010x}\n", t, hook,
            quoted(pattern), options.mark_to_pod);
      }
    }
  }

  // The inet table: the policy.
  out += fmt::format("add table inet {}\n", t);
  for (Direction direction : {Direction::kIngress, Direction::kEgress}) {
    for (auto protocol : kCounterProtocols) {
      out += fmt::format("add counter inet {} {}\n", t, blocked_counter_name(direction, protocol));
    }
  }
  for (Direction direction : {Direction::kIngress, Direction::kEgress}) {
    const auto d = to_string(direction);
    out += fmt::format("add chain inet {} blocked_{}\n", t, d);
    for (auto protocol : kCounterProtocols) {
      if (protocol == "other") {
        out += fmt::format("add rule inet {} blocked_{} counter name {} drop\n", t, d,
                           blocked_counter_name(direction, protocol));
      } else {
        out += fmt::format("add rule inet {} blocked_{} meta l4proto {} counter name {} drop\n", t,
                           d, protocol, blocked_counter_name(direction, protocol));
      }
    }
    // Contested addresses and local pods not classified yet: nothing passes.
    out += fmt::format("add chain inet {} deny_{}\n", t, d);
    out += fmt::format(
        "add rule inet {} deny_{} limit rate {}/second burst {} packets log prefix {} group {}\n",
        t, d, options.log_rate, options.log_rate * 2, quoted(fmt::format("weft-npc {} ? ", d)),
        options.log_group);
    out += fmt::format("add rule inet {0} deny_{1} goto blocked_{1}\n", t, d);
  }
  for (const auto& [name, group] : program.groups) {
    add_group(out, t, name, group, options);
  }
  for (const char* map : kMapNames) {
    out += fmt::format("add map inet {} {} {{ {} }}\n", t, map, map_type(map));
    auto it = program.maps.find(map);
    if (it != program.maps.end() && !it->second.empty()) {
      std::vector<std::string> items;
      for (const auto& [address, verdict] : it->second) {
        items.push_back(fmt::format("{} : {}", address, verdict));
      }
      out += fmt::format("add element inet {} {} {}\n", t, map, element_list(items));
    }
  }
  out += fmt::format("add chain inet {} egress\n", t);
  out += fmt::format("add rule inet {} egress ip saddr vmap @egress4\n", t);
  out += fmt::format("add rule inet {} egress ip6 saddr vmap @egress6\n", t);
  out += fmt::format("add rule inet {} egress meta mark & {:#010x} != 0 goto deny_egress\n", t,
                     options.mark_from_pod);
  out += fmt::format("add chain inet {} ingress\n", t);
  out += fmt::format("add rule inet {} ingress ip daddr vmap @ingress4\n", t);
  out += fmt::format("add rule inet {} ingress ip6 daddr vmap @ingress6\n", t);
  out += fmt::format("add rule inet {} ingress meta mark & {:#010x} != 0 goto deny_ingress\n", t,
                     options.mark_to_pod);
  out += fmt::format(
      "add chain inet {} filter_forward {{ type filter hook forward priority filter; policy "
      "accept; }}\n",
      t);
  const std::string f = fmt::format("add rule inet {} filter_forward ", t);
  out += f + fmt::format("iifname != {0} oifname != {0} accept\n", quoted(options.bridge));
  out += f + "ct state established,related accept\n";
  out += f +
         "icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-solicit, "
         "nd-router-advert, nd-redirect } accept\n";
  out += f + "jump egress\n";
  out += f + "jump ingress\n";
  return out;
}

std::string render_update(const ProgramState& installed, const ProgramState& next,
                          const NftOptions& options) {
  const std::string& t = options.table;
  std::string out;
  // 1. New groups (sets, elements, chains), and element changes of the groups that stay.
  for (const auto& [name, group] : next.groups) {
    auto old = installed.groups.find(name);
    if (old == installed.groups.end()) {
      add_group(out, t, name, group, options);
      continue;
    }
    for (const char* set : kSetNames) {
      const auto& before = set_of(old->second, set);
      const auto& after = set_of(group, set);
      if (before == after) {
        continue;
      }
      // Deletions first: an element may be replaced by one that overlaps it.
      const auto gone = minus(before, after);
      const auto added = minus(after, before);
      if (!gone.empty()) {
        out += fmt::format("delete element inet {} {}_{} {}\n", t, name, set, element_list(gone));
      }
      if (!added.empty()) {
        out += fmt::format("add element inet {} {}_{} {}\n", t, name, set, element_list(added));
      }
    }
  }
  // 2. Verdict maps: changed or gone addresses out, new or changed ones in.
  static const std::map<std::string, std::string> kNoEntries;
  for (const char* map : kMapNames) {
    auto b = installed.maps.find(map);
    auto a = next.maps.find(map);
    const auto& before = b == installed.maps.end() ? kNoEntries : b->second;
    const auto& after = a == next.maps.end() ? kNoEntries : a->second;
    std::vector<std::string> gone;
    std::vector<std::string> added;
    for (const auto& [address, verdict] : before) {
      auto it = after.find(address);
      if (it == after.end() || it->second != verdict) {
        gone.push_back(address);
      }
    }
    for (const auto& [address, verdict] : after) {
      auto it = before.find(address);
      if (it == before.end() || it->second != verdict) {
        added.push_back(fmt::format("{} : {}", address, verdict));
      }
    }
    if (!gone.empty()) {
      out += fmt::format("delete element inet {} {} {}\n", t, map, element_list(gone));
    }
    if (!added.empty()) {
      out += fmt::format("add element inet {} {} {}\n", t, map, element_list(added));
    }
  }
  // 3. Gone groups, now that no map entry jumps to them.
  for (const auto& [name, group] : installed.groups) {
    if (next.groups.contains(name)) {
      continue;
    }
    out += fmt::format("flush chain inet {0} {1}\ndelete chain inet {0} {1}\n", t, name);
    for (const char* set : kSetNames) {
      out += fmt::format("delete set inet {} {}_{}\n", t, name, set);
    }
  }
  return out;
}

}  // namespace weft::policy
