// The fake API server's HTTP layer: TLS, connections, authentication, the /_fake/ controls,
// watch streams, listening and stopping (design note in fake_apiserver_state.hpp).
#include <algorithm>
#include <array>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/chunk_encode.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include "common/http_parse.hpp"
#include "common/log.hpp"
#include "tests/support/fake_apiserver_api.hpp"
#include "tests/support/fake_apiserver_state.hpp"
#include <openssl/ssl.h>
#include <openssl/x509.h>

namespace weft::test::fake_server {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
namespace beast = boost::beast;
namespace http = beast::http;
using Tcp = asio::ip::tcp;
using boost::system::error_code;
using nlohmann::json;

namespace {

constexpr std::size_t kMaxRequestBody = 4 * 1024 * 1024;

}  // namespace

Result<std::shared_ptr<ssl::context>> server_tls(const TlsIdentity& id) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  error_code ec;
  ctx->use_certificate_chain(asio::buffer(id.server_cert_pem), ec);
  if (!ec) {
    ctx->use_private_key(asio::buffer(id.server_key_pem), ssl::context::pem, ec);
  }
  if (!ec) {
    ctx->add_certificate_authority(asio::buffer(id.ca_cert_pem), ec);
  }
  if (ec) {
    return make_error(Errc::kIo, "fake apiserver TLS setup: {}", ec.message());
  }
  // Ask for a client certificate, accept connections without one (token users).
  ctx->set_verify_mode(ssl::verify_peer);
  return ctx;
}

std::string peer_user(SSL* handle) {
  X509* cert = SSL_get0_peer_certificate(handle);
  if (cert == nullptr || SSL_get_verify_result(handle) != X509_V_OK) {
    return {};
  }
  std::array<char, 256> cn{};
  if (X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn.data(),
                                static_cast<int>(cn.size())) <= 0) {
    return {};
  }
  return cn.data();
}

template <class Stream>
asio::awaitable<bool> write_reply(Stream& stream, const fake::Reply& reply, bool keep_alive) {
  http::response<http::string_body> res;
  res.version(11);
  res.result(static_cast<unsigned>(reply.status));
  res.set(http::field::content_type, reply.content_type);
  res.set(http::field::cache_control, "no-cache, private");
  res.body() = reply.body;
  res.keep_alive(keep_alive);
  res.prepare_payload();
  auto [ec, n] = co_await http::async_write(stream, res, asio::as_tuple(asio::use_awaitable));
  co_return !ec;
}

std::string status_reason(int status) {
  switch (status) {
    case 429:
      return "TooManyRequests";
    case 500:
      return "InternalError";
    case 503:
      return "ServiceUnavailable";
    case 504:
      return "Timeout";
    default:
      return "InternalError";
  }
}

void drop_watches(State& s, bool abrupt) {
  for (Watcher* w : s.watchers) {
    w->dropped = true;
    w->abrupt = abrupt;
    w->wake();
  }
}

asio::awaitable<void> restart_later(std::shared_ptr<State> s, std::chrono::milliseconds downtime) {
  co_await stop_listening(s);
  asio::steady_timer timer(s->executor, downtime);
  co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  auto started = start_listening(s);
  if (!started) {
    log::error("fake apiserver restart failed", {{"error", started.error().message}});
  }
}

