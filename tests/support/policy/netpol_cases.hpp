// The NetworkPolicy conformance data of tests/data/netpol (its README is the format's
// contract): the model, the cases, and a World that plays a case's steps on the model's
// objects for one address family — the same way for the offline runner (analyze) and the
// netns runner (real pods, the fake API server, weft-npc).
//
// Contract: plain values, no I/O except load_*; thread-compatible.
#pragma once

#include <array>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/ip_address.hpp"
#include "common/result.hpp"
#include "policy/model.hpp"

namespace weft::test {

// The nine pods in matrix order: x/a x/b x/c y/a ... z/c.
extern const std::array<std::string, 9> kNetpolPods;

struct NetpolProbe {
  policy::Protocol protocol = policy::Protocol::kTcp;
  std::uint16_t port = 0;
  std::array<std::string, 9> rows;  // row = source, column = destination; '.' allowed
  bool allowed(std::size_t src, std::size_t dst) const { return rows[src][dst] == '.'; }
};

struct NetpolStep {
  std::string description;
  std::vector<nlohmann::json> apply;
  std::vector<nlohmann::json> remove;  // {kind, namespace, name}
  std::vector<nlohmann::json> labels;  // {kind, [namespace,] name, labels}
  std::vector<NetpolProbe> probes;
};

struct NetpolCase {
  std::string file;  // "006-....yaml"
  std::string name;
  std::vector<IpFamily> families;
  std::vector<NetpolStep> steps;
};

// tests/data/netpol in the source tree.
std::string netpol_data_dir();
Result<std::vector<nlohmann::json>> load_netpol_model();
Result<NetpolCase> load_netpol_case(const std::string& file);
// Every case file name, sorted; and the names listed in quick.txt.
std::vector<std::string> netpol_case_files();
std::vector<std::string> netpol_quick_files();
// A GoogleTest name for a case file: "006-allow-x.yaml" -> "006_allow_x".
std::string netpol_test_name(const std::string& file);

// What one step asks of the API server, in order.
struct NetpolOperation {
  enum class Kind { kCreate, kReplace, kDelete, kLabel } kind;
  nlohmann::json object;  // the whole object (create/replace), or the identity (delete)
  nlohmann::json labels;  // kLabel: the labels to merge (null values remove)
};

// The model's objects as a case changes them. Pods carry status.podIP(s) of `addresses`.
class NetpolWorld {
 public:
  NetpolWorld(std::vector<nlohmann::json> model, IpFamily family,
              std::map<std::string, IpAddress> addresses);
  // Plays one step (placeholders substituted for this family); returns what it did.
  Result<std::vector<NetpolOperation>> step(const NetpolStep& step);
  // Every current object (namespaces, pods, policies).
  std::vector<nlohmann::json> objects() const;

  // ${ip:ns/pod} and ${cidr:ns/pod/N} (N an IPv4 prefix length; IPv6: 128 - (32 - N)).
  Result<std::string> substitute(const std::string& text) const;

 private:
  Result<nlohmann::json> substitute_all(const nlohmann::json& value) const;
  std::map<std::string, nlohmann::json> objects_;  // "Kind ns/name" -> object
  IpFamily family_;
  std::map<std::string, IpAddress> addresses_;
};

}  // namespace weft::test
