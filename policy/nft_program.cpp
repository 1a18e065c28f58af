#include "policy/nft_program.hpp"

#include <algorithm>
#include <array>
#include <cctype>

#include <fmt/format.h>

namespace weft::policy {
namespace {

constexpr std::string_view kCounterProtocols[] = {"tcp", "udp", "sctp", "other"};
constexpr const char* kSetNames[] = {"ids", "idports", "any4", "any6", "ports4", "ports6"};
constexpr const char* kMapNames[] = {"ingress4", "ingress6", "egress4",
                                     "egress6",  "peers4",   "peers6"};

// An identity number as the conntrack mark that carries it.
std::string identity_bits(std::uint32_t identity) {
  return fmt::format("{:#010x}", identity);
}

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
  if (set == "ids") {
    return "type mark;";
  }
  if (set == "idports") {
    return "type mark . inet_proto . inet_service; flags interval;";
  }
  const bool v4 = set.back() == '4';
  const char* addr = v4 ? "ipv4_addr" : "ipv6_addr";
  if (set.starts_with("any")) {
    return fmt::format("type {}; flags interval;", addr);
  }
  return fmt::format("type {} . inet_proto . inet_service; flags interval;", addr);
}

std::string map_type(std::string_view map) {
  return fmt::format("type {} : {};", map.back() == '4' ? "ipv4_addr" : "ipv6_addr",
                     map.starts_with("peers") ? "mark" : "verdict");
}

// The rules of a group's chain (fixed for its name: they refer to its six sets).
std::vector<std::string> group_rules(const std::string& name, const ProgramState::Group& group,
                                     const NftOptions& options) {
  const char* field = group.direction == Direction::kIngress ? "saddr" : "daddr";  // the peer
  std::vector<std::string> out;
  out.push_back(fmt::format("ct mark @{}_ids return", name));
  out.push_back(fmt::format("ct mark . meta l4proto . th dport @{}_idports return", name));
  for (const char* family : {"4", "6"}) {
    const char* ip = family[0] == '4' ? "ip" : "ip6";
    out.push_back(fmt::format("{} {} @{}_any{} return", ip, field, name, family));
    out.push_back(
        fmt::format("{} {} . meta l4proto . th dport @{}_ports{} return", ip, field, name, family));
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
  static const std::vector<std::string> empty;
  auto it = group.sets.find(set);
  return it == group.sets.end() ? empty : it->second;
}

}  // namespace

std::string blocked_counter_name(Direction direction, std::string_view protocol) {
  return fmt::format("blocked_{}_{}", to_string(direction), protocol);
}

namespace {

// Always "first-last", one port too: nftables 1.0.6 cannot delete a single port from a
// concatenated interval set when it is written without the range ("mark . tcp . 80" stays,
// "mark . tcp . 80-80" goes).
std::string port_range_text(PortRange ports) {
  return fmt::format("{}-{}", ports.first, ports.last);
}

ProgramState::Group group_state(const CompiledNode::RuleGroup& group) {
  ProgramState::Group g;
  g.direction = group.direction;
  g.namespace_name = "?";
  if (!group.policies.empty()) {
    g.namespace_name = group.policies.front().substr(0, group.policies.front().find('/'));
  }
  auto& ids = g.sets["ids"];
  for (std::uint32_t identity : group.rules.any.identities) {
    ids.push_back(identity_bits(identity));
  }
  auto& idports = g.sets["idports"];
  for (const auto& allow : group.rules.ports) {
    const std::string proto = lower(to_string(allow.protocol));
    const std::string range = port_range_text(allow.ports);
    for (std::uint32_t identity : allow.peers.identities) {
      idports.push_back(fmt::format("{} . {} . {}", identity_bits(identity), proto, range));
    }
  }
  for (IpFamily family : {IpFamily::kV4, IpFamily::kV6}) {
    const std::string suffix = family == IpFamily::kV4 ? "4" : "6";
    g.sets["any" + suffix] = group.rules.any.addresses.to_nft_elements(family);
    auto& ports = g.sets["ports" + suffix];
    for (const auto& allow : group.rules.ports) {
      const std::string proto = lower(to_string(allow.protocol));
      const std::string range = port_range_text(allow.ports);
      for (const auto& peer : allow.peers.addresses.to_nft_elements(family)) {
        ports.push_back(fmt::format("{} . {} . {}", peer, proto, range));
      }
    }
  }
  for (auto& [set, elements] : g.sets) {
    std::sort(elements.begin(), elements.end());
  }
  return g;
}

}  // namespace

ProgramState program_of(const CompiledNode& node) {
  ProgramState state;
  for (const auto& group : node.groups) {
    state.groups[group.name] = group_state(group);
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
        verdict =
            group != CompiledNode::kUnrestricted ? "goto " + node.groups[group].name : "return";
      }
      state.maps[fmt::format("{}{}", to_string(direction), family)][address.to_string()] = verdict;
    }
  }
  for (const auto& [address, identity] : node.identity_by_address) {
    state.maps[address.is_v4() ? "peers4" : "peers6"][address.to_string()] =
        identity_bits(identity);
  }
  return state;
}

