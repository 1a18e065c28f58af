// The nftables program of one node, written from a CompiledNode: two tables that take the
// place of the old ones at once (render_program: one transaction; render_staged: filled
// beside them, then swapped in by one transaction), so a restart, a missed event or an
// admin's flush is healed by writing it again.
//
// Why an inet table behind br_netfilter and not the bridge family alone: policy needs
// connection tracking (replies of allowed connections pass), and the bridge family's own
// conntrack (CONFIG_NF_CONNTRACK_BRIDGE) is missing from kernels we run on. So weft-npc turns
// on nf_call_iptables / nf_call_ip6tables for the bridge "weft" only (a per-bridge option: the
// host's other bridges are untouched) and judges bridged pod traffic in the inet forward hook,
// where conntrack works. The bridge family keeps one job it alone can do: it sees bridge
// ports, so it marks frames that come from or go to a local pod's port (--pod-port-prefix,
// weft-cni's host-side veths) — that is what lets an unclassified local pod fail closed.
//
//   table bridge weft_npc   forward + input hooks, priority -200: mark from-pod / to-pod
//   table inet weft_npc     forward hook, priority filter:
//     traffic not through the bridge "weft"          -> accept (not ours)
//     ct state established,related                    -> accept (replies, ICMP errors)
//     IPv6 neighbour discovery and multicast listener reports -> accept (link-local
//     housekeeping that no NetworkPolicy names; a new pod sends it before it is classified)
//     egress:  ct mark set 0, then the peer's identity: ct mark set daddr map @peers4/6;
//              saddr vmap @egress4/6 (local pods) -> group chain: allowed -> return,
//              else a from-pod mark: unclassified -> blocked
//     ingress: the same with saddr's identity and daddr vmap @ingress4/6
//     ct mark set 0, accept
//   group chain: `ct mark @ids return; ct mark . meta l4proto . th dport @idports return` for
//   pod peers, `ip saddr @any4 return; ip saddr . meta l4proto . th dport @ports4 return`
//   (and IPv6) for ipBlock peers, then a rate-limited NFLOG line (prefix "weft-npc
//   <direction> <namespace> ") and a drop counted per direction and protocol (named counters
//   blocked_<direction>_<protocol>).
// Unrestricted local pods map to return; a contested address to the deny-all chain. Per new
// connection: per direction one map and one verdict-map lookup and at most three set lookups
// per family, whatever the number of policies.
//
// Peer identities (policy/compiler.hpp) keep the program small: one map `address -> identity`
// for the cluster, and group sets of identity numbers, instead of every peer address again in
// every group that names it. The number has to sit in a register between the map and the set
// lookups, and nftables 1.0 can only write a map's value whole (not into some bits of the
// packet mark, which kube-proxy's 0x4000/0x8000 share), so it is the conntrack mark of the
// new connection: set to 0 before each lookup and to 0 again before the packet is accepted.
// Only first packets of connections through the bridge "weft" get there (established ones
// are accepted before); a conntrack mark set on them by someone else earlier in the path is
// lost. A chain per identity that sets bits of the packet mark would avoid that, but a
// verdict map of jumps to thousands of chains made every write about ten times slower.
//
// Updates: the program is also kept as data (ProgramState: every group's chain and sets with
// their elements, the maps' entries). Group names are stable
// while their identity lasts (policy/compiler.hpp), and every group has its six sets (ids,
// idports, any4/6, ports4/6) even when empty, so its chain never changes; a change of the
// cluster is then a delta — elements added to and deleted from sets and maps, new groups
// created, gone groups deleted — in one transaction (render_update), instead of the whole
// program again.
//
// Host traffic is not judged: the node reaching its pods (kubelet probes) leaves through the
// output hook, and pods reaching the node itself arrive in the input hook, as with most CNIs.
//
// Contract: pure functions; the text is what `nft -f` (and common/nft.hpp nft_run) read.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "policy/compiler.hpp"

namespace weft::policy {

struct NftOptions {
  // The bridge table; the inet table is `inet_table`, or this name when that is empty (see
  // program_tables()).
  std::string table = "weft_npc";
  std::string inet_table;
  std::string bridge = "weft";
  // Bridge ports of local pods (nft wildcard patterns: "vethwc*").
  std::vector<std::string> pod_port_patterns{"vethwc*"};
  std::uint16_t log_group = 86;  // NFLOG group of blocked connections
  // Marks the bridge table sets (bits of skb->mark, kept clear of kube-proxy's 0x4000/0x8000).
  std::uint32_t mark_from_pod = 0x00400000;
  std::uint32_t mark_to_pod = 0x00800000;
  // Log lines nft may send per second per group chain (userspace limits again).
  std::uint32_t log_rate = 20;
};

// The program as data: what render_program writes, what render_update diffs.
struct ProgramState {
  struct Group {
    Direction direction = Direction::kIngress;
    std::string namespace_name;  // for the log prefix
    // "ids", "idports", "any4", "any6", "ports4", "ports6" -> elements in nft syntax, sorted.
    std::map<std::string, std::vector<std::string>> sets;
    friend bool operator==(const Group&, const Group&) = default;
  };
  std::map<std::string, Group> groups;  // by chain name
  // "ingress4", "ingress6", "egress4", "egress6" -> address -> verdict ("return",
  // "goto g...", "goto deny_..."); "peers4", "peers6" -> address -> identity ("0x00000005").
  std::map<std::string, std::map<std::string, std::string>> maps;
  friend bool operator==(const ProgramState&, const ProgramState&) = default;
};

ProgramState program_of(const CompiledNode& node);

// The whole program: deletes both tables (if present) and writes them anew, one transaction.
std::string render_program(const ProgramState& program, const NftOptions& options);
std::string render_program(const CompiledNode& node, const NftOptions& options);
// The delta from `installed` (what the last successful write put in the kernel) to `next`;
// empty when nothing changed. One transaction when run; if it fails (the kernel's state is
// not `installed` any more), write render_program(next) instead.
std::string render_update(const ProgramState& installed, const ProgramState& next,
                          const NftOptions& options);

// The two names the inet table takes in turn: "<table>" and "<table>_b". A whole program is
// filled into the one not in use and swapped in (render_staged).
std::array<std::string, 2> program_tables(const NftOptions& options);
// The inet table the options name (inet_table, else table).
std::string inet_table(const NftOptions& options);

// The whole program in several transactions, none with more than `chunk` set or map
// elements: libnftables holds about 1.4 KiB per element while it reads a script, so one
// transaction of a big program (70,000 elements at 5,000 policies) costs 100 MiB. Into the
// inet table inet_table(options), which must not be the one in use: (1) that table made
// anew with its chains, sets and maps, empty and not hooked; (2) the elements, `chunk` at a
// time; (3) one transaction that makes the bridge table anew, hooks the new table into
// forward and deletes the other program table. Until (3) the old program works unchanged;
// (3) swaps atomically. If a step fails, the caller deletes the new table and keeps the old.
std::vector<std::string> render_staged(const ProgramState& program, const NftOptions& options,
                                       std::size_t chunk);

// Deletes the program (weft-npc --cleanup): the bridge table and both inet tables.
std::string render_removal(const NftOptions& options);

// The names of the counters of blocked connections: blocked_<direction>_<protocol>, protocol
// being tcp, udp, sctp or other.
std::string blocked_counter_name(Direction direction, std::string_view protocol);

}  // namespace weft::policy
