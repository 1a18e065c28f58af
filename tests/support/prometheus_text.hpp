// A strict reader of the Prometheus text exposition format (0.0.4) for tests:
// every line must be a HELP, a TYPE (one per family, before its samples) or a well-formed
// sample; anything else fails the test. Returns "name{labels}" -> value.
#pragma once

#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

namespace weft::test {

inline std::map<std::string, double> parse_prometheus_text(const std::string& text) {
  static const std::regex help(R"(^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* .*$)");
  static const std::regex type(R"(^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (gauge|counter)$)");
  static const std::regex sample(
      R"(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\.)*",?)*\})? (-?[0-9.e+]+|NaN|\+Inf|-Inf)$)");
  std::map<std::string, double> out;
  std::set<std::string> typed;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (std::regex_match(line, help)) {
      continue;
    }
    if (std::regex_match(line, m, type)) {
      EXPECT_TRUE(typed.insert(m[1]).second) << "second TYPE for " << m[1];
      continue;
    }
    if (!std::regex_match(line, m, sample)) {
      ADD_FAILURE() << "not Prometheus text: " << line;
      continue;
    }
    EXPECT_TRUE(typed.contains(m[1])) << "sample before its TYPE: " << line;
    const auto space = line.rfind(' ');
    EXPECT_TRUE(out.emplace(line.substr(0, space), std::stod(line.substr(space + 1))).second)
        << "duplicate sample: " << line;
  }
  EXPECT_FALSE(out.empty()) << "no samples in:\n" << text;
  return out;
}

}  // namespace weft::test
