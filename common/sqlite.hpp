// sqlite::Database: the one embedded store of weftd (identity, IPAM ring, allocations).
//
// Contract: a Database is one SQLite connection, used from one thread at a time (opened with
// SQLITE_OPEN_NOMUTEX); several connections (threads, processes such as the CLI) may share a
// file. Calls block (a kFull commit waits for an fsync). Move-only; destruction
// finalizes cached statements and closes the connection; every Statement and Transaction must
// be gone by then (asserted). Errors carry the sqlite message and the SQL (truncated):
// SQLITE_BUSY -> Errc::kUnavailable, constraint violations -> Errc::kConflict, misuse by the
// caller (nested transaction, multi-statement prepare) -> kInvalidArgument, others -> kIo.
//
// Design note (durability): WAL journal, synchronous=NORMAL by default, FULL per setting.
// In WAL mode both survive kill -9 at any moment: when a commit returns, it is in the WAL file
// (the page cache), and recovery replays it (tested by SIGKILLing a committing child). They
// differ on power loss: FULL fsyncs the WAL on every commit, NORMAL only at checkpoints, so
// NORMAL can lose the last commits (never corrupting the file). FULL costs one fsync per
// commit; this shared VM's disk did 170-4,600 fsyncs/s depending on other jobs, giving FULL
// 200-600 single-row commits/s most of the time (~3,900 when idle) against NORMAL's
// 11,000-52,000, and the goal is >= 2,000 allocations/s. A power loss also kills every
// container of the host, so allocations it can forget belong to containers that are gone.
// Writes that other peers rely on (ring transfers, identity keys) should switch to FULL around
// their transaction with set_synchronous(); batching allocations per FULL commit also works.
//
// Design note (busy waiting): one busy handler per connection sleeps with sqlite's backoff
// (1, 2, 5, ... 100 ms) until Options::busy_timeout is spent; inside transact() the budget
// covers all retries together. Time is counted as the sum of requested sleeps, so no clock is
// read. WAL readers never block the writer; waits happen only between writers.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "common/result.hpp"
#include "common/sqlite_statement.hpp"

struct sqlite3;

namespace weft::sqlite {

enum class Synchronous { kOff, kNormal, kFull, kExtra };
enum class TransactionKind { kDeferred, kImmediate, kExclusive };

struct Options {
  Synchronous synchronous = Synchronous::kNormal;  // see the durability note
  // How long a writer waits for another writer's lock before failing with kUnavailable.
  std::chrono::milliseconds busy_timeout{5000};
  // Open an existing database for reading only (the CLI); nothing is created.
  bool read_only = false;
  // Permissions of a database file that open() creates (it holds private keys); missing
  // parent directories are created 0700.
  unsigned file_mode = 0600;
};

// Counters for metrics.
struct Stats {
  std::uint64_t busy_waits = 0;      // times the busy handler slept
  std::uint64_t busy_errors = 0;     // SQLITE_BUSY results returned to us
  std::uint64_t retries = 0;         // transact() attempts repeated after SQLITE_BUSY
  std::uint64_t cache_prepares = 0;  // statements prepared for the cache (misses)
};

class Database;

namespace detail {
// transact()'s SQLITE_BUSY budget: while alive, the busy handler and the retries share one
// busy_timeout; an attempt is retried only if it met SQLITE_BUSY (not an error of fn's own).
class RetryBudget {
 public:
  explicit RetryBudget(Connection& conn);
  RetryBudget(const RetryBudget&) = delete;
  RetryBudget& operator=(const RetryBudget&) = delete;
  ~RetryBudget();
  void start_attempt();
  // Sleeps a backoff and returns true when `error` is SQLITE_BUSY met during this attempt and
  // budget remains.
  bool retry_after(const Error& error, int attempt);

 private:
  Connection& conn_;
  std::int64_t saved_start_ms_;
  bool saved_active_;
  std::uint64_t busy_before_ = 0;
};
}  // namespace detail

// An open transaction. Destruction rolls back unless committed. After commit() or rollback()
// returns (either way) the transaction is finished; a failed commit has been rolled back.
class Transaction {
 public:
  Transaction(Transaction&& other) noexcept : conn_(std::exchange(other.conn_, nullptr)) {}
  Transaction& operator=(Transaction&& other) noexcept;
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();

  bool active() const { return conn_ != nullptr; }
  Result<void> commit();
  Result<void> rollback();

 private:
  friend class Database;
  explicit Transaction(detail::Connection* conn) : conn_(conn) {}
  detail::Connection* conn_;
};

class Database {
 public:
  // Opens (creating file and parent directories unless read_only) `path`, or an in-memory
  // database for ":memory:". Sets WAL (verified), busy handler, foreign_keys=ON, synchronous.
  static Result<Database> open(const std::string& path, const Options& options = {});

  Database(Database&& other) noexcept;
  Database& operator=(Database&& other) noexcept;
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  ~Database();

