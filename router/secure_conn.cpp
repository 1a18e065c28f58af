// Design note: three coroutines share one State (held by shared_ptr so that they may outlive
// the SecureConn object): the reader opens frames in counter order into the receive queue,
// the writer seals queued plaintexts in queue order (so the counter order is the wire
// order), and the heartbeat task sends heartbeats and watches for a silent peer. Sealing
// happens in the writer, not in send(), so that the crypto is one small call that can move
// to a crypto thread later. The first error wins and is the reason receive() reports.
#include "router/secure_conn.hpp"

#include <deque>
#include <exception>
#include <optional>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/log.hpp"

namespace weft::router {

namespace asio = boost::asio;

namespace {

// Spawns a connection task; an exception (a bug, or cancellation at a co_await) is logged.
void spawn(const asio::any_io_executor& ex, asio::awaitable<void> task, const char* name,
           asio::cancellation_slot slot = {}) {
  asio::co_spawn(ex, std::move(task),
                 asio::bind_cancellation_slot(slot, [name](std::exception_ptr e) {
                   if (!e) {
                     return;
                   }
                   try {
                     std::rethrow_exception(e);
                   } catch (const std::exception& x) {
                     log::error("connection task ended with an exception",
                                {{"task", name}, {"error", x.what()}});
                   }
                 }));
}

}  // namespace

Wakeup::Wakeup(const asio::any_io_executor& executor)
    : timer_(executor, asio::steady_timer::time_point::max()) {}

asio::awaitable<void> Wakeup::wait() {
  timer_.expires_at(asio::steady_timer::time_point::max());
  co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
}

void Wakeup::notify() {
  timer_.cancel();
}

struct SecureConn::State {
  State(asio::any_io_executor ex, std::unique_ptr<ByteStream> s, Session session, bool out,
        Clock& c, std::shared_ptr<TransportStats> st, SecureConnOptions o)
      : executor(ex),
        stream(std::move(s)),
        peer(std::move(session.peer)),
        outbound(out),
        send_cipher(std::move(session.send)),
        receive_cipher(std::move(session.receive)),
        clock(&c),
        stats(std::move(st)),
        options(o),
        writer_wakeup(ex),
        receive_wakeup(ex),
        reader_wakeup(ex),
        last_rx(c.now()),
        last_tx(c.now()) {}

  asio::any_io_executor executor;
  std::unique_ptr<ByteStream> stream;
  PeerInfo peer;
  bool outbound;
  CipherState send_cipher;
  CipherState receive_cipher;
  Clock* clock;
  std::shared_ptr<TransportStats> stats;
  SecureConnOptions options;

  std::deque<std::vector<std::uint8_t>> out_queue;  // frame plaintexts
  std::size_t out_bytes = 0;
  Wakeup writer_wakeup;
  std::deque<std::vector<std::uint8_t>> in_queue;  // received messages
  std::size_t in_bytes = 0;
  Wakeup receive_wakeup;
  Wakeup reader_wakeup;  // the reader waits here while the receive queue is full
  bool reader_paused = false;

  bool closed = false;
  bool stream_closed = false;
  std::optional<Error> error;  // why the connection closed
  Clock::TimePoint last_rx;
  Clock::TimePoint last_tx;
  // Cancellation may only be emitted once a task has started: asio throws out of the
  // io_context when a co_spawn'ed coroutine is cancelled before its first resumption. A task
  // that starts after the fact sees `closed` / `stream_closed` and ends by itself.
  asio::cancellation_signal heartbeat_cancel;
  bool heartbeat_started = false;
  asio::cancellation_signal linger_cancel;
  bool linger_started = false;

  log::Field peer_field() const { return {"peer", peer.remote_address}; }
  log::Field name_field() const { return {"name", peer.name.to_string()}; }

  void close_stream() {
    if (!stream_closed) {
      stream_closed = true;
      stream->close();
      if (linger_started) {
        linger_cancel.emit(asio::cancellation_type::terminal);
      }
    }
  }

  // Marks the connection closed with `why` and wakes everyone; `cut` closes the stream now.
  void finish(Error why, bool cut) {
    if (closed) {
      return;
    }
    closed = true;
    error = std::move(why);
    if (heartbeat_started) {
      heartbeat_cancel.emit(asio::cancellation_type::terminal);
    }
    if (cut) {
      close_stream();
    }
    writer_wakeup.notify();
    receive_wakeup.notify();
    reader_wakeup.notify();
  }

  // A failure detected on this connection: one log line (`msg` at `level`, or the generic
  // "connection closed"), then close at once.
  void fail(Error why, log::Level level = log::Level::kInfo,
            std::string_view msg = "connection closed") {
    if (closed) {
      return;
    }
    log::write(level, msg, {peer_field(), name_field(), {"reason", why.message}});
    finish(std::move(why), true);
  }

