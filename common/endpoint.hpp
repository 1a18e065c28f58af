// Endpoint: an IP address (v4 or v6) and a port; the address of a datagram socket or of one
// end of a stream connection.
//
// Design note: an alias of boost::asio::ip::udp::endpoint for now (a value type with
// ordering, equality and std::hash, convertible to a sockaddr for the real sockets). The
// TCP side uses it too: only the address and port matter, not asio's protocol tag.
#pragma once

#include <boost/asio/ip/udp.hpp>

namespace weft {

using Endpoint = boost::asio::ip::udp::endpoint;

}  // namespace weft
