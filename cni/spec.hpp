// The CNI protocol's fixed vocabulary: spec versions, operations, error codes and the error
// object (CNI spec 1.1.0, section 5; containernetworking/cni SPEC.md).
//
// Design note: every failure of the plugin is a CniError, the spec's error object. Codes
// 1-99 are the spec's own; 100 and up are weft's (see kCode* below). Results carry a
// CniError instead of weft::Error so that each layer decides the code that the runtime
// sees (4 for a bad environment, 7 for a bad config, 11 when weftd is not up, ...).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/assert/source_location.hpp>
#include <boost/system/result.hpp>
#include <nlohmann/json.hpp>

#include "common/result.hpp"

namespace weft::cni {

// Spec versions with the result format they define. 0.3.0-0.4.0 tag each IP with
// "version"; 1.0.0 drops it; 1.1.0 adds the interface "mtu".
enum class SpecVersion { k030, k031, k040, k100, k110 };

inline constexpr std::string_view kLatestVersion = "1.1.0";
// The versions this plugin speaks, oldest first (the VERSION answer).
std::vector<std::string> supported_versions();
std::optional<SpecVersion> parse_spec_version(std::string_view text);
std::string_view to_string(SpecVersion v);

bool supports_check(SpecVersion v);      // >= 0.4.0
bool supports_status_gc(SpecVersion v);  // >= 1.1.0
bool ips_carry_version(SpecVersion v);   // < 1.0.0

enum class Command { kAdd, kDel, kCheck, kStatus, kGc, kVersion };
std::optional<Command> parse_command(std::string_view text);
std::string_view to_string(Command c);

// Spec error codes, and weft's own from 100.
inline constexpr int kCodeIncompatibleVersion = 1;
inline constexpr int kCodeUnsupportedField = 2;
inline constexpr int kCodeUnknownContainer = 3;
inline constexpr int kCodeInvalidEnvironment = 4;
inline constexpr int kCodeIoFailure = 5;
inline constexpr int kCodeDecodeFailure = 6;
inline constexpr int kCodeInvalidConfig = 7;
inline constexpr int kCodeTryAgainLater = 11;
inline constexpr int kCodeNotAvailable = 50;
inline constexpr int kCodeLimitedConnectivity = 51;
inline constexpr int kCodeInternal = 100;         // an operation on this host failed
inline constexpr int kCodeOutOfAddresses = 101;   // weftd's ranges are full
inline constexpr int kCodeCheckFailed = 102;      // CHECK found a difference
inline constexpr int kCodeInterfaceExists = 103;  // CNI_IFNAME is taken in the container
inline constexpr int kCodeDelegateFailed = 104;   // a delegated (IPAM) plugin failed

struct CniError {
  int code = kCodeInternal;
  std::string msg;      // short
  std::string details;  // longer, with context

  friend bool operator==(const CniError&, const CniError&) = default;
};

// Found by argument-dependent lookup from CniResult<T>::value().
[[noreturn]] void throw_exception_from_error(const CniError& e, const boost::source_location& loc);

template <class T>
using CniResult = boost::system::result<T, CniError>;

CniError cni_error(int code, std::string msg, std::string details = {});
// A weft::Error from a lower layer, with the code the runtime should see.
CniError cni_error(int code, std::string msg, const Error& cause);

// {"cniVersion", "code", "msg", "details"}; `version` is echoed as given (or the latest).
nlohmann::json render_error(std::string_view version, const CniError& error);
// The VERSION answer.
nlohmann::json render_version(std::string_view version);

}  // namespace weft::cni
