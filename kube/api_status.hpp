// API errors: the `Status` object that the API server returns with every failure (and in
// watch ERROR events), decoded into Result errors that callers can branch on.
//
// Mapping (HTTP code, or the Status code/reason):
//   404 NotFound                  -> Errc::kNotFound
//   409 AlreadyExists             -> Errc::kAlreadyExists (create of an existing name)
//   409 Conflict (other 409s)     -> Errc::kConflict      (stale resourceVersion on update)
//   410 Gone / reason Expired     -> KubeErrc::kGone      (resourceVersion or continue token
//                                                          older than the compaction: relist)
//   401, 403                      -> Errc::kAuthFailed
//   400, 422                      -> Errc::kInvalidArgument
//   413                           -> Errc::kTooLarge
//   405, 406, 415                 -> Errc::kUnsupported
//   408, 429, 5xx                 -> Errc::kUnavailable   (temporary: retry with backoff)
// Connection failures and timeouts of the client are kUnavailable too: nothing temporary is
// ever reported as a permanent error. The message reads
// "GET /api/v1/namespaces/a/pods/x: 404 NotFound: pods \"x\" not found".
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <boost/system/error_code.hpp>
#include <nlohmann/json_fwd.hpp>

#include "common/result.hpp"

namespace weft::kube {

// Outcomes of the API that weft::Errc has no name for (category "kube").
enum class KubeErrc {
  kGone = 1,  // 410: too old a resourceVersion; list again
};

const boost::system::error_category& kube_category() noexcept;

inline boost::system::error_code make_error_code(KubeErrc e) noexcept {
  return {static_cast<int>(e), kube_category()};
}

struct ApiStatus {
  int code = 0;         // HTTP status code the Status describes
  std::string reason;   // "NotFound", "AlreadyExists", "Conflict", "Expired", ...
  std::string message;  // human readable
};

// Decodes a metav1.Status object; nullopt when `object` is not one (kind != "Status").
std::optional<ApiStatus> parse_status(const nlohmann::json& object);

// The error for a failed request: its HTTP status and body (a Status object, or any text).
Error status_error(int http_status, std::string_view body, std::string_view context);
// The error a Status describes (watch ERROR events).
Error status_error(const ApiStatus& status, std::string_view context);

bool is_not_found(const Error& e);
bool is_already_exists(const Error& e);
bool is_conflict(const Error& e);
bool is_gone(const Error& e);
// Worth retrying later: kUnavailable and kTimeout (5xx, 429, connection errors).
bool is_temporary(const Error& e);

}  // namespace weft::kube

template <>
struct boost::system::is_error_code_enum<weft::kube::KubeErrc> : std::true_type {};
