// Design note: the server keeps its own small HTTP/1.1 loop over Beast instead of weft's
// HttpServer, because it speaks TLS (and HttpServer must not depend on OpenSSL) and because
// its watch streams are fed by the store's listeners. Each watch is a Watcher with a queue
// of event lines and a timer that the listener cancels to wake the stream; the timer also
// fires for bookmarks and for timeoutSeconds. Everything runs on one executor.
#include "tests/support/fake_apiserver.hpp"

#include <algorithm>
#include <deque>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
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
#include "common/task_group.hpp"
#include "kube/api_status.hpp"
#include "kube/base64.hpp"
#include "tests/support/fake_apiserver_api.hpp"
#include <openssl/ssl.h>
#include <openssl/x509.h>

namespace weft::test {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
namespace beast = boost::beast;
namespace http = beast::http;
using Tcp = asio::ip::tcp;
using boost::system::error_code;
using nlohmann::json;

namespace {

constexpr std::size_t kMaxRequestBody = 4 * 1024 * 1024;

struct Watcher {
  explicit Watcher(const asio::any_io_executor& ex) : timer(ex) {}
  fake::Filter filter;
  std::deque<std::pair<std::string, std::uint64_t>> queue;  // event line, its RV
  asio::steady_timer timer;
  bool dropped = false;
  bool abrupt = false;
  bool bookmark_due = false;
  void wake() { timer.cancel(); }
};

std::string random_token() {
  SystemRng rng;
  std::string out;
  for (int i = 0; i < 4; ++i) {
    out += fmt::format("{:016x}", rng.next_u64());
  }
  return out;
}

}  // namespace

struct FakeApiServer::State : std::enable_shared_from_this<FakeApiServer::State> {
  asio::any_io_executor executor;
  FakeApiServerOptions options;
  fake::Store store;
  TlsIdentity identity;
  std::shared_ptr<ssl::context> tls;
  std::string token;
  std::uint16_t port = 0;
  std::optional<Tcp::acceptor> acceptor;
  std::unique_ptr<TaskGroup> tasks;  // the accept loop and every connection
  bool stopping = false;
  std::set<Watcher*> watchers;
  std::vector<RequestRecord> log;
  int fail_status = 0;
  int fail_count = 0;
  bool save_scheduled = false;

  State(asio::any_io_executor ex, FakeApiServerOptions opts)
      : executor(std::move(ex)), options(std::move(opts)), store(options.max_events) {}

  std::string address_port() const {
    return options.address.find(':') != std::string::npos
               ? fmt::format("[{}]:{}", options.address, port)
               : fmt::format("{}:{}", options.address, port);
  }
};

using State = FakeApiServer::State;

namespace {

// ---------------------------------------------------------------- persistence

void save_state(const State& s) {
  if (s.options.state_file.empty()) {
    return;
  }
  json state = {{"version", 1},
                {"port", s.port},
                {"token", s.token},
                {"tls",
                 {{"caCert", s.identity.ca_cert_pem},
                  {"caKey", s.identity.ca_key_pem},
                  {"serverCert", s.identity.server_cert_pem},
                  {"serverKey", s.identity.server_key_pem}}},
                {"store", s.store.dump()}};
  const std::string tmp = s.options.state_file + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << state.dump();
    if (!out) {
      log::warn("fake apiserver cannot write state", {{"file", tmp}});
      return;
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, s.options.state_file, ec);
  if (ec) {
    log::warn("fake apiserver cannot write state",
              {{"file", s.options.state_file}, {"error", ec.message()}});
  }
}

void schedule_save(State& s) {
  if (s.options.state_file.empty() || s.save_scheduled) {
    return;
  }
  s.save_scheduled = true;
  asio::post(s.executor, [weak = s.weak_from_this()] {
    if (auto locked = weak.lock()) {
      locked->save_scheduled = false;
      save_state(*locked);
    }
  });
}

Result<void> load_state(State& s) {
  std::ifstream in(s.options.state_file, std::ios::binary);
  if (!in) {
    return {};  // a first start
  }
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto doc = parse_json_body(text, 128, 1024 * 1024 * 1024);
  if (!doc || !doc->is_object() || !(*doc)["tls"].is_object()) {
    return make_error(Errc::kMalformed, "fake apiserver state {}: not a state file",
                      s.options.state_file);
  }
  const json& tls = (*doc)["tls"];
  s.identity.ca_cert_pem = tls.value("caCert", "");
  s.identity.ca_key_pem = tls.value("caKey", "");
  s.identity.server_cert_pem = tls.value("serverCert", "");
  s.identity.server_key_pem = tls.value("serverKey", "");
  if (s.token.empty()) {
    s.token = doc->value("token", "");
  }
  if (s.port == 0) {
    s.port = doc->value("port", std::uint16_t{0});
  }
  auto restored = s.store.restore((*doc)["store"]);
  if (!restored) {
    return make_error(Errc::kMalformed, "fake apiserver state {}: {}", s.options.state_file,
                      restored.error().message);
  }
  return {};
}

// ---------------------------------------------------------------- HTTP pieces

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

Result<void> start_listening(const std::shared_ptr<State>& s);
asio::awaitable<void> stop_listening(std::shared_ptr<State> s);

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

// The namespace controller: a Terminating namespace goes after namespace_deletion_delay.
asio::awaitable<void> finalize_later(std::weak_ptr<State> weak, std::string name) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  if (auto s = weak.lock()) {
    timer.expires_after(s->options.namespace_deletion_delay);
  }
  co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  if (auto s = weak.lock()) {
    (void)s->store.finalize_namespace(name);
  }
}

Result<json> to_result(const fake::Outcome<json>& outcome) {
  if (outcome) {
    return *outcome;
  }
  const auto& f = outcome.error();
  return kube::status_error(kube::ApiStatus{f.code, f.reason, f.message}, "fake apiserver");
}

Result<const fake::Resource*> resource_named(const std::string& name) {
  const fake::Resource* r = fake::find_resource(name);
  if (r == nullptr) {
    return make_error(Errc::kInvalidArgument, "fake apiserver: unknown resource {}", name);
  }
  return r;
}

std::string meta_string(const json& object, const char* key) {
  return kube::field_value(object, std::string("metadata.") + key).value_or("");
}

}  // namespace

