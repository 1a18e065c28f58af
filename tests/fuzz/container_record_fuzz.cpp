// Fuzz target for parse_container_body (api/containers.hpp), the body of
// PUT /containers/{id}/{ifname}: never crashes, and an accepted body is normalised — the
// record as the API shows it, and as a client sends it, parses back to the same record.
// fuzz-deps: weft_api
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "api/containers.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  auto record = weft::api::parse_container_body("c0ffee", "eth0", body);
  if (!record) {
    return 0;
  }
  const std::string shown = weft::api::to_json(*record).dump();
  auto again = weft::api::parse_container_body("c0ffee", "eth0", shown);
  if (!again || !(*again == *record)) {
    __builtin_trap();
  }
  auto sent = weft::api::parse_container_body("c0ffee", "eth0", weft::api::container_body(*record));
  if (!sent || !(*sent == *record)) {
    __builtin_trap();
  }
  return 0;
}
