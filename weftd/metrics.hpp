// GET /metrics: weftd's Prometheus metrics, rendered from the same typed DaemonStatus as
// /report, so the two never disagree. Names are a contract with dashboards (weft_*); new
// ones may be added.
//
// Contract: pure; a status without a data plane or IPAM yields fewer metrics, never an
// error.
#pragma once

#include <string>

#include "weftd/status.hpp"

namespace weft::weftd {

std::string render_metrics(const DaemonStatus& status);

}  // namespace weft::weftd
