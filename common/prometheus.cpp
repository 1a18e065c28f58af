#include "common/prometheus.hpp"

#include <cmath>

#include <fmt/format.h>

namespace weft {

std::string prometheus_escape(const std::string& value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

void PrometheusWriter::add(const std::string& name, const std::string& type,
                           const std::string& help, double value, const Labels& labels) {
  auto [it, inserted] = families_.try_emplace(name);
  if (inserted) {
    it->second.type = type;
    it->second.help = help;
    order_.push_back(name);
  }
  std::string sample = name;
  if (!labels.empty()) {
    sample += "{";
    for (std::size_t i = 0; i < labels.size(); ++i) {
      sample += fmt::format("{}{}=\"{}\"", i ? "," : "", labels[i].first,
                            prometheus_escape(labels[i].second));
    }
    sample += "}";
  }
  if (std::isfinite(value) && value == std::floor(value) && std::fabs(value) < 1e15) {
    sample += fmt::format(" {}", static_cast<long long>(value));
  } else {
    sample += fmt::format(" {}", value);
  }
  it->second.samples.push_back(std::move(sample));
}

std::string PrometheusWriter::text() const {
  std::string out;
  for (const auto& name : order_) {
    const Family& f = families_.at(name);
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, f.help, name, f.type);
    for (const auto& s : f.samples) {
      out += s + "\n";
    }
  }
  return out;
}

}  // namespace weft
