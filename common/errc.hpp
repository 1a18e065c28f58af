// Project error codes: the kinds of failure that callers branch on or count in metrics.
#pragma once

#include <type_traits>

#include <boost/system/error_code.hpp>

namespace weft {

enum class Errc {
  kOk = 0,
  kInvalidArgument,  // malformed input (config, address text, request)
  kMalformed,        // untrusted bytes that do not parse
  kTooLarge,         // input over a size limit
  kNotFound,
  kAlreadyExists,
  kConflict,     // state disagrees (e.g. two rings, a taken address)
  kUnavailable,  // peer or daemon not reachable / not ready
  kTimeout,
  kAuthFailed,  // bad password, untrusted key, tampered message
  kReplay,
  kUnsupported,  // the kernel or peer lacks a feature
  kIo,           // storage or device failure
  kCancelled,
  kExhausted,  // out of addresses, connections, ...
};

const boost::system::error_category& weft_category() noexcept;

inline boost::system::error_code make_error_code(Errc e) noexcept {
  return {static_cast<int>(e), weft_category()};
}

}  // namespace weft

template <>
struct boost::system::is_error_code_enum<weft::Errc> : std::true_type {};
