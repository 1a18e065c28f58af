#include "kube/reflector.hpp"

#include <algorithm>

#include <boost/asio/error.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/system/system_error.hpp>

#include "common/log.hpp"
#include "kube/api_status.hpp"

namespace weft::kube {

namespace asio = boost::asio;
// Used in `co_await (next || sleep)`; clang-tidy 14 does not see uses inside coroutines.
using asio::experimental::awaitable_operators::operator||;  // NOLINT(misc-unused-using-decls)

Reflector::Reflector(Client& client, WatchSink& sink, Clock& clock, Rng& rng,
                     ReflectorOptions options)
    : client_(client),
      sink_(sink),
      clock_(clock),
      rng_(rng),
      options_(std::move(options)),
      tasks_(client.executor()) {}

Reflector::~Reflector() {
  stopping_ = true;
  tasks_.cancel();
}

void Reflector::start() {
  tasks_.spawn(run(), "kube reflector " + options_.path);
}

asio::awaitable<void> Reflector::stop() {
  stopping_ = true;
  tasks_.cancel();
  co_await tasks_.join();
}

void Reflector::fail(const Error& error, std::string_view what) {
  ++status_.errors;
  status_.last_error = error.message;
  log::warn("kube reflector error", {{"path", options_.path},
                                     {"op", what},
                                     {"error", error.message},
                                     {"failures", failures_ + 1}});
}

asio::awaitable<bool> Reflector::backoff() {
  Clock::Duration delay = options_.backoff_initial;
  for (unsigned i = 0; i < failures_ && delay < options_.backoff_max; ++i) {
    delay *= 2;
  }
  delay = std::min(delay, options_.backoff_max);
  ++failures_;
  const auto half = delay / 2;
  const auto wait = half + Clock::Duration(static_cast<Clock::Duration::rep>(
                               rng_.uniform(static_cast<std::uint64_t>(half.count()) + 1)));
  const bool slept = co_await clock_.sleep_for(wait);
  co_return slept && !stopping_;
}

asio::awaitable<bool> Reflector::relist() {
  ListOptions list_options;
  list_options.label_selector = options_.label_selector;
  list_options.field_selector = options_.field_selector;
  list_options.limit = options_.page_size;
  list_options.transform = options_.transform;
  auto list = co_await client_.list_all(options_.path, list_options);
  if (stopping_) {
    co_return false;
  }
  if (!list) {
    fail(list.error(), "list");
    co_return false;
  }
  ++status_.lists;
  status_.resource_version = list->resource_version;
  status_.synced = true;
  failures_ = 0;
  listed_ = true;
  if (options_.resync_interval.count() > 0) {
    next_resync_ = clock_.now() + options_.resync_interval;
  }
  log::debug("kube reflector listed", {{"path", options_.path},
                                       {"items", list->items.size()},
                                       {"resource_version", list->resource_version}});
  sink_.replace(std::move(list->items), std::move(list->resource_version));
  co_return true;
}

bool Reflector::handle(WatchEvent event, WatchEnd* end) {
  switch (event.type) {
    case EventType::kBookmark: {
      auto rv = resource_version_of(event.object);
      if (!rv.empty()) {
        status_.resource_version = std::move(rv);
      }
      ++status_.bookmarks;
      return true;
    }
    case EventType::kError: {
      const auto status =
          parse_status(event.object).value_or(ApiStatus{500, "", "ERROR event without a Status"});
      if (status.code == 410 || status.reason == "Expired" || status.reason == "Gone") {
        *end = WatchEnd::kGone;
        return false;
      }
      fail(status_error(status, "watch " + options_.path), "watch");
      *end = WatchEnd::kFailed;
      return false;
    }
    case EventType::kAdded:
    case EventType::kModified:
    case EventType::kDeleted:
      break;
  }
  auto rv = resource_version_of(event.object);
  if (!rv.empty()) {
    status_.resource_version = std::move(rv);
  }
  ++status_.events;
  if (options_.transform) {
    options_.transform(event.object);
  }
  sink_.apply(event.type, std::move(event.object));
  return true;
}

asio::awaitable<Reflector::WatchEnd> Reflector::watch_once(bool* progress) {
  const bool resync = options_.resync_interval.count() > 0;
  if (resync && clock_.now() >= next_resync_) {
    co_return WatchEnd::kResync;
  }
  WatchOptions watch_options;
  watch_options.resource_version = status_.resource_version;
  watch_options.label_selector = options_.label_selector;
  watch_options.field_selector = options_.field_selector;
  watch_options.allow_bookmarks = true;
  const auto base = std::max<std::int64_t>(
      1, std::chrono::duration_cast<std::chrono::seconds>(options_.watch_timeout).count());
  watch_options.timeout = std::chrono::seconds(
      base + static_cast<std::int64_t>(rng_.uniform(static_cast<std::uint64_t>(base))));
  auto opened = co_await client_.watch(options_.path, watch_options);
  if (stopping_) {
    co_return WatchEnd::kFailed;
  }
  if (!opened) {
    if (is_gone(opened.error())) {
      co_return WatchEnd::kGone;
    }
    fail(opened.error(), "watch");
    co_return WatchEnd::kFailed;
  }
  ++status_.watches;
  if (!listed_) {
    ++status_.watch_restarts;
  }
  listed_ = false;
  auto stream = std::move(*opened);
  while (true) {
    Result<std::optional<WatchEvent>> next = std::optional<WatchEvent>();
    if (resync) {
      const auto now = clock_.now();
      if (now >= next_resync_) {
        co_return WatchEnd::kResync;
      }
      auto r = co_await (stream->next() || clock_.sleep_for(next_resync_ - now));
      if (stopping_) {
        co_return WatchEnd::kFailed;
      }
      if (r.index() == 1) {
        co_return WatchEnd::kResync;
      }
      next = std::move(std::get<0>(r));
    } else {
      next = co_await stream->next();
      if (stopping_) {
        co_return WatchEnd::kFailed;
      }
    }
    if (!next) {
      fail(next.error(), "watch");
      co_return WatchEnd::kFailed;
    }
    if (!*next) {
      co_return WatchEnd::kEnded;
    }
    WatchEnd end = WatchEnd::kFailed;
    if (!handle(std::move(**next), &end)) {
      co_return end;
    }
    *progress = true;
  }
}

asio::awaitable<void> Reflector::run() {
  try {
    bool need_list = true;
    while (!stopping_) {
      if (need_list) {
        const bool listed = co_await relist();
        if (stopping_) {
          break;
        }
        if (!listed) {
          const bool waited = co_await backoff();
          if (!waited) {
            break;
          }
          continue;
        }
        need_list = false;
      }
      bool progress = false;
      const bool after_list = listed_;
      const auto started = clock_.now();
      const WatchEnd end = co_await watch_once(&progress);
      if (stopping_) {
        break;
      }
      if (progress) {
        failures_ = 0;
      }
      switch (end) {
        case WatchEnd::kGone: {
          ++status_.relists_gone;
          log::info("kube reflector relists after 410 Gone", {{"path", options_.path}});
          need_list = true;
          if (after_list && !progress) {
            const bool waited = co_await backoff();
            if (!waited) {
              co_return;
            }
          }
          break;
        }
        case WatchEnd::kResync:
          ++status_.resyncs;
          need_list = true;
          break;
        case WatchEnd::kEnded:
          // A stream that ran its course (timeoutSeconds) is watched again at once; one that
          // ends early without delivering anything is treated like a failure.
          if (progress || clock_.now() - started >= options_.watch_timeout / 2) {
            break;
          }
          [[fallthrough]];
        case WatchEnd::kFailed: {
          const bool waited = co_await backoff();
          if (!waited) {
            co_return;
          }
          break;
        }
      }
    }
  } catch (const boost::system::system_error& e) {
    if (e.code() != asio::error::operation_aborted) {
      log::error("kube reflector stopped", {{"path", options_.path}, {"error", e.what()}});
    }
  }
}

}  // namespace weft::kube
