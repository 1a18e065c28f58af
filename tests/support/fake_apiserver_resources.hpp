// The fake API server's knowledge of its resources: the resource table (what discovery
// lists and what the REST paths accept), what the real registry strategies do to objects on
// create/update (defaults, validation, status handling), API errors as metav1.Status, and the
// server-side printing (meta.k8s.io Table) that `kubectl get` asks for.
//
// Contract: pure functions and constants; no I/O. Adding a resource is one entry in
// resources() (plus, if it has defaults or printer columns upstream, a case in the .cpp).
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include <boost/assert/source_location.hpp>
#include <boost/system/result.hpp>
#include <nlohmann/json.hpp>

namespace weft::test::fake {

struct Resource {
  std::string group;  // "" for the core group
  std::string version;
  std::string plural;
  std::string kind;
  bool namespaced = true;
  std::vector<std::string> short_names;
  bool status_subresource = false;        // /status: spec and status are written apart
  bool reset_status_on_create = false;    // pods: the status a client sends is replaced
  bool return_deleted_object = false;     // DELETE returns the object (else a Status)
  bool generation = false;                // metadata.generation counts spec changes
  std::vector<std::string> field_labels;  // besides metadata.name and metadata.namespace

  std::string group_version() const { return group.empty() ? version : group + "/" + version; }
  std::string list_kind() const { return kind + "List"; }
  // "pods", or "networkpolicies.networking.k8s.io" (how upstream names it in messages).
  std::string qualified() const { return group.empty() ? plural : plural + "." + group; }
};

// namespaces, pods (+status), nodes (+status), configmaps; networking.k8s.io/v1
// networkpolicies.
const std::vector<Resource>& resources();
const Resource* find_resource(std::string_view group, std::string_view version,
                              std::string_view plural);
// By plural name ("pods", "networkpolicies") or "plural.group".
const Resource* find_resource(std::string_view plural);

// An API failure, as the server answers it (metav1.Status).
struct Failure {
  int code = 500;
  std::string reason;  // NotFound, AlreadyExists, Conflict, Invalid, BadRequest, Expired, ...
  std::string message;
  std::string name;  // details.name / details.kind (the plural) / details.group when known
  std::string kind;
  std::string group;
};
template <class T>
using Outcome = boost::system::result<T, Failure>;
// nlohmann::json converts implicitly to almost anything (Failure too), so an Outcome<json>
// is built from a value explicitly.
inline Outcome<nlohmann::json> success(nlohmann::json value) {
  return Outcome<nlohmann::json>(boost::system::in_place_value, std::move(value));
}
// Found by ADL from Outcome::value(): throws std::runtime_error with the message.
[[noreturn]] void throw_exception_from_error(const Failure& f, const boost::source_location& loc);

Failure failure(int code, std::string reason, std::string message);
Failure not_found(const Resource& r, std::string_view name);
Failure already_exists(const Resource& r, std::string_view name);
Failure conflict(const Resource& r, std::string_view name);
Failure invalid(const Resource& r, std::string_view name, std::string_view field,
                std::string_view why);
Failure bad_request(std::string message);

nlohmann::json status_json(const Failure& f);
// {"kind":"Status",...,"status":"Success","details":{name,kind,uid}} (DELETE of most kinds).
nlohmann::json success_status(const Resource& r, const nlohmann::json& object);

// What the registry does before storing a new object: kind/apiVersion checks, name rules,
// label syntax, required fields, defaults (pod and container defaults, container port
// protocol, NetworkPolicy policyTypes and port protocol, namespace finalizer, phase and the
// kubernetes.io/metadata.name label), pod status reset.
Outcome<void> prepare_create(const Resource& r, nlohmann::json& object);
// The same for a replacement of `old` (immutable fields kept, defaults applied again;
// status_only: only .status of `object` is taken, otherwise .status is kept from `old` for
// resources with a status subresource; generation bumped on spec change).
Outcome<void> prepare_update(const Resource& r, const nlohmann::json& old, nlohmann::json& object,
                             bool status_only);

// RFC 3339 UTC with seconds: "2024-05-01T10:00:00Z".
std::string format_time(std::chrono::system_clock::time_point t);

// Discovery documents.
nlohmann::json api_versions(const std::string& server_address);  // GET /api
nlohmann::json api_group_list();                                 // GET /apis
nlohmann::json api_group(std::string_view group);  // GET /apis/<group>; null if unknown
nlohmann::json resource_list(std::string_view group, std::string_view version);  // or null
nlohmann::json version_info();                                                   // GET /version
// GET /openapi/v2: an OpenAPI v2 document without definitions (kubectl then skips its
// client-side schema checks) as protobuf (gnostic openapi_v2.Document) or JSON.
std::string openapi_v2_protobuf();
nlohmann::json openapi_v2_json();

// The Table (server-side printing) of `objects`, with upstream's columns for the known kinds
// and Name/Age otherwise. include_object: "None", "Metadata" (default) or "Object".
nlohmann::json table(const Resource& r, const std::vector<const nlohmann::json*>& objects,
                     const std::string& resource_version, std::string_view include_object,
                     std::string_view table_api_version);

}  // namespace weft::test::fake
