#include "common/log.hpp"

#include <atomic>
#include <chrono>
#include <ctime>
#include <mutex>

#include <unistd.h>

namespace weft::log {
namespace {

// The only process-wide state in the project: the log sink is configured by main and
// read from every thread. Guarded by sink_mutex.
std::atomic<Level> g_level{Level::kInfo};
std::mutex g_sink_mutex;
Sink g_sink;  // empty = stderr

constexpr std::string_view kLevelNames[] = {"debug", "info", "warn", "error", "off"};

bool needs_quotes(std::string_view v) {
  if (v.empty()) {
    return true;
  }
  for (char c : v) {
    if (c == ' ' || c == '"' || c == '=' || c == '\\' || static_cast<unsigned char>(c) < 0x20) {
      return true;
    }
  }
  return false;
}

void append_value(std::string& out, std::string_view v) {
  if (!needs_quotes(v)) {
    out.append(v);
    return;
  }
  out.push_back('"');
  for (char c : v) {
    switch (c) {
      case '"':
        out.append("\\\"");
        break;
      case '\\':
        out.append("\\\\");
        break;
      case '\n':
        out.append("\\n");
        break;
      case '\t':
        out.append("\\t");
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out.append(fmt::format("\\x{:02x}", static_cast<unsigned char>(c)));
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
}

std::string timestamp() {
  const auto now = std::chrono::system_clock::now();
  const auto secs = std::chrono::system_clock::to_time_t(now);
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
}

}  // namespace

void set_level(Level level) {
  g_level.store(level);
}
Level level() {
  return g_level.load();
}

void set_sink(Sink sink) {
  const std::lock_guard lock(g_sink_mutex);
  g_sink = std::move(sink);
}

bool parse_level(std::string_view text, Level& out) {
  for (size_t i = 0; i < std::size(kLevelNames); ++i) {
    if (text == kLevelNames[i]) {
      out = static_cast<Level>(i);
      return true;
    }
  }
  return false;
}

std::string format_line(Level level, std::string_view msg, Fields fields) {
  std::string line;
  line.reserve(128);
  line.append("ts=").append(timestamp());
  line.append(" level=").append(kLevelNames[static_cast<size_t>(level)]);
  line.append(" msg=");
  append_value(line, msg);
  for (const Field& f : fields) {
    line.push_back(' ');
    line.append(f.key);
    line.push_back('=');
    append_value(line, f.value);
  }
  line.push_back('\n');
  return line;
}

void write(Level level, std::string_view msg, Fields fields) {
  if (level < g_level.load() || level == Level::kOff) {
    return;
  }
  const std::string line = format_line(level, msg, fields);
  const std::lock_guard lock(g_sink_mutex);
  if (g_sink) {
    g_sink(line);
    return;
  }
  // One write() per line so that lines from threads and processes do not interleave.
  [[maybe_unused]] const ssize_t n = ::write(STDERR_FILENO, line.data(), line.size());
}

}  // namespace weft::log