std::string render_program(const CompiledNode& node, const NftOptions& options) {
  return render_program(program_of(node), options);
}

std::array<std::string, 2> program_tables(const NftOptions& options) {
  return {options.table, options.table + "_b"};
}

std::string inet_table(const NftOptions& options) {
  return options.inet_table.empty() ? options.table : options.inet_table;
}

std::string render_removal(const NftOptions& options) {
  std::string out = fmt::format("add table bridge {0}\ndelete table bridge {0}\n", options.table);
  for (const auto& name : program_tables(options)) {
    out += fmt::format("add table inet {0}\ndelete table inet {0}\n", name);
  }
  return out;
}

namespace {

// The bridge table: marks by port.
std::string bridge_table(const NftOptions& options) {
  const std::string& t = options.table;
  std::string out = fmt::format("add table bridge {}\n", t);
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
  return out;
}

// The counters and the chains that drop: blocked_<direction> and deny_<direction>.
std::string drop_chains(const NftOptions& options) {
  const std::string t = inet_table(options);
  std::string out;
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
  return out;
}

constexpr const char* kClearIdentity = "ct mark set 0";

// The chains "egress" and "ingress".
std::string policy_chains(const NftOptions& options) {
  const std::string t = inet_table(options);
  std::string out;
  for (Direction direction : {Direction::kEgress, Direction::kIngress}) {
    const bool egress = direction == Direction::kEgress;
    const auto d = to_string(direction);
    const char* peer = egress ? "daddr" : "saddr";
    const char* local = egress ? "saddr" : "daddr";
    out += fmt::format("add chain inet {} {}\n", t, d);
    out += fmt::format("add rule inet {} {} {}\n", t, d, kClearIdentity);
    out += fmt::format("add rule inet {} {} ct mark set ip {} map @peers4\n", t, d, peer);
    out += fmt::format("add rule inet {} {} ct mark set ip6 {} map @peers6\n", t, d, peer);
    out += fmt::format("add rule inet {0} {1} ip {2} vmap @{1}4\n", t, d, local);
    out += fmt::format("add rule inet {0} {1} ip6 {2} vmap @{1}6\n", t, d, local);
    out += fmt::format("add rule inet {0} {1} meta mark & {2:#010x} != 0 goto deny_{1}\n", t, d,
                       egress ? options.mark_from_pod : options.mark_to_pod);
  }
  return out;
}

// The base chain, hooked into forward: the program is live once it exists.
std::string hook_chain(const NftOptions& options) {
  const std::string t = inet_table(options);
  std::string out = fmt::format(
      "add chain inet {} filter_forward {{ type filter hook forward priority filter; policy "
      "accept; }}\n",
      t);
  const std::string f = fmt::format("add rule inet {} filter_forward ", t);
  out += f + fmt::format("iifname != {0} oifname != {0} accept\n", quoted(options.bridge));
  out += f + "ct state established,related accept\n";
  out += f +
         "icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-solicit, "
         "nd-router-advert, nd-redirect, mld-listener-query, mld-listener-report, "
         "mld-listener-done, mld2-listener-report } accept\n";
  out += f + "jump egress\n";
  out += f + "jump ingress\n";
  out += f + kClearIdentity + "\n";
  return out;
}

// The maps, with their entries when `elements`.
std::string maps(const ProgramState& program, const std::string& table, bool elements) {
  std::string out;
  for (const char* map : kMapNames) {
    out += fmt::format("add map inet {} {} {{ {} }}\n", table, map, map_type(map));
    auto it = program.maps.find(map);
    if (elements && it != program.maps.end() && !it->second.empty()) {
      std::vector<std::string> items;
      items.reserve(it->second.size());
      for (const auto& [address, value] : it->second) {
        items.push_back(fmt::format("{} : {}", address, value));
      }
      out += fmt::format("add element inet {} {} {}\n", table, map, element_list(items));
    }
  }
  return out;
}

// Cuts `add element` commands into scripts of at most `chunk` elements each.
class ElementChunks {
 public:
  ElementChunks(std::string table, std::size_t chunk) : table_(std::move(table)), chunk_(chunk) {}

