// NflogReader: receives the NFLOG messages of weft-npc's log group (blocked connections,
// policy/nft_program.hpp) on a NETLINK_NETFILTER socket and hands each parsed packet to a
// handler. The kernel drops messages when the socket's buffer is full; that loses log lines,
// never verdicts (the drop counters in the program are exact).
//
// Contract: open() then start() on the executor's thread; the handler runs there; co_await
// stop() before destruction. open(): kUnsupported when the kernel has no nfnetlink_log,
// kIo for other socket errors (weft-npc then runs without block logging and says so).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "common/result.hpp"
#include "common/task_group.hpp"
#include "policy/nflog.hpp"

namespace weft::policy {

class NflogReader {
 public:
  using Handler = std::function<void(const LoggedPacket&)>;

  NflogReader(boost::asio::any_io_executor executor, std::uint16_t group, Handler handler);
  NflogReader(const NflogReader&) = delete;
  NflogReader& operator=(const NflogReader&) = delete;
  ~NflogReader();

  Result<void> open();
  void start();
  boost::asio::awaitable<void> stop();
  std::uint64_t malformed() const { return malformed_; }

 private:
  struct State;
  boost::asio::awaitable<void> run();

  boost::asio::any_io_executor executor_;
  std::uint16_t group_;
  Handler handler_;
  std::unique_ptr<State> state_;
  std::uint64_t malformed_ = 0;
  TaskGroup tasks_;
};

}  // namespace weft::policy
