// GET /metrics: weftd's Prometheus metrics, derived from the /report JSON so that the two
// never disagree. Names are a contract with dashboards (weft_*); new ones may be added.
//
// Contract: pure; a report missing sections (no data plane, no IPAM yet) yields fewer
// metrics, never an error.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace weft::weftd {

std::string render_metrics(const nlohmann::json& report);

}  // namespace weft::weftd
