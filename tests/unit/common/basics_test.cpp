// Tests of the small foundation pieces: Result/Error, logging, Rng, TaskGroup, clocks.
#include <string>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

#include "common/log.hpp"
#include "common/result.hpp"
#include "common/rng.hpp"
#include "common/task_group.hpp"
#include "tests/support/coro.hpp"
#include "tests/support/virtual_clock.hpp"

namespace weft {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

Result<int> parse_small(int v) {
  if (v > 10) {
    return make_error(Errc::kTooLarge, "value {} over limit {}", v, 10);
  }
  return v * 2;
}

TEST(Result, CarriesValueOrErrorWithContext) {
  auto ok = parse_small(3);
  ASSERT_TRUE(ok);
  EXPECT_EQ(*ok, 6);
  auto bad = parse_small(11);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, make_error_code(Errc::kTooLarge));
  EXPECT_EQ(bad.error().to_string(), "value 11 over limit 10 (too large)");
  EXPECT_THROW((void)bad.value(), ErrorException);
}

TEST(Log, FormatsKeyValuesAndQuotes) {
  const std::string line = log::format_line(log::Level::kWarn, "peer gone",
                                            {{"peer", "aa:bb"}, {"why", "a \"b\""}, {"n", 3}});
  EXPECT_NE(line.find(" level=warn msg=\"peer gone\" peer=aa:bb why=\"a \\\"b\\\"\" n=3\n"),
            std::string::npos)
      << line;
}

TEST(Log, RespectsLevelAndSink) {
  std::vector<std::string> lines;
  log::set_sink([&](std::string_view l) { lines.emplace_back(l); });
  log::set_level(log::Level::kWarn);
  log::info("hidden");
  log::error("shown", {{"k", "v"}});
  log::set_level(log::Level::kInfo);
  log::set_sink(nullptr);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("msg=shown k=v"), std::string::npos);
}

TEST(Rng, SeededIsReproducibleAndUniformIsInRange) {
  SeededRng a(42);
  SeededRng b(42);
  for (int i = 0; i < 1000; ++i) {
    ASSERT_EQ(a.next_u64(), b.next_u64());
  }
  std::vector<int> buckets(7);
  for (int i = 0; i < 70000; ++i) {
    const auto v = a.uniform(7);
    ASSERT_LT(v, 7u);
    ++buckets[v];
  }
  for (int c : buckets) {
    EXPECT_NEAR(c, 10000, 600);
  }
  for (int i = 0; i < 1000; ++i) {
    const auto v = a.range(-3, 3);
    ASSERT_GE(v, -3);
    ASSERT_LE(v, 3);
  }
}

TEST(TaskGroup, CancelAndJoinEndEveryTask) {
  asio::io_context io;
  TaskGroup group(io.get_executor());
  int finished = 0;
  auto forever = [&]() -> asio::awaitable<void> {
    asio::steady_timer t(io, asio::steady_timer::time_point::max());
    auto [ec] = co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
    EXPECT_EQ(ec, asio::error::operation_aborted);
    ++finished;
  };
  for (int i = 0; i < 5; ++i) {
    group.spawn(forever(), "forever");
  }
  group.spawn(
      []() -> asio::awaitable<void> {
        throw std::runtime_error("boom");
        co_return;
      }(),
      "thrower");
  test::run(io, [&]() -> asio::awaitable<void> {
    co_await asio::post(io, asio::use_awaitable);
    EXPECT_EQ(group.size(), 5u);
    group.cancel();
    co_await group.join();
  }());
  EXPECT_EQ(finished, 5);
  EXPECT_EQ(group.size(), 0u);
}

TEST(TaskGroup, CancelBeforeTasksFirstRunIsHarmless) {
  asio::io_context io;
  int finished = 0;
  auto sleeper = [&]() -> asio::awaitable<void> {
    asio::steady_timer t(io, 1h);
    co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
    ++finished;
  };
  auto quick = [&]() -> asio::awaitable<void> {
    ++finished;
    co_return;
  };
  {
    TaskGroup group(io.get_executor());
    for (int i = 0; i < 3; ++i) {
      group.spawn(sleeper(), "not-yet-running");
    }
    group.cancel();
    EXPECT_NO_THROW(io.poll());
    EXPECT_EQ(group.size(), 0u);
    // Destroying a group (which cancels) whose task has not run yet, too.
    group.spawn(quick(), "late");
  }
  EXPECT_NO_THROW(io.poll());
  // The sleepers saw operation_aborted and went on; a task cancelled before its first step
  // (the late one) may not run at all, which is what cancellation asks for.
  EXPECT_EQ(finished, 3);
}

TEST(VirtualClock, WakesSleepersInDeadlineOrderWithoutRealTime) {
  asio::io_context io;
  test::VirtualClock clock;
  std::vector<int> order;
  TaskGroup group(io.get_executor());
  for (int i : {3, 1, 2}) {
    group.spawn(
        [](test::VirtualClock& c, std::vector<int>& o, int n) -> asio::awaitable<void> {
          EXPECT_TRUE(co_await c.sleep_for(std::chrono::hours(n)));
          o.push_back(n);
        }(clock, order, i),
        "sleeper");
  }
  const auto start = std::chrono::steady_clock::now();
  clock.run_until_idle(io, std::chrono::hours(10));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(clock.now().time_since_epoch(), std::chrono::hours(3));
}

TEST(SteadyClock, SleepsAndCanBeCancelled) {
  asio::io_context io;
  SteadyClock clock;
  const auto t0 = clock.now();
  EXPECT_TRUE(test::run(io, clock.sleep_for(10ms)));
  EXPECT_GE(clock.now() - t0, 10ms);
  TaskGroup group(io.get_executor());
  bool result = true;
  group.spawn(
      [](SteadyClock& c, bool& r) -> asio::awaitable<void> {
        r = co_await c.sleep_for(std::chrono::hours(1));
      }(clock, result),
      "long sleep");
  test::run(io, [&]() -> asio::awaitable<void> {
    co_await asio::post(io, asio::use_awaitable);
    group.cancel();
    co_await group.join();
  }());
  EXPECT_FALSE(result);
}

}  // namespace
}  // namespace weft
