#include "cli/ps.hpp"

#include "api/containers.hpp"
#include "api/paths.hpp"
#include "cli/commands.hpp"
#include "cli/weftd_client.hpp"
#include <fmt/format.h>

namespace weft::cli {
namespace {

using nlohmann::json;

constexpr std::string_view kExposeId = "weft:expose";

std::string field(const json& j, const char* key, const char* missing = "?") {
  if (!j.is_object()) {
    return missing;
  }
  auto it = j.find(key);
  if (it == j.end() || !it->is_string() || it->get<std::string>().empty()) {
    return missing;
  }
  return it->get<std::string>();
}

const json& array_at(const json& j, const char* key) {
  static const json kEmpty = json::array();
  if (!j.is_object()) {
    return kEmpty;
  }
  auto it = j.find(key);
  return it != j.end() && it->is_array() ? *it : kEmpty;
}

bool matches(std::string_view id, const std::vector<std::string>& prefixes) {
  if (prefixes.empty()) {
    return true;
  }
  for (const auto& p : prefixes) {
    if (id.starts_with(p)) {
      return true;
    }
  }
  return false;
}

// " a b c" for the strings of an array (others as "?").
std::string joined(const json& items) {
  std::string out;
  for (const auto& a : items) {
    out += " " + (a.is_string() ? a.get<std::string>() : std::string("?"));
  }
  return out;
}

}  // namespace

json filter_containers(const json& answer, const std::vector<std::string>& prefixes) {
  json out = {{"containers", json::array()}};
  for (const auto& c : array_at(answer, "containers")) {
    if (matches(field(c, "id", ""), prefixes)) {
      out["containers"].push_back(c);
    }
  }
  return out;
}

std::string format_ps(const json& answer, const json& report,
                      const std::vector<std::string>& prefixes) {
  std::string out;
  json dataplane;
  if (report.is_object() && report.contains("router") && report["router"].is_object()) {
    dataplane = report["router"].value("dataplane", json());
  }
  const json& exposed = array_at(dataplane, "exposed");
  if (!exposed.empty() && matches(kExposeId, prefixes)) {
    const json bridge = answer.is_object() ? answer.value("bridge", json()) : json();
    out += fmt::format("{} {}{}\n", kExposeId, field(bridge, "mac"), joined(exposed));
  }
  const json kept = filter_containers(answer, prefixes);  // outlives the loop below
  for (const auto& c : kept["containers"]) {
    std::string name = field(c, "id");
    const std::string ifname = field(c, "ifname", "eth0");
    if (ifname != "eth0") {
      name += ":" + ifname;
    }
    out += fmt::format("{} {}{}\n", name, field(c, "mac", "-"), joined(array_at(c, "addresses")));
  }
  return out;
}

int run_ps(const std::vector<std::string>& words, const std::string& status_addr, std::ostream& out,
           std::ostream& err) {
  bool as_json = false;
  std::vector<std::string> prefixes;
  for (std::size_t i = 1; i < words.size(); ++i) {
    if (words[i] == "--json") {
      as_json = true;
    } else if (words[i].starts_with("-")) {
      err << "weft: unknown option " << words[i] << "\nusage: weft ps [ID...] [--json]\n";
      return kExitUsage;
    } else {
      prefixes.push_back(words[i]);
    }
  }
  auto answer = call_weftd_json(err, status_addr, Method::kGet, api::containers_target());
  if (!answer) {
    return kExitFailure;
  }
  if (as_json) {
    out << filter_containers(*answer, prefixes).dump(2) << "\n";
    return kExitOk;
  }
  auto report = call_weftd_json(err, status_addr, Method::kGet, api::target(api::RouteId::kReport));
  if (!report) {
    return kExitFailure;
  }
  out << format_ps(*answer, *report, prefixes);
  return kExitOk;
}

}  // namespace weft::cli