// ---------------------------------------------------------------- FakeApiServer

FakeApiServer::FakeApiServer(std::shared_ptr<State> state) : state_(std::move(state)) {}

FakeApiServer::~FakeApiServer() {
  if (state_->tasks) {
    state_->stopping = true;
    state_->tasks->cancel();
  }
}

Result<std::unique_ptr<FakeApiServer>> FakeApiServer::create(asio::any_io_executor executor,
                                                             FakeApiServerOptions options) {
  auto s = std::make_shared<State>(std::move(executor), std::move(options));
  s->token = s->options.token;
  s->port = s->options.port;
  if (!s->options.state_file.empty()) {
    WEFT_TRY_VOID(load_state(*s));
  }
  if (s->identity.server_cert_pem.empty()) {
    WEFT_TRY(s->identity, generate_tls_identity({"localhost"}, {"127.0.0.1", "::1"}));
  }
  if (s->token.empty()) {
    s->token = random_token();
  }
  if (s->options.tls) {
    WEFT_TRY(s->tls, server_tls(s->identity));
  }
  if (s->options.seed_namespaces && s->store.resource_version() == 1) {
    for (const char* name : {"default", "kube-system", "kube-public", "kube-node-lease"}) {
      auto created = s->store.create(*fake::find_resource("namespaces"), {},
                                     json{{"metadata", {{"name", name}}}});
      if (!created) {
        return make_error(Errc::kIo, "fake apiserver: seeding namespace {}: {}", name,
                          created.error().message);
      }
    }
  }
  s->store.set_deferred_namespace_deletion(s->options.namespace_deletion_delay.count() > 0);
  s->store.subscribe([raw = s.get()](const fake::Event& event) {
    schedule_save(*raw);
    if (event.resource->kind == "Namespace" && event.type == kube::EventType::kModified &&
        !meta_string(event.object, "deletionTimestamp").empty() &&
        meta_string(event.previous, "deletionTimestamp").empty()) {
      asio::co_spawn(raw->executor,
                     finalize_later(raw->weak_from_this(), meta_string(event.object, "name")),
                     asio::detached);
    }
  });
  return std::make_unique<FakeApiServer>(std::move(s));
}

Result<void> FakeApiServer::start() {
  return start_listening(state_);
}

asio::awaitable<void> FakeApiServer::stop() {
  co_await stop_listening(state_);
}

bool FakeApiServer::listening() const {
  return state_->acceptor.has_value();
}

std::uint16_t FakeApiServer::port() const {
  return state_->port;
}

std::string FakeApiServer::url() const {
  return fmt::format("{}://{}", state_->options.tls ? "https" : "http", state_->address_port());
}

const std::string& FakeApiServer::token() const {
  return state_->token;
}

const TlsIdentity& FakeApiServer::identity() const {
  return state_->identity;
}

