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
  sample(name, type, help, name, value, labels);
}

void PrometheusWriter::add_histogram(const std::string& name, const std::string& help,
                                     const std::map<double, std::uint64_t>& buckets, double sum,
                                     std::uint64_t count, const Labels& labels) {
  for (const auto& [bound, n] : buckets) {
    Labels with_le = labels;
    with_le.emplace_back("le", fmt::format("{}", bound));
    sample(name, "histogram", help, name + "_bucket", static_cast<double>(n), with_le);
  }
  Labels with_inf = labels;
  with_inf.emplace_back("le", "+Inf");
  sample(name, "histogram", help, name + "_bucket", static_cast<double>(count), with_inf);
  sample(name, "histogram", help, name + "_sum", sum, labels);
  sample(name, "histogram", help, name + "_count", static_cast<double>(count), labels);
}

void PrometheusWriter::sample(const std::string& family, const std::string& type,
                              const std::string& help, const std::string& name, double value,
                              const Labels& labels) {
  auto [it, inserted] = families_.try_emplace(family);
  if (inserted) {
    it->second.type = type;
    it->second.help = help;
    order_.push_back(family);
  }
  std::string line = name;
  if (!labels.empty()) {
    line += "{";
    for (std::size_t i = 0; i < labels.size(); ++i) {
      line += fmt::format("{}{}=\"{}\"", i ? "," : "", labels[i].first,
                          prometheus_escape(labels[i].second));
    }
    line += "}";
  }
  if (std::isfinite(value) && value == std::floor(value) && std::fabs(value) < 1e15) {
    line += fmt::format(" {}", static_cast<long long>(value));
  } else {
    line += fmt::format(" {}", value);
  }
  it->second.samples.push_back(std::move(line));
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
