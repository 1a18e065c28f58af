// `weft ps [ID...] [--json]`: the containers attached on this host, as `weave ps` shows them:
//   weft:expose 02:4a:6b:8c:9d:01 10.32.0.1/12
//   8c1e5a3f9b2d 2a:7e:11:22:33:44 10.32.0.5/12 fd10:32::5/48
//   8c1e5a3f9b2d:net1 2a:7e:11:22:33:45 10.40.0.5/16
// from weftd's GET /containers (the registry, api/containers.hpp) and /report (the
// exposed addresses, router.dataplane.exposed).
//
// Design note: ps renders the answer's JSON field by field instead of through
// api::parse_container_list, which refuses a whole list for one odd record: an operator
// looking at a weftd of another version still gets every line, with "?" where a field is
// not what this version expects. --json passes the records through untouched.
//
// Contract: format_ps and filter_containers are pure and treat the JSON as untrusted (another
// weftd version): missing or mistyped fields print as "?" (a missing MAC as "-"), never
// throw. run_ps blocks; exit codes as cli/commands.hpp.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace weft::cli {

// The records of a GET /containers answer whose id starts with one of `prefixes` (all when
// there are none), as {"containers": [...]}.
nlohmann::json filter_containers(const nlohmann::json& answer,
                                 const std::vector<std::string>& prefixes);

// The text of `weft ps`. `report` may be null (no expose line). The expose line is printed
// when the bridge has exposed addresses and no prefix is given (or one matches
// "weft:expose").
std::string format_ps(const nlohmann::json& answer, const nlohmann::json& report,
                      const std::vector<std::string>& prefixes);

// `words` starts with "ps".
int run_ps(const std::vector<std::string>& words, const std::string& status_addr, std::ostream& out,
           std::ostream& err);

}  // namespace weft::cli
