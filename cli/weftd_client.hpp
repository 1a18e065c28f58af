// How every `weft` command talks to weftd: one blocking HTTP exchange, and one wording for
// the failures an operator meets, so that all commands say the same thing when weftd is down:
//   weft: cannot reach weftd at /run/weft/weft.sock: is it running? (connect ...: No such
//   file or directory)
// and, when weftd answered an error status:
//   weft: weftd answered HTTP 400: <its message>
//
// Contract: blocking; do not call from a thread running an io_context. Messages go to `err`
// with a trailing newline.
#pragma once

#include <chrono>
#include <optional>
#include <ostream>
#include <string>

#include <nlohmann/json.hpp>

#include "common/http.hpp"
#include "common/result.hpp"

namespace weft::cli {

inline constexpr std::chrono::milliseconds kDefaultTimeout{10'000};

// The text after "weft: " for an exchange with `where` that failed with `error`.
std::string call_failure_message(const std::string& where, const Error& error);

// One exchange. `target` is "unix:<path>" or "host:port". Returns the response when weftd
// answered 2xx or the status `accept`; otherwise prints why and returns nullopt.
std::optional<Response> call_weftd(std::ostream& err, const std::string& target, Method method,
                                   const std::string& path, const std::string& body = {},
                                   std::optional<int> accept = std::nullopt,
                                   std::chrono::milliseconds timeout = kDefaultTimeout);

// call_weftd() and a JSON body (null when empty); nullopt (message printed) when the body is
// not JSON.
std::optional<nlohmann::json> call_weftd_json(std::ostream& err, const std::string& target,
                                              Method method, const std::string& path,
                                              const std::string& body = {},
                                              std::chrono::milliseconds timeout = kDefaultTimeout);

}  // namespace weft::cli