std::string FakeApiServer::kubeconfig(const std::string& token) const {
  const std::string ca = state_->options.tls
                             ? fmt::format("    certificate-authority-data: {}\n",
                                           kube::base64_encode(state_->identity.ca_cert_pem))
                             : std::string();
  return fmt::format(
      "apiVersion: v1\n"
      "kind: Config\n"
      "clusters:\n"
      "- name: weft-fake\n"
      "  cluster:\n"
      "    server: {}\n"
      "{}"
      "contexts:\n"
      "- name: weft-fake\n"
      "  context:\n"
      "    cluster: weft-fake\n"
      "    user: weft-fake\n"
      "    namespace: default\n"
      "current-context: weft-fake\n"
      "preferences: {{}}\n"
      "users:\n"
      "- name: weft-fake\n"
      "  user:\n"
      "    token: {}\n",
      url(), ca, token.empty() ? state_->token : token);
}

Result<void> FakeApiServer::write_kubeconfig(const std::string& path) const {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << kubeconfig();
    if (!out) {
      return make_error(Errc::kIo, "cannot write {}", tmp);
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    return make_error(Errc::kIo, "cannot write {}: {}", path, ec.message());
  }
  return {};
}

kube::KubeConfig FakeApiServer::kube_config() const {
  kube::KubeConfig config;
  (void)kube::parse_server_url(url(), config);
  if (state_->options.tls) {
    config.ca.data = state_->identity.ca_cert_pem;
  }
  config.token = state_->token;
  config.context_name = "weft-fake";
  return config;
}

Result<ClientCertificate> FakeApiServer::issue_client_certificate(const std::string& user) const {
  return test::issue_client_certificate(state_->identity, user, {});
}

Result<json> FakeApiServer::create(const std::string& resource, json object) {
  WEFT_TRY(const auto* r, resource_named(resource));
  const auto ns = meta_string(object, "namespace");
  return to_result(state_->store.create(*r, r->namespaced ? ns : std::string(), std::move(object)));
}

Result<json> FakeApiServer::get(const std::string& resource, const std::string& ns,
                                const std::string& name) const {
  WEFT_TRY(const auto* r, resource_named(resource));
  return to_result(state_->store.get(*r, r->namespaced ? ns : std::string(), name));
}

Result<json> FakeApiServer::update(const std::string& resource, json object) {
  WEFT_TRY(const auto* r, resource_named(resource));
  const auto ns = r->namespaced ? meta_string(object, "namespace") : std::string();
  const auto name = meta_string(object, "name");
  return to_result(state_->store.update(*r, ns, name, std::move(object), false));
}

Result<json> FakeApiServer::update_status(const std::string& resource, json object) {
  WEFT_TRY(const auto* r, resource_named(resource));
  const auto ns = r->namespaced ? meta_string(object, "namespace") : std::string();
  const auto name = meta_string(object, "name");
  return to_result(state_->store.update(*r, ns, name, std::move(object), r->status_subresource));
}

Result<json> FakeApiServer::merge_patch(const std::string& resource, const std::string& ns,
                                        const std::string& name, const json& patch) {
  WEFT_TRY(const auto* r, resource_named(resource));
  return to_result(state_->store.patch(*r, r->namespaced ? ns : std::string(), name,
                                       fake::PatchKind::kMerge, patch, false));
}

Result<json> FakeApiServer::remove(const std::string& resource, const std::string& ns,
                                   const std::string& name) {
  WEFT_TRY(const auto* r, resource_named(resource));
  return to_result(state_->store.remove(*r, r->namespaced ? ns : std::string(), name));
}

std::vector<json> FakeApiServer::list(const std::string& resource, const std::string& ns) const {
  const fake::Resource* r = fake::find_resource(resource);
  if (r == nullptr) {
    return {};
  }
  fake::Filter filter;
  filter.resource = r;
  filter.ns = ns;
  return state_->store.objects(filter);
}

std::uint64_t FakeApiServer::resource_version() const {
  return state_->store.resource_version();
}

void FakeApiServer::compact() {
  state_->store.compact();
}

void FakeApiServer::drop_watches(bool abrupt) {
  test::drop_watches(*state_, abrupt);
}

void FakeApiServer::bookmark_now() {
  for (Watcher* w : state_->watchers) {
    w->bookmark_due = true;
    w->wake();
  }
}

void FakeApiServer::fail_next(int status, int count) {
  state_->fail_status = status;
  state_->fail_count = count;
}

std::size_t FakeApiServer::open_watches() const {
  return state_->watchers.size();
}

const std::vector<RequestRecord>& FakeApiServer::requests() const {
  return state_->log;
}

void FakeApiServer::clear_requests() {
  state_->log.clear();
}

}  // namespace weft::test