// /_fake/...: the test controls.
fake::Reply control(const std::shared_ptr<State>& s, const fake::ApiRequest& req) {
  const auto& seg = req.parsed.segments;
  const std::string what = seg.size() == 2 ? seg[1] : std::string();
  auto q = [&req](const char* key, const char* fallback) {
    auto it = req.parsed.query.find(key);
    return it == req.parsed.query.end() ? std::string(fallback) : it->second;
  };
  auto ok = [](const json& body) {
    return fake::Reply{200, "application/json", body.dump()};
  };
  if (req.method == Method::kPost && what == "compact") {
    s->store.compact();
    return ok({{"compacted", std::to_string(s->store.compacted())}});
  }
  if (req.method == Method::kPost && what == "drop-watches") {
    const bool abrupt = q("abrupt", "") == "1" || q("abrupt", "") == "true";
    const auto n = s->watchers.size();
    drop_watches(*s, abrupt);
    return ok({{"dropped", n}});
  }
  if (req.method == Method::kPost && what == "bookmark") {
    for (Watcher* w : s->watchers) {
      w->bookmark_due = true;
      w->wake();
    }
    return ok(json::object());
  }
  if (req.method == Method::kPost && what == "fail") {
    s->fail_status = std::atoi(q("status", "503").c_str());  // NOLINT(cert-err34-c)
    s->fail_count = std::atoi(q("count", "1").c_str());      // NOLINT(cert-err34-c)
    return ok(json::object());
  }
  if (req.method == Method::kPost && what == "restart") {
    return ok(json::object());  // serve_http restarts after the reply is out
  }
  if (what == "requests" && (req.method == Method::kGet || req.method == Method::kDelete)) {
    json list = json::array();
    for (const auto& r : s->log) {
      list.push_back({{"method", r.method},
                      {"target", r.target},
                      {"accept", r.accept},
                      {"contentType", r.content_type},
                      {"userAgent", r.user_agent},
                      {"user", r.user},
                      {"status", r.status},
                      {"watch", r.watch}});
    }
    if (req.method == Method::kDelete) {
      s->log.clear();
    }
    return ok(list);
  }
  if (req.method == Method::kGet && what == "state") {
    return ok(s->store.dump());
  }
  return fake::failure_reply(fake::failure(404, "NotFound", "no such control"));
}

void note(State& s, std::size_t index, int status) {
  s.log[index].status = status;
  if (s.options.log_requests) {
    const auto& r = s.log[index];
    log::info("fake apiserver request", {{"method", r.method},
                                         {"target", r.target},
                                         {"status", r.status},
                                         {"watch", r.watch},
                                         {"accept", r.accept},
                                         {"user", r.user}});
  }
}

template <class Stream>
asio::awaitable<bool> write_chunk(Stream& stream, std::string line) {
  auto [ec, n] = co_await asio::async_write(stream, http::make_chunk(asio::buffer(line)),
                                            asio::as_tuple(asio::use_awaitable));
  co_return !ec;
}

template <class Stream>
asio::awaitable<bool> write_stream_head(Stream& stream) {
  http::response<http::empty_body> head;
  head.version(11);
  head.result(http::status::ok);
  head.set(http::field::content_type, "application/json");
  head.set(http::field::cache_control, "no-cache, private");
  head.chunked(true);
  head.keep_alive(false);
  http::response_serializer<http::empty_body> serializer(head);
  auto [ec, n] =
      co_await http::async_write_header(stream, serializer, asio::as_tuple(asio::use_awaitable));
  co_return !ec;
}

// A watcher registered with the store and the server for as long as it lives. Registered
// before the stream's first suspension, so that a change made while the header is written is
// queued, not lost between the plan's snapshot and the subscription.
class Registration {
 public:
  Registration(State* s, Watcher* w) : s_(s), w_(w) {
    id_ = s_->store.subscribe([w](const fake::Event& e) {
      if (auto change = fake::translate(e, w->filter)) {
        w->queue.emplace_back(fake::event_line(change->first, change->second), e.rv);
        w->wake();
      }
    });
    s_->watchers.insert(w_);
  }
  Registration(const Registration&) = delete;
  Registration& operator=(const Registration&) = delete;
  ~Registration() {
    s_->store.unsubscribe(id_);
    s_->watchers.erase(w_);
  }

 private:
  State* s_;
  Watcher* w_;
  std::uint64_t id_ = 0;
};

// Writes the watcher's events as they come, bookmarks when due, until the deadline, a drop
// or a write failure. `sent_rv`: the version every event up to which the client has.
template <class Stream>
asio::awaitable<void> pump_watch(std::shared_ptr<State> s, Stream& stream, Watcher* w,
                                 const fake::WatchPlan* plan, std::uint64_t sent_rv) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + plan->timeout;
  auto next_bookmark = Clock::now() + s->options.bookmark_interval;
  while (!s->stopping) {
    while (!w->queue.empty() && !w->dropped) {
      auto [line, rv] = std::move(w->queue.front());
      w->queue.pop_front();
      const bool written = co_await write_chunk(stream, std::move(line));
      if (!written) {
        co_return;
      }
      sent_rv = std::max(sent_rv, rv);
    }
    if (w->dropped) {
      if (w->abrupt) {
        co_return;  // the caller closes the connection mid-stream
      }
      break;
    }
    const auto now = Clock::now();
    if (now >= deadline) {
      break;
    }
    if (plan->bookmarks && (w->bookmark_due || now >= next_bookmark)) {
      w->bookmark_due = false;
      next_bookmark = now + s->options.bookmark_interval;
      if (s->store.resource_version() > sent_rv) {
        sent_rv = s->store.resource_version();
        const bool written =
            co_await write_chunk(stream, fake::bookmark_line(*w->filter.resource, sent_rv));
        if (!written) {
          co_return;
        }
      }
      continue;
    }
    w->timer.expires_at(plan->bookmarks ? std::min(deadline, next_bookmark) : deadline);
    co_await w->timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  if (!s->stopping) {
    co_await asio::async_write(stream, http::make_chunk_last(),
                               asio::as_tuple(asio::use_awaitable));
  }
}

