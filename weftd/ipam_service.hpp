// IpamService: weftd's IPAM — the allocator (ipam/), its sqlite store, the gossip channel
// that carries its ring and the periodic tick. Its HTTP routes (api/ipam.hpp) are bound by
// weftd/http_api.cpp to the operations of ipam/api.hpp on allocator().
//
// Contract: control thread only; constructed after the Router, destroyed before it.
#pragma once

#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <nlohmann/json.hpp>

#include "common/clock.hpp"
#include "common/task_group.hpp"
#include "ipam/allocator.hpp"
#include "ipam/sqlite_store.hpp"
#include "router/router.hpp"
#include "weftd/ipam_channel.hpp"

namespace weft::weftd {

using router::Router;

class IpamService {
 public:
  IpamService(boost::asio::any_io_executor executor, Clock& clock, Router& router);
  ~IpamService();
  IpamService(const IpamService&) = delete;
  IpamService& operator=(const IpamService&) = delete;

  // Opens the store at `db_path`, loads the ring and allocations, joins the mesh channel and
  // starts ticking.
  Result<void> start(ipam::AllocatorConfig config, const std::string& db_path);
  // The allocator's status (for /report and /metrics); nullopt before start().
  std::optional<ipam::AllocatorStatus> status() const;
  // `weft expose` without addresses (and what weft-cni asks for a gateway): the bridge's own
  // addresses, key kExposeId, one per range in its default subnet; waits for space like
  // POST /ip. Idempotent: the same addresses come back while they are held.
  boost::asio::awaitable<Result<std::vector<Cidr>>> expose_addresses();
  // `weft hide` without addresses: releases them and returns what was held.
  Result<std::vector<Cidr>> release_expose_addresses();
  static constexpr std::string_view kExposeId = "weft:expose";
  // How long POST /ip/{id} (and an expose without addresses) waits for a donation before
  // answering 503 (retry).
  static constexpr Clock::Duration kAllocateWait = std::chrono::seconds(10);
  ipam::Allocator& allocator() { return *allocator_; }
  boost::asio::awaitable<void> stop();

 private:
  boost::asio::any_io_executor executor_;
  Clock& clock_;
  Router& router_;
  std::unique_ptr<ipam::SqliteStore> store_;
  IpamChannel channel_;
  std::unique_ptr<ipam::Allocator> allocator_;
  TaskGroup tasks_;
};

}  // namespace weft::weftd
