#include "common/result.hpp"

#include <cerrno>
#include <string>

#include <boost/throw_exception.hpp>

namespace weft {
namespace {

class WeftCategory final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "weft"; }
  std::string message(int ev) const override {
    switch (static_cast<Errc>(ev)) {
      case Errc::kOk:
        return "ok";
      case Errc::kInvalidArgument:
        return "invalid argument";
      case Errc::kMalformed:
        return "malformed input";
      case Errc::kTooLarge:
        return "too large";
      case Errc::kNotFound:
        return "not found";
      case Errc::kAlreadyExists:
        return "already exists";
      case Errc::kConflict:
        return "conflict";
      case Errc::kUnavailable:
        return "unavailable";
      case Errc::kTimeout:
        return "timed out";
      case Errc::kAuthFailed:
        return "authentication failed";
      case Errc::kReplay:
        return "replayed message";
      case Errc::kUnsupported:
        return "unsupported";
      case Errc::kIo:
        return "i/o error";
      case Errc::kCancelled:
        return "cancelled";
      case Errc::kExhausted:
        return "exhausted";
    }
    return "unknown weft error";
  }
};

}  // namespace

const boost::system::error_category& weft_category() noexcept {
  static const WeftCategory category;
  return category;
}

std::string Error::to_string() const {
  if (!code) {
    return message;
  }
  if (message.empty()) {
    return code.message();
  }
  return fmt::format("{} ({})", message, code.message());
}

ErrorException::ErrorException(Error error)
    : std::runtime_error(error.to_string()), error_(std::move(error)) {}

void throw_exception_from_error(const Error& e, const boost::source_location& loc) {
  boost::throw_exception(ErrorException(e), loc);
}

Error errno_error(std::string context) {
  const int err = errno;
  return Error{boost::system::error_code(err, boost::system::system_category()),
               std::move(context)};
}

}  // namespace weft
