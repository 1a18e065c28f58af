// Weft's address types in one include: U128, IpAddress, Cidr, AddressRange, MacAddress.
//
// Design note: each concept has its own header (uint128.hpp, ip_address.hpp, cidr.hpp,
// mac_address.hpp); this file gathers them and holds the one helper their parsers share.
// Every parser is a pure function of its text that never throws; its errors carry
// Errc::kInvalidArgument and a message that quotes the offending text, e.g.
//   invalid IPv4 address "1.2.3": expected 4 parts
#pragma once

#include <string>
#include <string_view>

#include "common/cidr.hpp"
#include "common/ip_address.hpp"
#include "common/mac_address.hpp"
#include "common/uint128.hpp"

namespace weft::detail {

// `text` in double quotes for an error message: printable ASCII is kept, '"' and '\' are
// backslash-escaped, other bytes become \xNN, and text over 64 bytes is cut with "...".
// Parsers see untrusted bytes; this keeps their messages one printable line.
std::string quote_untrusted(std::string_view text);

}  // namespace weft::detail
