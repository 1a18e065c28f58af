// The program's named counters (blocked_<direction>_<protocol>) read straight from the kernel
// over nfnetlink: one NFT_MSG_GETOBJ dump of a table's counter objects.
//
// Why not libnftables' `list counters`: every nft list command (but `list chains`) first
// fetches the whole table, every set element included — at 5,000 policies about 70 MiB and
// half a second per call, for each Prometheus scrape of /metrics. The dump here costs a few
// kilobytes.
//
// Contract: counter_dump_request and parse_counter_dump are pure functions (the parser reads
// untrusted bytes: a fuzz target covers it; never throws; malformed input gives kMalformed);
// read_counters does the I/O, blocking, in the calling thread's network namespace.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace weft::policy {

// The dump request of the counter objects of an inet table.
std::vector<std::uint8_t> counter_dump_request(std::string_view table, std::uint32_t sequence);

struct CounterDump {
  std::map<std::string, std::uint64_t> packets;  // counter name -> packets
  bool done = false;                             // NLMSG_DONE seen: the dump is complete
};

// Adds the counters of one buffer of netlink messages (one recv) to `dump`. A netlink error
// message gives its errno as the error.
Result<void> parse_counter_dump(std::span<const std::uint8_t> bytes, CounterDump& dump);

// The counters of an inet table (none when there is no such table).
Result<std::map<std::string, std::uint64_t>> read_counters(std::string_view table);

}  // namespace weft::policy
