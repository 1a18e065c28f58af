// Internal to the HTTP server (http_server.cpp, http_connection.cpp): the state shared by
// the server object and its running connections. Not for use elsewhere.
#pragma once

#include <list>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>

#include "common/http_parse.hpp"
#include "common/http_server.hpp"
#include "common/task_group.hpp"
#include <sys/types.h>

namespace weft {

struct HttpRoute {
  Method method;
  RoutePattern pattern;
  Handler handler;  // exactly one of handler and stream_handler is set
  StreamHandler stream_handler;
};

// A unix socket file created by listen_unix(), removed by stop() if it is still ours.
struct HttpUnixFile {
  std::string path;
  dev_t dev;
  ino_t ino;
};

// Everything the accept loops and connections use. Held by shared_ptr so that tasks
// outliving the HttpServer object (destroyed without stop()) never dangle.
struct HttpServer::State {
  State(boost::asio::any_io_executor ex, HttpLimits l) : limits(l), tasks(std::move(ex)) {}

  HttpLimits limits;
  std::list<HttpRoute> routes;  // a list: stable addresses while handlers run
  HttpServerStats stats;
  bool started = false;
  bool stopping = false;
  std::list<boost::asio::ip::tcp::acceptor> tcp_acceptors;
  std::list<boost::asio::local::stream_protocol::acceptor> unix_acceptors;
  std::vector<HttpUnixFile> unix_files;
  TaskGroup tasks;
};

using HttpSocket = boost::asio::generic::stream_protocol::socket;

// Serves one accepted connection until the client closes it, an error or timeout ends it,
// or the server stops (http_connection.cpp). The caller has counted it in
// stats.active_connections; this decrements it at the end.
boost::asio::awaitable<void> serve_http_connection(std::shared_ptr<HttpServer::State> state,
                                                   HttpSocket socket);

}  // namespace weft
