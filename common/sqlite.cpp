// sqlite::Database: connection setup, statement cache, transactions, busy handling, errors.
// The design notes (durability, busy waiting) are in sqlite.hpp.
#include "common/sqlite.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <functional>
#include <unordered_map>

#include <boost/assert.hpp>
#include <sqlite3.h>

#include "common/log.hpp"
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace weft::sqlite {
namespace {

constexpr std::size_t kMaxSqlInError = 160;
constexpr std::size_t kMaxIdlePerSql = 4;
constexpr std::size_t kMaxIdleTotal = 256;
// sqlite's own busy backoff schedule (milliseconds); the last step repeats.
constexpr std::array<int, 12> kBackoffMs = {1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, 100};

// The SQL as error context: whitespace runs collapsed, truncated.
std::string sql_context(std::string_view sql) {
  std::string out;
  for (const char c : sql) {
    const bool space = c == ' ' || c == '\n' || c == '\t' || c == '\r';
    if (space && (out.empty() || out.back() == ' ')) {
      continue;
    }
    out.push_back(space ? ' ' : c);
    if (out.size() > kMaxSqlInError) {
      out.resize(kMaxSqlInError);
      out += "...";
      break;
    }
  }
  return out;
}

Error sqlite_error(int rc, std::string_view message, std::string_view op, std::string_view sql) {
  const int primary = rc & 0xff;
  const Errc code = primary == SQLITE_BUSY         ? Errc::kUnavailable
                    : primary == SQLITE_CONSTRAINT ? Errc::kConflict
                                                   : Errc::kIo;
  if (sql.empty()) {
    return make_error(code, "sqlite {}: {} (code {})", op, message, rc);
  }
  return make_error(code, "sqlite {}: {} (code {}) in \"{}\"", op, message, rc, sql_context(sql));
}

const char* synchronous_name(Synchronous s) {
  switch (s) {
    case Synchronous::kOff:
      return "OFF";
    case Synchronous::kNormal:
      return "NORMAL";
    case Synchronous::kFull:
      return "FULL";
    case Synchronous::kExtra:
      return "EXTRA";
  }
  return "FULL";
}

Error io_error(std::string_view what, const std::string& path) {
  return make_error(Errc::kIo, "sqlite open: {} {}: {}", what, path, std::strerror(errno));
}

// Creates missing parent directories (0700) and the file itself (mode) so that a database
// holding keys is never world-readable, not even for a moment.
Result<void> create_file(const std::string& path, unsigned mode) {
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  std::filesystem::path prefix;
  for (const auto& part : parent) {
    prefix /= part;
    if (::mkdir(prefix.c_str(), 0700) != 0 && errno != EEXIST) {
      return io_error("create directory", prefix.string());
    }
  }
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    return errno == EEXIST ? Result<void>() : Result<void>(io_error("create", path));
  }
  ::close(fd);
  // Make the new directory entry durable (best effort: sqlite syncs the file's content).
  const int dir = ::open(parent.empty() ? "." : parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    (void)::fsync(dir);
    ::close(dir);
  }
  return {};
}

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

}  // namespace

