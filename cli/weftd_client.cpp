#include "cli/weftd_client.hpp"

#include "common/http_client.hpp"
#include <fmt/format.h>

namespace weft::cli {

std::string call_failure_message(const std::string& where, const Error& error) {
  const bool down = error.code == make_error_code(Errc::kUnavailable) ||
                    error.code == make_error_code(Errc::kTimeout);
  if (down) {
    return fmt::format("cannot reach weftd at {}: is it running? ({})", where, error.message);
  }
  return fmt::format("talking to weftd at {}: {}", where, error.message);
}

std::optional<Response> call_weftd(std::ostream& err, const std::string& target, Method method,
                                   const std::string& path, const std::string& body,
                                   std::optional<int> accept, std::chrono::milliseconds timeout) {
  const std::string where = target.starts_with("unix:") ? target.substr(5) : target;
  auto response = http_call(target, method, path, body, timeout);
  if (!response) {
    err << "weft: " << call_failure_message(where, response.error()) << "\n";
    return std::nullopt;
  }
  if (!response->ok() && response->status != accept) {
    auto why = json_from_response(*response);
    err << "weft: weftd answered "
        << (why ? fmt::format("HTTP {}", response->status) : why.error().message) << "\n";
    return std::nullopt;
  }
  return std::move(*response);
}

std::optional<nlohmann::json> call_weftd_json(std::ostream& err, const std::string& target,
                                              Method method, const std::string& path,
                                              const std::string& body,
                                              std::chrono::milliseconds timeout) {
  auto response = call_weftd(err, target, method, path, body, std::nullopt, timeout);
  if (!response) {
    return std::nullopt;
  }
  auto decoded = json_from_response(*response);
  if (!decoded) {
    err << "weft: weftd answered " << response->status << ": " << decoded.error().message << "\n";
    return std::nullopt;
  }
  return std::move(*decoded);
}

}  // namespace weft::cli