  void enqueue(FrameType type, std::span<const std::uint8_t> payload) {
    out_queue.push_back(encode_frame_plaintext(type, payload));
    out_bytes += out_queue.back().size();
    writer_wakeup.notify();
  }
};

namespace {

using State = SecureConn::State;

asio::awaitable<void> writer(std::shared_ptr<State> s) {
  std::vector<std::uint8_t> wire;
  for (;;) {
    while (s->out_queue.empty()) {
      if (s->closed) {
        s->close_stream();
        co_return;
      }
      co_await s->writer_wakeup.wait();
    }
    if (s->stream_closed) {
      co_return;
    }
    std::vector<std::uint8_t> plain = std::move(s->out_queue.front());
    s->out_queue.pop_front();
    s->out_bytes -= plain.size();
    const auto header =
        encode_frame_header(static_cast<std::uint32_t>(plain.size() + kAeadOverhead));
    wire.assign(header.begin(), header.end());
    s->send_cipher.seal(header, plain, wire);
    ++s->stats->frames_sealed;
    auto w = co_await s->stream->write_all(wire);
    if (!w) {
      s->fail(make_error(w.error().code, "write failed: {}", w.error().message));
      co_return;
    }
    s->stats->bytes_out += wire.size();
    s->last_tx = s->clock->now();
    if (static_cast<FrameType>(plain[0]) == FrameType::kClose) {
      s->close_stream();  // the Close frame is the last one we send
      co_return;
    }
  }
}

// Handles one opened frame; returns false when the connection ends.
bool dispatch(State& s, std::span<const std::uint8_t> plain) {
  auto frame = decode_frame_plaintext(plain);
  if (!frame || frame->type == FrameType::kConfirm) {
    ++s.stats->frame_malformed;
    s.fail(frame ? make_error(Errc::kMalformed, "a second confirm frame")
                 : make_error(Errc::kMalformed, "{}", frame.error().message),
           log::Level::kWarn, "closing connection: protocol error");
    return false;
  }
  switch (frame->type) {
    case FrameType::kMessage:
      s.in_queue.emplace_back(frame->payload.begin(), frame->payload.end());
      s.in_bytes += frame->payload.size();
      s.receive_wakeup.notify();
      return true;
    case FrameType::kHeartbeat:
      return true;
    case FrameType::kClose: {
      const std::string reason(frame->payload.begin(), frame->payload.end());
      log::info("connection closed by peer", {s.peer_field(), s.name_field(), {"reason", reason}});
      s.finish(make_error(Errc::kUnavailable, "peer closed the connection: {}", reason), true);
      return false;
    }
    case FrameType::kConfirm:
      break;
  }
  return false;
}

asio::awaitable<void> reader(std::shared_ptr<State> s) {
  std::array<std::uint8_t, kFrameHeaderSize> header{};
  std::vector<std::uint8_t> sealed;
  std::vector<std::uint8_t> plain;
  while (!s->closed) {
    while (s->in_bytes >= s->options.max_receive_queue && !s->closed) {
      s->reader_paused = true;
      co_await s->reader_wakeup.wait();
    }
    s->reader_paused = false;
    if (s->closed) {
      break;
    }
    auto r = co_await read_exact(*s->stream, header);
    if (r) {
      auto size = decode_frame_header(header);
      if (!size) {
        ++(size.error().code == make_error_code(Errc::kTooLarge) ? s->stats->frame_oversize
                                                                 : s->stats->frame_malformed);
        s->fail(size.error(), log::Level::kWarn, "closing connection: bad frame length");
        break;
      }
      sealed.resize(*size);
      r = co_await read_exact(*s->stream, sealed);
    }
    if (!r) {
      s->fail(make_error(r.error().code, "read failed: {}", r.error().message));
      break;
    }
    s->stats->bytes_in += kFrameHeaderSize + sealed.size();
    if (!s->receive_cipher.open(header, sealed, plain)) {
      ++s->stats->frame_auth_failures;
      s->fail(make_error(Errc::kAuthFailed, "frame {} failed authentication",
                         s->receive_cipher.counter()),
              log::Level::kWarn,
              "closing connection: message failed authentication (tampered or replayed)");
      break;
    }
    ++s->stats->frames_opened;
    s->last_rx = s->clock->now();
    if (!dispatch(*s, plain)) {
      break;
    }
  }
}

asio::awaitable<void> heartbeat(std::shared_ptr<State> s) {
  const auto interval = s->options.heartbeat_interval;
  const auto dead_after = interval * s->options.heartbeat_misses;
  s->heartbeat_started = true;
  for (;;) {
    if (s->closed) {
      co_return;
    }
    // GCC 12: a co_await inside an if condition breaks the frame's destroy path when the
    // coroutine is destroyed before it ran; keep awaits in their own statements.
    const bool slept = co_await s->clock->sleep_for(interval);
    if (!slept || s->closed) {
      co_return;
    }
    const auto now = s->clock->now();
    if (!s->reader_paused && now - s->last_rx >= dead_after) {
      ++s->stats->heartbeat_timeouts;
      const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now - s->last_rx);
      s->fail(make_error(Errc::kTimeout, "nothing received for {} ms (missed {} heartbeats)",
                         ms.count(), s->options.heartbeat_misses),
              log::Level::kWarn, "closing connection: peer silent");
      co_return;
    }
    if (now - s->last_tx >= interval / 2 && s->out_queue.empty()) {
      ++s->stats->heartbeats_sent;
      s->enqueue(FrameType::kHeartbeat, {});
    }
  }
}

// Cuts the stream if the Close frame could not be written within the linger time.
asio::awaitable<void> linger(std::shared_ptr<State> s) {
  s->linger_started = true;
  if (s->stream_closed) {
    co_return;
  }
  const bool slept = co_await s->clock->sleep_for(s->options.close_linger);
  if (slept) {
    s->close_stream();
  }
}

}  // namespace