template <class Stream>
asio::awaitable<void> stream_watch(std::shared_ptr<State> s, Stream& stream,
                                   const fake::ApiRequest& req, std::size_t record) {
  auto plan = fake::plan_watch(s->store, req);
  if (!plan && (plan.error().code != 410 || s->options.gone_as_http_status)) {
    note(*s, record, plan.error().code);
    co_await write_reply(stream, fake::failure_reply(plan.error()), false);
    co_return;
  }
  note(*s, record, 200);
  if (!plan) {
    // Too old a resourceVersion: upstream answers 200 and one ERROR event.
    const bool head = co_await write_stream_head(stream);
    if (head) {
      co_await write_chunk(
          stream, fake::event_line(kube::EventType::kError, fake::status_json(plan.error())));
      co_await asio::async_write(stream, http::make_chunk_last(),
                                 asio::as_tuple(asio::use_awaitable));
    }
    co_return;
  }
  Watcher w(s->executor);
  w.filter = plan->filter;
  std::uint64_t sent_rv = s->store.resource_version();
  const auto from = req.parsed.query.find("resourceVersion");
  if (from != req.parsed.query.end() && from->second != "0" && !from->second.empty()) {
    sent_rv = std::stoull(from->second);  // plan_watch checked it is a number
  }
  for (const auto& [type, object] : plan->initial) {
    w.queue.emplace_back(fake::event_line(type, object), 0);
  }
  const Registration registration(s.get(), &w);
  const bool head = co_await write_stream_head(stream);
  if (head) {
    co_await pump_watch(s, stream, &w, &*plan, sent_rv);
  }
}

std::string field(const http::request<http::string_body>& msg, http::field f) {
  return std::string(msg[f]);
}

template <class Stream>
asio::awaitable<void> serve_http(std::shared_ptr<State> s, Stream& stream, std::string cert_user) {
  beast::flat_buffer buffer;
  while (!s->stopping) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(1024 * 1024);
    parser.body_limit(kMaxRequestBody);
    auto [ec, n] =
        co_await http::async_read(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
    if (ec) {
      co_return;
    }
    auto msg = parser.release();
    const bool keep_alive = msg.keep_alive();
    RequestRecord rec;
    rec.method = std::string(msg.method_string());
    rec.target = std::string(msg.target());
    rec.accept = field(msg, http::field::accept);
    rec.content_type = field(msg, http::field::content_type);
    rec.user_agent = field(msg, http::field::user_agent);
    const auto auth = field(msg, http::field::authorization);
    rec.user = auth == "Bearer " + s->token ? "token" : cert_user;

    fake::ApiRequest req;
    req.target = rec.target;
    req.accept = rec.accept;
    req.content_type = rec.content_type;
    req.body = std::move(msg.body());
    const auto method = parse_method(rec.method);
    auto parsed = parse_target(req.target);
    fake::Reply reply;
    bool restart = false;
    if (!method || !parsed) {
      reply = fake::failure_reply(fake::bad_request("malformed request"));
    } else {
      req.method = *method;
      req.parsed = std::move(*parsed);
      const auto& seg = req.parsed.segments;
      const bool open =
          seg.size() == 1 && (seg[0] == "healthz" || seg[0] == "livez" || seg[0] == "readyz");
      if (!open && rec.user.empty()) {
        reply = fake::failure_reply(fake::failure(401, "Unauthorized", "Unauthorized"));
      } else if (!seg.empty() && seg[0] == "_fake") {
        reply = control(s, req);
        restart = seg.size() == 2 && seg[1] == "restart";
      } else if (s->fail_count > 0) {
        --s->fail_count;
        reply = fake::failure_reply(
            fake::failure(s->fail_status, status_reason(s->fail_status), "injected failure"));
      } else if (fake::is_watch(req)) {
        rec.watch = true;
        s->log.push_back(rec);
        co_await stream_watch(s, stream, req, s->log.size() - 1);
        co_return;
      } else {
        reply = fake::handle(s->store, req, s->address_port());
      }
    }
    s->log.push_back(rec);
    note(*s, s->log.size() - 1, reply.status);
    const bool written = co_await write_reply(stream, reply, keep_alive && !restart);
    if (restart && reply.status == 200) {
      auto it = req.parsed.query.find("downtime_ms");
      const int ms = it == req.parsed.query.end() ? 0 : std::atoi(it->second.c_str());  // NOLINT
      asio::co_spawn(s->executor, restart_later(s, std::chrono::milliseconds(std::max(0, ms))),
                     asio::detached);
    }
    if (!written || !keep_alive || restart) {
      co_return;
    }
  }
}

