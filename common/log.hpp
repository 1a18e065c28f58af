// Structured key-value logging: `ts=... level=info msg="peer connected" peer=aa:bb:..`.
//
// Contract: one process-wide sink, configured once by main (level, output stream); the
// functions are safe to call from any thread (a line is written with one write call).
// Library code logs with context fields instead of formatting sentences, so that logs can
// be grepped and parsed.
#pragma once

#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>

#include <fmt/format.h>

namespace weft::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3, kOff = 4 };

// One key-value pair; the value is formatted with fmt on construction.
struct Field {
  template <class T>
  Field(std::string_view k, const T& v) : key(k), value(fmt::format("{}", v)) {}
  Field(std::string_view k, std::string v) : key(k), value(std::move(v)) {}
  Field(std::string_view k, const char* v) : key(k), value(v) {}

  std::string_view key;
  std::string value;
};

using Fields = std::initializer_list<Field>;
using Sink = std::function<void(std::string_view line)>;

void set_level(Level level);
Level level();
// Replaces the output (default: stderr). Tests capture lines with this.
void set_sink(Sink sink);
// Parses "debug", "info", "warn", "error", "off".
bool parse_level(std::string_view text, Level& out);

// Formats one line: ts=<rfc3339> level=<lvl> msg=<quoted> k=v ... (values quoted when needed).
std::string format_line(Level level, std::string_view msg, Fields fields);

void write(Level level, std::string_view msg, Fields fields);

inline void debug(std::string_view msg, Fields fields = {}) {
  write(Level::kDebug, msg, fields);
}
inline void info(std::string_view msg, Fields fields = {}) {
  write(Level::kInfo, msg, fields);
}
inline void warn(std::string_view msg, Fields fields = {}) {
  write(Level::kWarn, msg, fields);
}
inline void error(std::string_view msg, Fields fields = {}) {
  write(Level::kError, msg, fields);
}

}  // namespace weft::log
