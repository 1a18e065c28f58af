// Fuzz target for the server side of weftd's API requests: the input is a request target,
// decoded as the server does (parse_target, the route table of api/paths.hpp, the check of
// bound parameters); every typed IPAM request that parses must survive the client's trip —
// target() of it, decoded and parsed again, gives the same request — so weft-cni, the CLI
// and weftd can never disagree about an id.
// fuzz-deps: weft_api
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "api/ipam.hpp"
#include "api/paths.hpp"
#include "common/http_parse.hpp"

namespace {

using namespace weft;
using namespace weft::api;

// Decodes `t` and matches it against the routes of `method`, as the server would.
std::optional<std::pair<RouteId, ParsedTarget>> serve(Method method, std::string_view t,
                                                      RouteParams* params) {
  auto parsed = parse_target(t);
  if (!parsed) {
    return std::nullopt;
  }
  for (const Route& r : routes()) {
    if (r.method != method) {
      continue;
    }
    auto bound = match_route(*parse_route_pattern(r.pattern), parsed->segments);
    if (bound && validate_route_params(*bound)) {
      *params = std::move(*bound);
      return std::pair{r.id, std::move(*parsed)};
    }
  }
  return std::nullopt;
}

template <class T, class Parse>
void round_trip(Method method, const T& request, Parse parse) {
  const std::string again = target(request);
  RouteParams params;
  auto m = serve(method, again, &params);
  if (!m) {
    __builtin_trap();
  }
  auto back = parse(params, m->second.query);
  if (!back || !(*back == request)) {
    __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (Method method : {Method::kGet, Method::kPost, Method::kPut, Method::kDelete}) {
    RouteParams params;
    auto m = serve(method, text, &params);
    if (!m) {
      continue;
    }
    const QueryParams& query = m->second.query;
    switch (m->first) {
      case RouteId::kIpAllocate:
      case RouteId::kIpAllocateIn:
        if (auto r = parse_ip_allocate(params, query)) {
          round_trip(method, *r, parse_ip_allocate);
        }
        break;
      case RouteId::kIpClaim:
      case RouteId::kIpClaimPrefix:
        if (auto r = parse_ip_claim(params, query)) {
          round_trip(method, *r, parse_ip_claim);
        }
        break;
      case RouteId::kIpRelease:
      case RouteId::kIpReleaseOne:
      case RouteId::kIpReleaseOnePrefix:
        if (auto r = parse_ip_release(params, query)) {
          round_trip(method, *r, parse_ip_release);
        }
        break;
      case RouteId::kIpLookup:
        if (auto id = parse_ip_lookup(params)) {
          RouteParams again;
          auto back = serve(method, ip_lookup_target(*id), &again);
          if (!back || !parse_ip_lookup(again) || *parse_ip_lookup(again) != *id) {
            __builtin_trap();
          }
        }
        break;
      default:
        break;
    }
  }
  return 0;
}
