// Result<T>: the return type of every operation that can fail for reasons outside our
// control (untrusted input, the kernel, the network, the disk).
//
// Design note: boost::system::result with a small Error that carries a code (for metrics
// and for callers that branch on the kind of failure) and a human-readable message with
// context (for logs and for operators). std::expected is not used: clang-tidy, clangd and
// libFuzzer on this toolchain cannot see it.
#pragma once

#include <string>
#include <utility>

#include <boost/assert/source_location.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include "common/errc.hpp"
#include <fmt/format.h>

namespace weft {

struct Error {
  boost::system::error_code code;
  std::string message;

  // "message (category:code text)" for logs and CLI output.
  std::string to_string() const;
};

// Thrown by Result<T>::value() on an error; only used at startup and coroutine edges.
class ErrorException : public std::runtime_error {
 public:
  explicit ErrorException(Error error);
  const Error& error() const { return error_; }

 private:
  Error error_;
};

// Found by argument-dependent lookup from boost::system::result::value().
[[noreturn]] void throw_exception_from_error(const Error& e, const boost::source_location& loc);

template <class T>
using Result = boost::system::result<T, Error>;

// Builds an Error from a project error code and a fmt-style message.
template <class... Args>
Error make_error(Errc code, fmt::format_string<Args...> format, Args&&... args) {
  return Error{make_error_code(code), fmt::format(format, std::forward<Args>(args)...)};
}

// Builds an Error from a system/library error code (errno, asio) and context.
template <class... Args>
Error make_error(boost::system::error_code code, fmt::format_string<Args...> format,
                 Args&&... args) {
  return Error{code, fmt::format(format, std::forward<Args>(args)...)};
}

// Error from the current errno value.
Error errno_error(std::string context);

}  // namespace weft

// WEFT_TRY(auto x, expr): evaluates expr (a Result); on error returns the error from the
// enclosing function, otherwise declares x with the value. WEFT_TRY_VOID(expr) for
// Result<void>. WEFT_CO_TRY / WEFT_CO_TRY_VOID do the same with co_return in coroutines.
#define WEFT_TRY_CAT2_(a, b) a##b
#define WEFT_TRY_CAT_(a, b) WEFT_TRY_CAT2_(a, b)
#define WEFT_TRY_TMP_ WEFT_TRY_CAT_(weft_try_tmp_, __LINE__)
#define WEFT_TRY(decl, expr)                 \
  auto WEFT_TRY_TMP_ = (expr);               \
  if (!WEFT_TRY_TMP_) {                      \
    return std::move(WEFT_TRY_TMP_).error(); \
  }                                          \
  decl = std::move(*WEFT_TRY_TMP_)
#define WEFT_TRY_VOID(expr)                  \
  do {                                       \
    auto weft_try_v_ = (expr);               \
    if (!weft_try_v_) {                      \
      return std::move(weft_try_v_).error(); \
    }                                        \
  } while (false)
#define WEFT_CO_TRY(decl, expr)                 \
  auto WEFT_TRY_TMP_ = (expr);                  \
  if (!WEFT_TRY_TMP_) {                         \
    co_return std::move(WEFT_TRY_TMP_).error(); \
  }                                             \
  decl = std::move(*WEFT_TRY_TMP_)
#define WEFT_CO_TRY_VOID(expr)                  \
  do {                                          \
    auto weft_try_v_ = (expr);                  \
    if (!weft_try_v_) {                         \
      co_return std::move(weft_try_v_).error(); \
    }                                           \
  } while (false)
