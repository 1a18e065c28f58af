#include "kube/resource.hpp"

#include "common/http_parse.hpp"
#include <fmt/format.h>

namespace weft::kube {

std::string api_prefix(const ResourceType& type) {
  if (type.group.empty()) {
    return fmt::format("/api/{}", type.version);
  }
  return fmt::format("/apis/{}/{}", type.group, type.version);
}

std::string api_version(const ResourceType& type) {
  if (type.group.empty()) {
    return std::string(type.version);
  }
  return fmt::format("{}/{}", type.group, type.version);
}

std::string collection_path(const ResourceType& type, std::string_view ns) {
  if (!type.namespaced || ns.empty()) {
    return fmt::format("{}/{}", api_prefix(type), type.plural);
  }
  return fmt::format("{}/namespaces/{}/{}", api_prefix(type), percent_encode(ns), type.plural);
}

std::string object_path(const ResourceType& type, std::string_view ns, std::string_view name) {
  return fmt::format("{}/{}", collection_path(type, type.namespaced ? ns : std::string_view()),
                     percent_encode(name));
}

}  // namespace weft::kube