asio::awaitable<void> serve_connection(std::shared_ptr<State> s, Tcp::socket socket) {
  try {
    error_code ec;
    socket.set_option(Tcp::no_delay(true), ec);
    if (!s->options.tls) {
      co_await serve_http(s, socket, std::string());
      socket.shutdown(Tcp::socket::shutdown_both, ec);
      co_return;
    }
    ssl::stream<Tcp::socket> stream(std::move(socket), *s->tls);
    auto [hec] = co_await stream.async_handshake(ssl::stream_base::server,
                                                 asio::as_tuple(asio::use_awaitable));
    if (hec) {
      co_return;
    }
    co_await serve_http(s, stream, peer_user(stream.native_handle()));
    stream.next_layer().shutdown(Tcp::socket::shutdown_both, ec);
  } catch (const std::exception&) {
    // Cancelled by stop(), or the client went away mid-write.
  }
}

asio::awaitable<void> accept_loop(std::shared_ptr<State> s) {
  while (!s->stopping && s->acceptor) {
    auto [ec, socket] = co_await s->acceptor->async_accept(asio::as_tuple(asio::use_awaitable));
    if (ec) {
      if (ec == asio::error::operation_aborted || s->stopping) {
        co_return;
      }
      continue;
    }
    s->tasks->spawn(serve_connection(s, std::move(socket)), "fake apiserver connection");
  }
}

Result<void> start_listening(const std::shared_ptr<State>& s) {
  if (s->acceptor) {
    return {};
  }
  error_code ec;
  const auto address = asio::ip::make_address(s->options.address, ec);
  if (ec) {
    return make_error(Errc::kInvalidArgument, "fake apiserver: bad address {}", s->options.address);
  }
  Tcp::acceptor acceptor(s->executor);
  const Tcp::endpoint at(address, s->port);
  acceptor.open(at.protocol(), ec);
  if (!ec) {
    acceptor.set_option(Tcp::acceptor::reuse_address(true), ec);
  }
  if (!ec) {
    acceptor.bind(at, ec);
  }
  if (!ec) {
    acceptor.listen(asio::socket_base::max_listen_connections, ec);
  }
  if (ec) {
    return make_error(Errc::kUnavailable, "fake apiserver: cannot listen on {}:{}: {}",
                      s->options.address, s->port, ec.message());
  }
  s->port = acceptor.local_endpoint().port();
  s->acceptor.emplace(std::move(acceptor));
  s->stopping = false;
  s->tasks = std::make_unique<TaskGroup>(s->executor);
  s->tasks->spawn(accept_loop(s), "fake apiserver accept");
  save_state(*s);
  return {};
}

asio::awaitable<void> stop_listening(std::shared_ptr<State> s) {
  if (!s->acceptor) {
    co_return;
  }
  s->stopping = true;
  error_code ec;
  s->acceptor->close(ec);
  drop_watches(*s, true);
  if (s->tasks) {
    s->tasks->cancel();
    co_await s->tasks->join();
    s->tasks.reset();
  }
  s->acceptor.reset();
  save_state(*s);
}

}  // namespace weft::test::fake_server
