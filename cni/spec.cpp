#include "cni/spec.hpp"

#include <array>
#include <stdexcept>
#include <utility>

namespace weft::cni {

namespace {

struct VersionName {
  SpecVersion version;
  std::string_view text;
};
constexpr std::array<VersionName, 5> kVersions{{{SpecVersion::k030, "0.3.0"},
                                                {SpecVersion::k031, "0.3.1"},
                                                {SpecVersion::k040, "0.4.0"},
                                                {SpecVersion::k100, "1.0.0"},
                                                {SpecVersion::k110, "1.1.0"}}};

struct CommandName {
  Command command;
  std::string_view text;
};
constexpr std::array<CommandName, 6> kCommands{{{Command::kAdd, "ADD"},
                                                {Command::kDel, "DEL"},
                                                {Command::kCheck, "CHECK"},
                                                {Command::kStatus, "STATUS"},
                                                {Command::kGc, "GC"},
                                                {Command::kVersion, "VERSION"}}};

}  // namespace

std::vector<std::string> supported_versions() {
  std::vector<std::string> out;
  for (const auto& v : kVersions)
    out.emplace_back(v.text);
  return out;
}

std::optional<SpecVersion> parse_spec_version(std::string_view text) {
  for (const auto& v : kVersions) {
    if (v.text == text)
      return v.version;
  }
  return std::nullopt;
}

std::string_view to_string(SpecVersion v) {
  for (const auto& e : kVersions) {
    if (e.version == v)
      return e.text;
  }
  return kLatestVersion;
}

bool supports_check(SpecVersion v) {
  return v >= SpecVersion::k040;
}
bool supports_status_gc(SpecVersion v) {
  return v >= SpecVersion::k110;
}
bool ips_carry_version(SpecVersion v) {
  return v < SpecVersion::k100;
}

std::optional<Command> parse_command(std::string_view text) {
  for (const auto& c : kCommands) {
    if (c.text == text)
      return c.command;
  }
  return std::nullopt;
}

std::string_view to_string(Command c) {
  for (const auto& e : kCommands) {
    if (e.command == c)
      return e.text;
  }
  return "?";
}

void throw_exception_from_error(const CniError& e, const boost::source_location&) {
  throw std::runtime_error("CNI error " + std::to_string(e.code) + ": " + e.msg);
}

CniError cni_error(int code, std::string msg, std::string details) {
  return CniError{code, std::move(msg), std::move(details)};
}

CniError cni_error(int code, std::string msg, const Error& cause) {
  return CniError{code, std::move(msg), cause.message};
}

nlohmann::json render_error(std::string_view version, const CniError& error) {
  nlohmann::json out{{"cniVersion", version.empty() ? kLatestVersion : version},
                     {"code", error.code},
                     {"msg", error.msg}};
  if (!error.details.empty())
    out["details"] = error.details;
  return out;
}

nlohmann::json render_version(std::string_view version) {
  return {{"cniVersion", version.empty() ? kLatestVersion : version},
          {"supportedVersions", supported_versions()}};
}

}  // namespace weft::cni