namespace detail {

// The state of one open connection, behind Database's pointer. Fields are public like a
// struct's: only this file, Statement and Transaction reach it.
class Connection {
 public:
  Connection(sqlite3* handle, std::string file, const Options& opts)
      : db(handle), path(std::move(file)), options(opts), synchronous(opts.synchronous) {
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_handler(db, &Connection::busy_handler, this);
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  ~Connection() {
    BOOST_ASSERT_MSG(live_statements == 0, "sqlite Statement outlives its Database");
    BOOST_ASSERT_MSG(live_transactions == 0, "sqlite Transaction outlives its Database");
    for (auto& [sql, stmts] : idle) {
      for (sqlite3_stmt* stmt : stmts) {
        sqlite3_finalize(stmt);
      }
    }
    sqlite3_close_v2(db);
  }

  Error error(int rc, std::string_view op, std::string_view sql) {
    if ((rc & 0xff) == SQLITE_BUSY) {
      ++stats.busy_errors;
    }
    return sqlite_error(rc, sqlite3_errmsg(db), op, sql);
  }

  Result<Statement> acquire(std::string_view sql, bool cached);
  void release(sqlite3_stmt* stmt, bool cached);
  // Runs one statement (from the cache) to completion.
  Result<void> run(std::string_view sql);
  Result<std::string> query_text(std::string_view sql);
  Result<void> configure(bool memory);
  void rollback_if_open();

  // Sleeps the next backoff step unless busy_timeout is spent since budget_start_ms.
  bool sleep_backoff(int attempt) {
    const std::int64_t remaining = options.busy_timeout.count() - (slept_ms - budget_start_ms);
    if (remaining <= 0) {
      return false;
    }
    const std::size_t step = std::min<std::size_t>(attempt, kBackoffMs.size() - 1);
    const int delay = static_cast<int>(std::min<std::int64_t>(kBackoffMs[step], remaining));
    sqlite3_sleep(delay);
    slept_ms += delay;
    ++stats.busy_waits;
    return true;
  }

  static int busy_handler(void* self, int count) {
    auto& conn = *static_cast<Connection*>(self);
    if (count == 0 && !conn.budget_active) {
      conn.budget_start_ms = conn.slept_ms;  // a new lock wait outside transact()
    }
    return conn.sleep_backoff(count) ? 1 : 0;
  }

  sqlite3* const db;
  const std::string path;
  const Options options;
  Synchronous synchronous;
  Stats stats;
  int live_statements = 0;
  int live_transactions = 0;
  // Busy accounting in requested-sleep milliseconds (no clock is read).
  std::int64_t slept_ms = 0;
  std::int64_t budget_start_ms = 0;
  bool budget_active = false;
  std::size_t idle_count = 0;
  std::unordered_map<std::string, std::vector<sqlite3_stmt*>, StringHash, std::equal_to<>> idle;
};

Result<Statement> Connection::acquire(std::string_view sql, bool cached) {
  if (cached) {
    if (auto it = idle.find(sql); it != idle.end() && !it->second.empty()) {
      sqlite3_stmt* stmt = it->second.back();
      it->second.pop_back();
      --idle_count;
      ++live_statements;
      return Statement(this, stmt, true);
    }
  }
  sqlite3_stmt* stmt = nullptr;
  const char* tail = nullptr;
  const int rc = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()),
                                    cached ? SQLITE_PREPARE_PERSISTENT : 0, &stmt, &tail);
  if (rc != SQLITE_OK) {
    return error(rc, "prepare", sql);
  }
  if (stmt == nullptr) {
    return make_error(Errc::kInvalidArgument, "sqlite prepare: no statement in \"{}\"",
                      sql_context(sql));
  }
  const std::string_view rest(tail, static_cast<std::size_t>(sql.data() + sql.size() - tail));
  if (!rest.empty()) {
    // Only comments and spaces may follow: more statements belong in exec().
    sqlite3_stmt* next = nullptr;
    sqlite3_prepare_v3(db, rest.data(), static_cast<int>(rest.size()), 0, &next, nullptr);
    if (next != nullptr) {
      sqlite3_finalize(next);
      sqlite3_finalize(stmt);
      return make_error(Errc::kInvalidArgument,
                        "sqlite prepare: more than one statement (use exec) in \"{}\"",
                        sql_context(sql));
    }
    cached = false;  // the cache key is the statement's own text; keep it exact
  }
  stats.cache_prepares += cached ? 1 : 0;
  ++live_statements;
  return Statement(this, stmt, cached);
}

void Connection::release(sqlite3_stmt* stmt, bool cached) {
  --live_statements;
  if (cached && idle_count < kMaxIdleTotal) {
    const std::string_view sql = sqlite3_sql(stmt);
    auto it = idle.find(sql);  // no allocation on the hot path: the key exists after first use
    if (it == idle.end()) {
      it = idle.emplace(std::string(sql), std::vector<sqlite3_stmt*>()).first;
    }
    auto& slot = it->second;
    if (slot.size() < kMaxIdlePerSql) {
      // Reset ends the statement's read snapshot; cleared bindings drop copied blobs.
      sqlite3_reset(stmt);
      sqlite3_clear_bindings(stmt);
      slot.push_back(stmt);
      ++idle_count;
      return;
    }
  }
  sqlite3_finalize(stmt);
}