  const std::string& path() const;
  // Runs one or more statements without parameters (DDL, pragmas, migrations).
  Result<void> exec(std::string_view sql);
  // A new statement owned by the caller (finalized on destruction). Exactly one statement.
  Result<Statement> prepare(std::string_view sql);
  // A statement from the cache keyed by SQL text (prepared on first use; back on destruction).
  Result<Statement> statement(std::string_view sql);

  // Cached statement with ?1..?n bound, ready to step().
  template <class... Params>
  Result<Statement> query(std::string_view sql, const Params&... params);
  // First row as Row<Cols...> (owning column types only), or nullopt when there is none.
  template <class... Cols, class... Params>
  Result<std::optional<Row<Cols...>>> query_one(std::string_view sql, const Params&... params);
  // Every row as Row<Cols...>.
  template <class... Cols, class... Params>
  Result<std::vector<Row<Cols...>>> query_all(std::string_view sql, const Params&... params);
  // Runs a statement to completion; returns the number of rows it changed.
  template <class... Params>
  Result<std::int64_t> execute(std::string_view sql, const Params&... params);

  // Changes the commit durability of this connection from the next transaction on;
  // kInvalidArgument inside a transaction.
  Result<void> set_synchronous(Synchronous synchronous);
  Synchronous synchronous() const;

  std::int64_t last_insert_rowid() const;
  std::int64_t changes() const;
  bool in_transaction() const;

  // Starts a transaction; kInvalidArgument if one is already open on this connection.
  Result<Transaction> begin(TransactionKind kind = TransactionKind::kImmediate);

  // Runs fn(*this) -> Result<T> in a BEGIN IMMEDIATE transaction: commits on success, rolls
  // back on error. When a step fails with SQLITE_BUSY, fn is run again (so it must only touch
  // the database, or be idempotent) until busy_timeout is spent across all attempts.
  template <class F>
  auto transact(F&& fn) -> std::invoke_result_t<F&, Database&>;

  Stats stats() const;
  // Escape hatch for what the wrapper lacks (backup, pragmas). Owned by the Database.
  sqlite3* handle() const;

 private:
  explicit Database(std::unique_ptr<detail::Connection> conn);

  // Behind a pointer so statements and transactions keep a stable back-pointer across moves.
  std::unique_ptr<detail::Connection> conn_;
};

template <class... Params>
Result<Statement> Database::query(std::string_view sql, const Params&... params) {
  auto stmt = statement(sql);
  if (!stmt) {
    return stmt;
  }
  if (auto bound = stmt->bind_all(params...); !bound) {
    return bound.error();
  }
  return stmt;
}

template <class... Cols, class... Params>
Result<std::optional<Row<Cols...>>> Database::query_one(std::string_view sql,
                                                        const Params&... params) {
  static_assert((detail::kOwningColumn<Cols> && ...), "query_one returns owning types only");
  auto stmt = query(sql, params...);
  if (!stmt) {
    return stmt.error();
  }
  auto has_row = stmt->step();
  if (!has_row) {
    return has_row.error();
  }
  if (!*has_row) {
    return std::optional<Row<Cols...>>();
  }
  return std::optional<Row<Cols...>>(stmt->template row<Cols...>());
}

template <class... Cols, class... Params>
Result<std::vector<Row<Cols...>>> Database::query_all(std::string_view sql,
                                                      const Params&... params) {
  static_assert((detail::kOwningColumn<Cols> && ...), "query_all returns owning types only");
  auto stmt = query(sql, params...);
  if (!stmt) {
    return stmt.error();
  }
  std::vector<Row<Cols...>> rows;
  for (;;) {
    auto has_row = stmt->step();
    if (!has_row) {
      return has_row.error();
    }
    if (!*has_row) {
      return rows;
    }
    rows.push_back(stmt->template row<Cols...>());
  }
}

template <class... Params>
Result<std::int64_t> Database::execute(std::string_view sql, const Params&... params) {
  auto stmt = query(sql, params...);
  if (!stmt) {
    return stmt.error();
  }
  if (auto done = stmt->drain(); !done) {
    return done.error();
  }
  return changes();
}

template <class F>
auto Database::transact(F&& fn) -> std::invoke_result_t<F&, Database&> {
  using R = std::invoke_result_t<F&, Database&>;
  detail::RetryBudget budget(*conn_);
  for (int attempt = 0;; ++attempt) {
    budget.start_attempt();
    std::optional<Error> error;
    {
      auto tx = begin(TransactionKind::kImmediate);
      if (!tx) {
        error = tx.error();
      } else if (R result = fn(*this); !result) {
        error = result.error();
      } else if (auto committed = tx->commit(); !committed) {
        error = committed.error();
      } else {
        return result;
      }
    }  // an uncommitted transaction rolls back here, before a retry or the return
    if (!budget.retry_after(*error, attempt)) {
      return *std::move(error);
    }
  }
}

}  // namespace weft::sqlite