  void add(const std::string& set, const std::vector<std::string>& elements) {
    std::size_t i = 0;
    while (i < elements.size()) {
      if (count_ >= chunk_) {
        scripts_.push_back(std::move(current_));
        current_.clear();
        count_ = 0;
      }
      const std::size_t n = std::min(elements.size() - i, chunk_ - count_);
      const std::vector<std::string> part(elements.begin() + static_cast<std::ptrdiff_t>(i),
                                          elements.begin() + static_cast<std::ptrdiff_t>(i + n));
      current_ += fmt::format("add element inet {} {} {}\n", table_, set, element_list(part));
      count_ += n;
      i += n;
    }
  }

  std::vector<std::string> take() && {
    if (!current_.empty()) {
      scripts_.push_back(std::move(current_));
    }
    return std::move(scripts_);
  }

 private:
  std::string table_;
  std::size_t chunk_;
  std::string current_;
  std::size_t count_ = 0;
  std::vector<std::string> scripts_;
};

}  // namespace

std::vector<std::string> render_staged(const ProgramState& program, const NftOptions& options,
                                       std::size_t chunk) {
  const std::string t = inet_table(options);
  std::vector<std::string> out;
  // 1. The new table beside the one in use, everything but elements and the hook.
  std::string prepare = fmt::format("add table inet {0}\ndelete table inet {0}\n", t);
  prepare += fmt::format("add table inet {}\n", t);
  prepare += drop_chains(options);
  for (const auto& [name, group] : program.groups) {
    add_group(prepare, t, name, ProgramState::Group{group.direction, group.namespace_name, {}},
              options);
  }
  prepare += maps(program, t, false);
  prepare += policy_chains(options);
  out.push_back(std::move(prepare));
  // 2. The elements, `chunk` at a time (the table is not hooked: nothing sees it yet).
  ElementChunks chunks(t, std::max<std::size_t>(chunk, 1));
  for (const auto& [name, group] : program.groups) {
    for (const auto& [set, elements] : group.sets) {
      chunks.add(fmt::format("{}_{}", name, set), elements);
    }
  }
  for (const auto& [map, entries] : program.maps) {
    std::vector<std::string> items;
    items.reserve(entries.size());
    for (const auto& [address, value] : entries) {
      items.push_back(fmt::format("{} : {}", address, value));
    }
    chunks.add(map, items);
  }
  for (auto& script : std::move(chunks).take()) {
    out.push_back(std::move(script));
  }
  // 3. The swap: the bridge table anew, the new table hooked, the other one gone.
  std::string swap = fmt::format("add table bridge {0}\ndelete table bridge {0}\n", options.table);
  swap += bridge_table(options);
  swap += hook_chain(options);
  for (const auto& name : program_tables(options)) {
    if (name != t) {
      swap += fmt::format("add table inet {0}\ndelete table inet {0}\n", name);
    }
  }
  out.push_back(std::move(swap));
  return out;
}

std::string render_program(const ProgramState& program, const NftOptions& options) {
  const std::string t = inet_table(options);
  std::string out = render_removal(options);
  out += bridge_table(options);
  out += fmt::format("add table inet {}\n", t);
  out += drop_chains(options);
  for (const auto& [name, group] : program.groups) {
    add_group(out, t, name, group, options);
  }
  out += maps(program, t, true);
  out += policy_chains(options);
  out += hook_chain(options);
  return out;
}

std::string render_update(const ProgramState& installed, const ProgramState& next,
                          const NftOptions& options) {
  const std::string t = inet_table(options);
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
  static const std::map<std::string, std::string> no_entries;
  for (const char* map : kMapNames) {
    auto b = installed.maps.find(map);
    auto a = next.maps.find(map);
    const auto& before = b == installed.maps.end() ? no_entries : b->second;
    const auto& after = a == next.maps.end() ? no_entries : a->second;
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