Result<void> Connection::run(std::string_view sql) {
  auto stmt = acquire(sql, true);
  if (!stmt) {
    return stmt.error();
  }
  return stmt->drain();
}

Result<std::string> Connection::query_text(std::string_view sql) {
  auto stmt = acquire(sql, false);
  if (!stmt) {
    return stmt.error();
  }
  auto has_row = stmt->step();
  if (!has_row) {
    return has_row.error();
  }
  return *has_row ? std::string(stmt->column_text(0)) : std::string();
}

Result<void> Connection::configure(bool memory) {
  std::string journal = "unchanged";
  if (!options.read_only) {
    auto mode = query_text("PRAGMA journal_mode=WAL");
    if (!mode) {
      return mode.error();
    }
    journal = *mode;
    if (journal != "wal" && !(memory && journal == "memory")) {
      return make_error(Errc::kIo, "sqlite open {}: cannot enable WAL (journal_mode is {})", path,
                        journal);
    }
  }
  if (auto ok = run(fmt::format("PRAGMA synchronous={}", synchronous_name(options.synchronous)));
      !ok) {
    return ok.error();
  }
  if (auto ok = run("PRAGMA foreign_keys=ON"); !ok) {
    return ok.error();
  }
  auto fk = query_text("PRAGMA foreign_keys");
  if (!fk) {
    return fk.error();
  }
  if (*fk != "1") {
    return make_error(Errc::kUnsupported, "sqlite open {}: foreign keys unsupported", path);
  }
  log::info("sqlite database open", {{"path", path},
                                     {"journal", journal},
                                     {"synchronous", synchronous_name(options.synchronous)},
                                     {"read_only", options.read_only}});
  return {};
}

void Connection::rollback_if_open() {
  if (sqlite3_get_autocommit(db) != 0) {
    return;  // nothing open (sqlite rolls back by itself after some errors)
  }
  if (auto ok = run("ROLLBACK"); !ok) {
    log::warn("sqlite rollback failed", {{"path", path}, {"error", ok.error().to_string()}});
  }
}

Error connection_error(Connection& conn, int rc, std::string_view op, std::string_view sql) {
  return conn.error(rc, op, sql);
}

void release_statement(Connection& conn, sqlite3_stmt* stmt, bool cached) {
  conn.release(stmt, cached);
}

RetryBudget::RetryBudget(Connection& conn)
    : conn_(conn), saved_start_ms_(conn.budget_start_ms), saved_active_(conn.budget_active) {
  conn_.budget_start_ms = conn_.slept_ms;
  conn_.budget_active = true;
}

RetryBudget::~RetryBudget() {
  conn_.budget_start_ms = saved_start_ms_;
  conn_.budget_active = saved_active_;
}

void RetryBudget::start_attempt() {
  busy_before_ = conn_.stats.busy_errors;
}

bool RetryBudget::retry_after(const Error& error, int attempt) {
  if (error.code != make_error_code(Errc::kUnavailable) ||
      conn_.stats.busy_errors == busy_before_ || !conn_.sleep_backoff(attempt)) {
    return false;
  }
  ++conn_.stats.retries;
  log::debug("sqlite transaction retried after busy",
             {{"path", conn_.path}, {"attempt", attempt + 1}, {"error", error.message}});
  return true;
}

}  // namespace detail

Transaction& Transaction::operator=(Transaction&& other) noexcept {
  if (this != &other) {
    if (conn_ != nullptr) {
      (void)rollback();
    }
    conn_ = std::exchange(other.conn_, nullptr);
  }
  return *this;
}

Transaction::~Transaction() {
  if (conn_ != nullptr) {
    --conn_->live_transactions;
    conn_->rollback_if_open();
  }
}

