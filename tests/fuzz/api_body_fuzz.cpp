// Fuzz target for the bodies of weftd's API (api/control.hpp, api/ipam.hpp,
// api/containers.hpp), requests and answers: the first byte picks the parser, the rest is
// the body. Never crashes; whatever parses encodes and parses back equal.
// fuzz-deps: weft_api
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "api/containers.hpp"
#include "api/control.hpp"
#include "api/ipam.hpp"

namespace {

using namespace weft::api;

template <class T, class Encode, class Parse>
void check(std::string_view body, Parse parse, Encode encode) {
  auto first = parse(body);
  if (!first) {
    return;
  }
  auto again = parse(encode(*first));
  if (!again || !(*again == *first)) {
    __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) {
    return 0;
  }
  const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 7) {
    case 0:
      check<PeersRequest>(body, parse_peers_request, [](const auto& r) { return encode(r); });
      break;
    case 1:
      check<ExposeRequest>(body, parse_expose_request, [](const auto& r) { return encode(r); });
      break;
    case 2:
      check<ExposeAnswer>(body, parse_expose_answer,
                          [](const auto& a) { return to_json(a).dump(); });
      break;
    case 3:
      check<ContainerList>(body, parse_container_list,
                           [](const auto& l) { return to_json(l).dump(); });
      break;
    case 4:
      check<std::vector<IpAllocation>>(body, parse_ip_list, format_ip_list);
      break;
    case 5:
      check<std::vector<weft::Cidr>>(body, parse_address_lines, format_address_lines);
      break;
    default:
      check<weft::U128>(body, parse_count, format_count);
      (void)error_message(body);
      (void)parse_message(body);
      break;
  }
  return 0;
}
