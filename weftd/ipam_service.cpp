#include "weftd/ipam_service.hpp"

#include "common/log.hpp"
#include "ipam/api.hpp"

namespace weft::weftd {

using router::PeerName;
using router::Router;

namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

// The allocation tick: bootstrap retries and donation timeouts run at this pace.
constexpr Clock::Duration kTick = 250ms;

}  // namespace

IpamService::IpamService(asio::any_io_executor executor, Clock& clock, Router& router)
    : executor_(std::move(executor)), clock_(clock), router_(router), tasks_(executor_) {}

IpamService::~IpamService() {
  tasks_.cancel();
}

Result<void> IpamService::start(ipam::AllocatorConfig config, const std::string& db_path) {
  WEFT_TRY(auto store, ipam::SqliteStore::open(db_path));
  store_ = std::make_unique<ipam::SqliteStore>(std::move(store));
  Router& r = router_;
  channel_.attach(router_.register_channel(channel_),
                  [&r](PeerName n) { return r.routes().reachable(n); });
  allocator_ = std::make_unique<ipam::Allocator>(std::move(config), router_.name().value, *store_,
                                                 channel_, clock_);
  channel_.set_allocator(*allocator_);
  WEFT_TRY_VOID(allocator_->load());
  tasks_.spawn(
      [](IpamService* self) -> asio::awaitable<void> {
        while (true) {
          self->allocator_->tick();
          const bool slept = co_await self->clock_.sleep_for(kTick);
          if (!slept) {
            co_return;
          }
        }
      }(this),
      "ipam-tick");
  log::info("ipam started", {{"db", db_path}, {"ready", allocator_->ready()}});
  return {};
}

asio::awaitable<Result<std::vector<Cidr>>> IpamService::expose_addresses() {
  auto got = co_await allocator_->allocate_wait(
      std::string(kExposeId), "weft", ipam::FamilyChoice::kDefault, std::nullopt, kAllocateWait);
  if (!got) {
    co_return got.error();
  }
  std::vector<Cidr> out;
  for (const auto& a : *got) {
    out.push_back(a.address);
  }
  co_return out;
}

Result<std::vector<Cidr>> IpamService::release_expose_addresses() {
  std::vector<Cidr> held;
  for (const auto& a : allocator_->lookup(kExposeId)) {
    held.push_back(a.address);
  }
  WEFT_TRY_VOID(allocator_->release(kExposeId));
  return held;
}

std::optional<ipam::AllocatorStatus> IpamService::status() const {
  return allocator_ ? std::optional(allocator_->status()) : std::nullopt;
}

asio::awaitable<void> IpamService::stop() {
  tasks_.cancel();
  co_await tasks_.join();
}

}  // namespace weft::weftd
