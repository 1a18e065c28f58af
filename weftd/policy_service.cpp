#include "weftd/policy_service.hpp"

#include <utility>

#include "common/http_client.hpp"
#include "common/log.hpp"

namespace weft::weftd {

namespace asio = boost::asio;
using router::PeerName;

PolicyService::PolicyService(asio::any_io_executor executor, Clock& clock, router::Router& router,
                             PolicyServiceConfig config)
    : executor_(std::move(executor)),
      clock_(clock),
      router_(router),
      config_(std::move(config)),
      channel_(router.name(), router.uid(), clock),
      tasks_(executor_) {
  local_.error = "not polled yet";
}

PolicyService::~PolicyService() {
  tasks_.cancel();
}

void PolicyService::start() {
  channel_.attach(router_.register_channel(channel_));
  tasks_.spawn(poll_loop(), "npc-status-poll");
  if (config_.url) {
    log::info("polling weft-npc status",
              {{"url", "http://" + config_.url->target + config_.url->path}});
  }
}

asio::awaitable<void> PolicyService::stop() {
  tasks_.cancel();
  co_await tasks_.join();
}

asio::awaitable<void> PolicyService::poll_loop() {
  while (true) {
    if (config_.url) {
      auto fetched = co_await fetch();
      polled(fetched);
    }
    collect_garbage();
    if (!co_await clock_.sleep_for(config_.interval)) {
      co_return;
    }
  }
}

asio::awaitable<Result<NpcStatus>> PolicyService::fetch() {
  HttpClientOptions options;
  options.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(config_.timeout);
  options.max_response_bytes = kMaxNpcStatusBytes;
  HttpClient client(executor_, options);
  auto response = co_await client.request(config_.url->target, Method::kGet, config_.url->path);
  if (!response) {
    co_return response.error();
  }
  if (response->status != 200) {
    co_return make_error(Errc::kMalformed, "weft-npc answered HTTP {}: {}", response->status,
                         bounded_text(response->body));
  }
  co_return parse_npc_status(response->body);
}

void PolicyService::polled(const Result<NpcStatus>& fetched) {
  const NpcState before = local_.state;
  local_ = after_poll(std::move(local_), fetched, clock_.now());
  if (local_.state != before) {
    log::info("weft-npc status",
              {{"state", std::string(to_string(local_.state))}, {"error", local_.error}});
  }
  channel_.set_own(local_);
}

void PolicyService::collect_garbage() {
  // Peers that left the mesh or restarted since lose their entries here.
  const router::Topology& topology = router_.topology();
  channel_.retain([&topology](PeerName peer, std::uint64_t uid) {
    const router::PeerRecord* r = topology.find(peer);
    return r != nullptr && r->uid == uid;
  });
}

}  // namespace weft::weftd