Result<void> Transaction::commit() {
  BOOST_ASSERT_MSG(conn_ != nullptr, "commit of a finished transaction");
  detail::Connection* conn = std::exchange(conn_, nullptr);
  --conn->live_transactions;
  auto ok = conn->run("COMMIT");
  if (!ok) {
    conn->rollback_if_open();  // finished either way: no half-open state for the caller
  }
  return ok;
}

Result<void> Transaction::rollback() {
  BOOST_ASSERT_MSG(conn_ != nullptr, "rollback of a finished transaction");
  detail::Connection* conn = std::exchange(conn_, nullptr);
  --conn->live_transactions;
  if (sqlite3_get_autocommit(conn->db) != 0) {
    return {};
  }
  return conn->run("ROLLBACK");
}

Result<Database> Database::open(const std::string& path, const Options& options) {
  const bool memory = path == ":memory:";
  if (!memory && !options.read_only) {
    if (auto made = create_file(path, options.file_mode); !made) {
      return made.error();
    }
  }
  const int flags =
      SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE |
      (options.read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    Error error = sqlite_error(rc, db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc),
                               fmt::format("open {}", path), {});
    sqlite3_close_v2(db);
    return error;
  }
  auto conn = std::make_unique<detail::Connection>(db, path, options);
  if (auto ok = conn->configure(memory); !ok) {
    return ok.error();
  }
  return Database(std::move(conn));
}

Database::Database(std::unique_ptr<detail::Connection> conn) : conn_(std::move(conn)) {}
Database::Database(Database&& other) noexcept = default;
Database& Database::operator=(Database&& other) noexcept = default;
Database::~Database() = default;

const std::string& Database::path() const {
  return conn_->path;
}

Result<void> Database::exec(std::string_view sql) {
  BOOST_ASSERT(conn_ != nullptr);
  char* message = nullptr;
  const int rc = sqlite3_exec(conn_->db, std::string(sql).c_str(), nullptr, nullptr, &message);
  if (rc == SQLITE_OK) {
    return {};
  }
  Error error = conn_->error(rc, "exec", sql);
  if (message != nullptr) {
    // sqlite3_exec's message names the failing statement's problem even after cleanup calls.
    error = sqlite_error(rc, message, "exec", sql);
    sqlite3_free(message);
  }
  return error;
}

Result<Statement> Database::prepare(std::string_view sql) {
  return conn_->acquire(sql, false);
}

Result<Statement> Database::statement(std::string_view sql) {
  return conn_->acquire(sql, true);
}

std::int64_t Database::last_insert_rowid() const {
  return sqlite3_last_insert_rowid(conn_->db);
}

std::int64_t Database::changes() const {
  return sqlite3_changes64(conn_->db);
}

bool Database::in_transaction() const {
  return sqlite3_get_autocommit(conn_->db) == 0;
}

Result<Transaction> Database::begin(TransactionKind kind) {
  BOOST_ASSERT(conn_ != nullptr);
  if (in_transaction()) {
    return make_error(Errc::kInvalidArgument,
                      "sqlite begin: a transaction is already open on {} (no nesting)",
                      conn_->path);
  }
  const char* sql = kind == TransactionKind::kDeferred    ? "BEGIN DEFERRED"
                    : kind == TransactionKind::kImmediate ? "BEGIN IMMEDIATE"
                                                          : "BEGIN EXCLUSIVE";
  if (auto ok = conn_->run(sql); !ok) {
    return ok.error();
  }
  ++conn_->live_transactions;
  return Transaction(conn_.get());
}

Result<void> Database::set_synchronous(Synchronous synchronous) {
  if (in_transaction()) {
    return make_error(Errc::kInvalidArgument,
                      "sqlite synchronous: cannot change inside a transaction on {}", conn_->path);
  }
  auto ok = conn_->run(fmt::format("PRAGMA synchronous={}", synchronous_name(synchronous)));
  if (ok) {
    conn_->synchronous = synchronous;
  }
  return ok;
}

Synchronous Database::synchronous() const {
  return conn_->synchronous;
}

Stats Database::stats() const {
  return conn_->stats;
}

sqlite3* Database::handle() const {
  return conn_->db;
}

}  // namespace weft::sqlite