SecureConn::SecureConn(asio::any_io_executor executor, std::unique_ptr<ByteStream> stream,
                       Session session, bool outbound, Clock& clock,
                       std::shared_ptr<TransportStats> stats, SecureConnOptions options)
    : state_(std::make_shared<State>(executor, std::move(stream), std::move(session), outbound,
                                     clock, std::move(stats), options)) {
  spawn(executor, reader(state_), "reader");
  spawn(executor, writer(state_), "writer");
  spawn(executor, heartbeat(state_), "heartbeat", state_->heartbeat_cancel.slot());
}

SecureConn::~SecureConn() {
  close("connection released");
}

const PeerInfo& SecureConn::remote() const {
  return state_->peer;
}
bool SecureConn::outbound() const {
  return state_->outbound;
}
bool SecureConn::closed() const {
  return state_->closed;
}
std::string SecureConn::why() const {
  return state_->error ? state_->error->message : std::string();
}

asio::awaitable<Result<std::vector<std::uint8_t>>> SecureConn::receive() {
  const std::shared_ptr<State> s = state_;  // keeps the state alive if we are destroyed
  for (;;) {
    if (!s->in_queue.empty()) {
      std::vector<std::uint8_t> m = std::move(s->in_queue.front());
      s->in_queue.pop_front();
      s->in_bytes -= m.size();
      s->reader_wakeup.notify();
      co_return m;
    }
    if (s->closed) {
      co_return *s->error;
    }
    co_await s->receive_wakeup.wait();
    const asio::cancellation_state cs = co_await asio::this_coro::cancellation_state;
    if (cs.cancelled() != asio::cancellation_type::none) {
      co_return make_error(Errc::kCancelled, "receive from {} cancelled", s->peer.remote_address);
    }
  }
}

Result<void> SecureConn::send(std::vector<std::uint8_t> message) {
  State& s = *state_;
  if (s.closed) {
    return *s.error;
  }
  if (message.size() > kMaxMessageSize) {
    return make_error(Errc::kTooLarge, "message of {} bytes over the limit of {}", message.size(),
                      kMaxMessageSize);
  }
  if (s.out_bytes + message.size() > s.options.max_send_queue) {
    return make_error(Errc::kExhausted, "send queue to {} full ({} bytes)", s.peer.remote_address,
                      s.out_bytes);
  }
  s.enqueue(FrameType::kMessage, message);
  return {};
}

void SecureConn::close(std::string reason) {
  State& s = *state_;
  if (s.closed) {
    return;
  }
  log::info("closing connection", {s.peer_field(), s.name_field(), {"reason", reason}});
  // What is queued is dropped; the Close frame goes out next unless the stream is busy.
  s.out_queue.clear();
  s.out_bytes = 0;
  s.in_queue.clear();
  s.in_bytes = 0;
  const std::string wire_reason = sanitize_close_reason(reason);
  s.enqueue(FrameType::kClose, std::span(reinterpret_cast<const std::uint8_t*>(wire_reason.data()),
                                         wire_reason.size()));
  s.finish(make_error(Errc::kCancelled, "connection closed: {}", reason), false);
  spawn(s.executor, linger(state_), "linger", s.linger_cancel.slot());
}

std::string sanitize_close_reason(std::string_view reason) {
  std::string out;
  for (std::size_t i = 0; i < reason.size();) {
    // Take one UTF-8 sequence (or one byte); keep it when it is printable.
    std::size_t n = 1;
    while (i + n < reason.size() && n < 4 &&
           (static_cast<std::uint8_t>(reason[i + n]) & 0xc0) == 0x80) {
      ++n;
    }
    const auto piece = reason.substr(i, n);
    const bool ok = is_printable_utf8(
        std::span(reinterpret_cast<const std::uint8_t*>(piece.data()), piece.size()));
    if (out.size() + (ok ? n : 1) > kMaxCloseReason) {
      break;
    }
    out.append(ok ? piece : std::string_view(" "));
    i += n;
  }
  return out;
}

}  // namespace weft::router
