// WatchSink: what a Reflector delivers to its consumer (the port that weft-npc and the
// Kubernetes install implement to keep their view of one resource).
//
// Contract:
// - Thread: called on the Reflector's executor (the consumer's control thread), one call at
//   a time, never re-entered; a call must not block (no I/O), it may post work.
// - replace() hands over a complete snapshot of the resource (after the initial list, after
//   a relist caused by 410 Gone, and at each periodic resync). The consumer swaps its state
//   for the snapshot in one step: objects missing from it are gone, the others current. The
//   consumer never has to pass through an empty state (installed rules stay in place while
//   a relist runs: the old state stays valid until replace() arrives).
// - apply() hands over one change, in the API server's order, after the last replace():
//   kAdded, kModified (the object's new state) or kDeleted (its last state). Bookmarks and
//   errors are the Reflector's business and never reach the sink. After a reconnect the
//   same change may arrive again (an ADDED for an object already known, a MODIFIED with the
//   same resourceVersion): apply() must be idempotent per object.
// - Objects are untrusted JSON from the API server: validate what you read. Items of a list
//   carry no kind/apiVersion (the API server leaves them out of list items); watch objects do.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kube/watch_event.hpp"

namespace weft::kube {

class WatchSink {
 public:
  virtual ~WatchSink() = default;
  // Every object of the resource, and the resourceVersion the snapshot is at.
  virtual void replace(std::vector<nlohmann::json> items, std::string resource_version) = 0;
  // One change: `type` is kAdded, kModified or kDeleted.
  virtual void apply(EventType type, nlohmann::json object) = 0;
};

}  // namespace weft::kube
