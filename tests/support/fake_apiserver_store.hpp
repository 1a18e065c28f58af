// The fake API server's storage: objects of every resource under one global
// resourceVersion counter (like etcd's revision), the event history that watches replay, and
// the subscribers that live watches hang on.
//
// Semantics (upstream's, where a test can see them):
// - Every write (create, an update that changes something, delete) takes the next
//   resourceVersion; a no-op update keeps the object as it is and sends no event.
// - History: events after the compaction point are kept (at most max_events; older ones are
//   compacted away automatically). A watch from RV needs RV >= the compaction point, else
//   410 Expired ("too old resource version"); so does a continue token.
// - List pages and continue tokens are consistent snapshots: a continue token carries the
//   RV of the first page and the last key, and later pages are read at that RV (rebuilt from
//   the history), as etcd does.
// - Selectors on watches follow the watch cache: an object that starts matching arrives as
//   ADDED, one that stops matching as DELETED (its previous state at the new RV).
// - Deleting a namespace marks it Terminating (deletionTimestamp, status.phase; a MODIFIED
//   event); creating objects in it is then forbidden (403). finalize_namespace() (the
//   namespace controller's job; the server calls it after a short delay) deletes its objects,
//   each with its DELETED event, then the namespace. With deferred namespace deletion off,
//   remove() does all of it at once.
//
// Contract: single-threaded, no I/O. Listeners are called synchronously from the write, after
// it is committed; they must not write to the store.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/rng.hpp"
#include "kube/selector.hpp"
#include "kube/watch_event.hpp"
#include "tests/support/fake_apiserver_resources.hpp"

namespace weft::test::fake {

struct Event {
  std::uint64_t rv = 0;
  const Resource* resource = nullptr;
  kube::EventType type = kube::EventType::kAdded;
  nlohmann::json object;    // the state after (kDeleted: the last state, at the deletion RV)
  nlohmann::json previous;  // the state before (null for kAdded)
};

// Which objects a list or watch covers.
struct Filter {
  const Resource* resource = nullptr;
  std::string ns;  // empty: every namespace
  kube::LabelSelector labels;
  kube::FieldSelector fields;

  bool matches(const nlohmann::json& object) const;
};

// What a watcher with `filter` sees of `e`, or nullopt.
std::optional<std::pair<kube::EventType, nlohmann::json>> translate(const Event& e,
                                                                    const Filter& filter);

enum class PatchKind { kMerge, kStrategicMerge, kJson };

class Store {
 public:
  using Listener = std::function<void(const Event&)>;
  using Change = std::pair<kube::EventType, nlohmann::json>;

  explicit Store(std::size_t max_events = 10'000);

  Outcome<nlohmann::json> create(const Resource& r, const std::string& ns, nlohmann::json object);
  Outcome<nlohmann::json> get(const Resource& r, const std::string& ns,
                              const std::string& name) const;
  // PUT: metadata.resourceVersion, when set, must be the current one (else 409 Conflict).
  Outcome<nlohmann::json> update(const Resource& r, const std::string& ns, const std::string& name,
                                 nlohmann::json object, bool status_only);
  Outcome<nlohmann::json> patch(const Resource& r, const std::string& ns, const std::string& name,
                                PatchKind kind, const nlohmann::json& patch, bool status_only);
  // The deleted object at its deletion RV (a namespace: Terminating, see above).
  // `preconditions`: DeleteOptions.preconditions.
  Outcome<nlohmann::json> remove(const Resource& r, const std::string& ns, const std::string& name,
                                 const nlohmann::json& preconditions = nullptr);
  // Deletes a Terminating namespace's objects and then the namespace.
  Outcome<nlohmann::json> finalize_namespace(const std::string& name);
  void set_deferred_namespace_deletion(bool deferred) { deferred_namespaces_ = deferred; }

  // The List object: items (without kind/apiVersion, as upstream), metadata.resourceVersion,
  // metadata.continue and remainingItemCount when a page (limit > 0) leaves more.
  Outcome<nlohmann::json> list(const Filter& filter, std::size_t limit,
                               const std::string& continue_token) const;
  // Every matching object now, in key order (full objects).
  std::vector<nlohmann::json> objects(const Filter& filter) const;

  // What a new watch sends first: for rv "" or "0" an ADDED per matching object, otherwise
  // the changes after rv (410 Expired when rv is older than the compaction point).
  Outcome<std::vector<Change>> watch_start(const Filter& filter, const std::string& rv) const;

  std::uint64_t subscribe(Listener listener);
  void unsubscribe(std::uint64_t id);

  std::uint64_t resource_version() const { return rv_; }
  std::uint64_t compacted() const { return compacted_; }
  // Forgets the history: every RV older than now is too old.
  void compact();

  // Persistence: {"resourceVersion":N,"objects":[{"resource":"pods","object":{...}}]}.
  // restore() replaces everything; history starts empty (compacted at the restored RV).
  nlohmann::json dump() const;
  Outcome<void> restore(const nlohmann::json& state);

 private:
  using Objects = std::map<std::string, nlohmann::json>;  // "ns/name" or "name" -> object

  const Objects* objects_of(const Resource& r) const;
  Objects snapshot_at(const Resource& r, std::uint64_t rv) const;
  nlohmann::json commit(const Resource& r, const std::string& key, kube::EventType type,
                        nlohmann::json object, nlohmann::json previous);
  std::string new_uid();
  std::string random_suffix(std::size_t n);

  std::size_t max_events_;
  std::uint64_t rv_ = 1;
  std::uint64_t compacted_ = 1;
  std::map<std::string, Objects> objects_;  // by Resource::qualified()
  std::deque<Event> history_;
  std::map<std::uint64_t, Listener> listeners_;
  std::uint64_t next_listener_ = 1;
  bool deferred_namespaces_ = true;
  SystemRng rng_;
};

std::string object_key(const Resource& r, const std::string& ns, const std::string& name);

}  // namespace weft::test::fake
