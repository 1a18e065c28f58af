// Internal to the fake API server: the state its HTTP layer (fake_apiserver_http.cpp) and its
// public class (fake_apiserver.cpp) share. Not for tests to include.
//
// Design note: the server keeps its own small HTTP/1.1 loop over Beast instead of weft's
// HttpServer, because it speaks TLS (and HttpServer must not depend on OpenSSL) and because
// its watch streams are fed by the store's listeners. Each watch is a Watcher with a queue
// of event lines and a timer that the listener cancels to wake the stream; the timer also
// fires for bookmarks and for timeoutSeconds. Everything runs on one executor.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "common/task_group.hpp"
#include "tests/support/fake_apiserver.hpp"
#include "tests/support/fake_apiserver_store.hpp"
#include <fmt/format.h>

namespace weft::test {

struct Watcher {
  explicit Watcher(const boost::asio::any_io_executor& ex) : timer(ex) {}
  fake::Filter filter;
  std::deque<std::pair<std::string, std::uint64_t>> queue;  // event line, its RV
  boost::asio::steady_timer timer;
  bool dropped = false;
  bool abrupt = false;
  bool bookmark_due = false;
  void wake() { timer.cancel(); }
};

struct FakeApiServer::State : std::enable_shared_from_this<FakeApiServer::State> {
  boost::asio::any_io_executor executor;
  FakeApiServerOptions options;
  fake::Store store;
  TlsIdentity identity;
  std::shared_ptr<boost::asio::ssl::context> tls;
  std::string token;
  std::uint16_t port = 0;
  std::optional<boost::asio::ip::tcp::acceptor> acceptor;
  std::unique_ptr<TaskGroup> tasks;  // the accept loop and every connection
  bool stopping = false;
  std::set<Watcher*> watchers;
  std::vector<RequestRecord> log;
  int fail_status = 0;
  int fail_count = 0;
  bool save_scheduled = false;

  State(boost::asio::any_io_executor ex, FakeApiServerOptions opts)
      : executor(std::move(ex)), options(std::move(opts)), store(options.max_events) {}

  std::string address_port() const {
    return options.address.find(':') != std::string::npos
               ? fmt::format("[{}]:{}", options.address, port)
               : fmt::format("{}:{}", options.address, port);
  }
};

namespace fake_server {

using State = FakeApiServer::State;

// TLS server context: the server certificate, and the CA for client certificates (asked
// for, not required).
Result<std::shared_ptr<boost::asio::ssl::context>> server_tls(const TlsIdentity& id);
// Listens on the state's address and port (the first time port 0: ephemeral, kept after).
Result<void> start_listening(const std::shared_ptr<State>& s);
// Closes the listener and every connection; the store stays.
boost::asio::awaitable<void> stop_listening(std::shared_ptr<State> s);
void drop_watches(State& s, bool abrupt);
// Persistence (options.state_file): written now, or once soon after a burst of changes.
void save_state(const State& s);
void schedule_save(State& s);

}  // namespace fake_server
}  // namespace weft::test
