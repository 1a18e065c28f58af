// The mesh and bridge routes of weftd's API (paths.hpp), typed:
//   POST /connect   {"peers": ["host[:port]", ...], "replace": bool}  -> 200 {"message"}
//   POST /forget    {"peers": [...]}                                   -> 200 {"message"}
//   POST /expose    {"cidrs": ["ADDRESS/PREFIX", ...]} or {} or no body -> 200 {"message",
//   POST /hide        "cidrs"}; without addresses weftd takes them from IPAM
// and what every JSON error answer looks like: {"error": "message"}.
//
// Contract: pure functions that never throw; parse_* take untrusted bytes (fuzzed by
// tests/fuzz/api_body_fuzz.cpp: whatever parses, encodes and parses back equal).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/address.hpp"
#include "common/result.hpp"

namespace weft::api {

struct PeersRequest {
  std::vector<std::string> peers;  // validated by weftd (weftd/daemon_config.hpp)
  bool replace = false;            // /connect: forget the explicit targets not listed
  friend bool operator==(const PeersRequest&, const PeersRequest&) = default;
};
// kInvalidArgument unless {"peers": [strings]}; "replace" is true only when it is `true`.
Result<PeersRequest> parse_peers_request(std::string_view body);
std::string encode(const PeersRequest& request);

struct ExposeRequest {
  std::vector<Cidr> cidrs;  // host addresses with prefix; empty: IPAM's
  friend bool operator==(const ExposeRequest&, const ExposeRequest&) = default;
};
// An empty body is {}. kInvalidArgument for anything but an object whose optional "cidrs"
// is an array of ADDRESS/PREFIX strings.
Result<ExposeRequest> parse_expose_request(std::string_view body);
std::string encode(const ExposeRequest& request);

struct ExposeAnswer {
  std::string message;      // "exposed 10.32.0.1/12"
  std::vector<Cidr> cidrs;  // what is now exposed (hidden)
  friend bool operator==(const ExposeAnswer&, const ExposeAnswer&) = default;
};
nlohmann::json to_json(const ExposeAnswer& answer);
// kMalformed unless {"message": string, "cidrs": [ADDRESS/PREFIX strings]} ("message" may
// be missing).
Result<ExposeAnswer> parse_expose_answer(std::string_view body);

// {"message": text}: the answer of /connect and /forget.
nlohmann::json message_json(std::string_view message);
// The "message" of such an answer; kMalformed when there is none.
Result<std::string> parse_message(std::string_view body);

// What an error answer says: the "error" of {"error": ...}, else the body as text without
// trailing newlines (IPAM answers errors as text/plain).
std::string error_message(std::string_view body);

}  // namespace weft::api
