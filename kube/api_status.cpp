#include "kube/api_status.hpp"

#include <nlohmann/json.hpp>

#include "common/http_parse.hpp"

namespace weft::kube {
namespace {

// A static singleton, never deleted through a base pointer.
class KubeCategory final  // NOLINT(cppcoreguidelines-virtual-class-destructor)
    : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "kube"; }
  std::string message(int ev) const override {
    switch (static_cast<KubeErrc>(ev)) {
      case KubeErrc::kGone:
        return "resource version expired";
    }
    return "unknown kube error";
  }
};

boost::system::error_code code_for(int http_status, std::string_view reason) {
  if (http_status == 410 || reason == "Expired" || reason == "Gone") {
    return make_error_code(KubeErrc::kGone);
  }
  switch (http_status) {
    case 404:
      return make_error_code(Errc::kNotFound);
    case 409:
      return make_error_code(reason == "AlreadyExists" ? Errc::kAlreadyExists : Errc::kConflict);
    case 401:
    case 403:
      return make_error_code(Errc::kAuthFailed);
    case 400:
    case 422:
      return make_error_code(Errc::kInvalidArgument);
    case 413:
      return make_error_code(Errc::kTooLarge);
    case 405:
    case 406:
    case 415:
      return make_error_code(Errc::kUnsupported);
    case 408:
    case 429:
      return make_error_code(Errc::kUnavailable);
    default:
      break;
  }
  if (http_status >= 500 || http_status < 100) {
    return make_error_code(Errc::kUnavailable);
  }
  return make_error_code(Errc::kInvalidArgument);
}

std::string string_field(const nlohmann::json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

const boost::system::error_category& kube_category() noexcept {
  static const KubeCategory category;
  return category;
}

std::optional<ApiStatus> parse_status(const nlohmann::json& object) {
  if (!object.is_object() || string_field(object, "kind") != "Status") {
    return std::nullopt;
  }
  ApiStatus status;
  auto code = object.find("code");
  if (code != object.end() && code->is_number_integer()) {
    const auto value = code->get<std::int64_t>();
    status.code = value >= 0 && value < 1000 ? static_cast<int>(value) : 0;
  }
  status.reason = string_field(object, "reason");
  status.message = string_field(object, "message");
  return status;
}

Error status_error(const ApiStatus& status, std::string_view context) {
  return Error{code_for(status.code, status.reason),
               fmt::format("{}: {} {}: {}", context, status.code,
                           status.reason.empty() ? "Failure" : status.reason,
                           status.message.empty() ? "no message" : status.message)};
}

Error status_error(int http_status, std::string_view body, std::string_view context) {
  auto parsed = parse_json_body(body);
  if (parsed) {
    if (auto status = parse_status(*parsed)) {
      if (status->code == 0) {
        status->code = http_status;
      }
      // The HTTP status decides the kind; the Status adds the reason and message.
      Error e = status_error(*status, context);
      if (status->code != http_status) {
        e.code = code_for(http_status, status->reason);
      }
      return e;
    }
  }
  constexpr std::size_t kMaxShown = 200;
  std::string shown(body.substr(0, kMaxShown));
  while (!shown.empty() && (shown.back() == '\n' || shown.back() == '\r')) {
    shown.pop_back();
  }
  return Error{code_for(http_status, ""),
               fmt::format("{}: HTTP {}: {}", context, http_status,
                           shown.empty() ? std::string("no message") : shown)};
}

bool is_not_found(const Error& e) {
  return e.code == make_error_code(Errc::kNotFound);
}
bool is_already_exists(const Error& e) {
  return e.code == make_error_code(Errc::kAlreadyExists);
}
bool is_conflict(const Error& e) {
  return e.code == make_error_code(Errc::kConflict);
}
bool is_gone(const Error& e) {
  return e.code == make_error_code(KubeErrc::kGone);
}
bool is_temporary(const Error& e) {
  return e.code == make_error_code(Errc::kUnavailable) || e.code == make_error_code(Errc::kTimeout);
}

}  // namespace weft::kube
