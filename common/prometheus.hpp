// Prometheus text exposition format (version 0.0.4): a small writer that groups samples by
// metric name with one HELP/TYPE header each and escapes label values.
//
// Contract: pure; metric and label names are the caller's constants ([a-zA-Z_:][a-zA-Z0-9_:]*).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace weft {

class PrometheusWriter {
 public:
  using Labels = std::vector<std::pair<std::string, std::string>>;
  // type: "gauge" or "counter". Declaring a metric twice keeps the first help text.
  void add(const std::string& name, const std::string& type, const std::string& help, double value,
           const Labels& labels = {});
  // A histogram: cumulative bucket counts (upper bound -> observations <= it; the +Inf
  // bucket is `count`), the sum and the count of observations.
  void add_histogram(const std::string& name, const std::string& help,
                     const std::map<double, std::uint64_t>& buckets, double sum,
                     std::uint64_t count, const Labels& labels = {});
  std::string text() const;

 private:
  struct Family {
    std::string type, help;
    std::vector<std::string> samples;
  };
  void sample(const std::string& family, const std::string& type, const std::string& help,
              const std::string& name, double value, const Labels& labels);
  std::vector<std::string> order_;
  std::map<std::string, Family> families_;
};

// Escapes a label value: backslash, double quote and newline.
std::string prometheus_escape(const std::string& value);

}  // namespace weft
