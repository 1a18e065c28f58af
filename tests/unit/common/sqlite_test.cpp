// Tests of the sqlite wrapper: open settings, typed binds, statement cache, transactions,
// migrations, busy waiting between connections, and durability of commits under SIGKILL.
#include "common/sqlite.hpp"

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include "common/sqlite_migrate.hpp"
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace weft::sqlite {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Each test gets its own directory under TMPDIR, removed afterwards.
class SqliteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "weft-sqlite-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string db_path() const { return (dir_ / "weft.db").string(); }

  Database open_ok(const Options& options = {}) { return open_ok(db_path(), options); }
  Database open_ok(const std::string& path, const Options& options = {}) {
    auto db = Database::open(path, options);
    EXPECT_TRUE(db) << db.error().to_string();
    return std::move(db).value();
  }

  fs::path dir_;
};

void expect_code(const Error& error, Errc code) {
  EXPECT_EQ(error.code, make_error_code(code)) << error.to_string();
}

std::int64_t count_rows(Database& db, std::string_view table) {
  auto n = db.query_one<std::int64_t>(fmt::format("SELECT count(*) FROM {}", table));
  EXPECT_TRUE(n) << n.error().to_string();
  return n && *n ? **n : -1;
}

using SqliteOpen = SqliteTest;

TEST_F(SqliteOpen, CreatesFileAndParentsWithWalForeignKeysAndNormalSync) {
  const std::string path = (dir_ / "a" / "b" / "weft.db").string();
  auto db = open_ok(path);
  EXPECT_TRUE(fs::exists(path));
  EXPECT_EQ(db.path(), path);
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);  // holds private keys
  ASSERT_EQ(::stat((dir_ / "a").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  EXPECT_EQ(*db.query_one<std::string>("PRAGMA journal_mode").value(), "wal");
  EXPECT_EQ(*db.query_one<int>("PRAGMA foreign_keys").value(), 1);
  EXPECT_EQ(*db.query_one<int>("PRAGMA synchronous").value(), 1);  // NORMAL, the default
  EXPECT_EQ(db.synchronous(), Synchronous::kNormal);
  // Foreign keys are enforced, not just switched on.
  ASSERT_TRUE(
      db.exec("CREATE TABLE p(id INTEGER PRIMARY KEY);"
              "CREATE TABLE c(id INTEGER PRIMARY KEY, p INTEGER NOT NULL REFERENCES p(id))"));
  auto orphan = db.execute("INSERT INTO c(id, p) VALUES(?, ?)", 1, 42);
  ASSERT_FALSE(orphan);
  expect_code(orphan.error(), Errc::kConflict);
  EXPECT_NE(orphan.error().message.find("FOREIGN KEY"), std::string::npos);
}

TEST_F(SqliteOpen, SynchronousIsASetting) {
  Options options;
  options.synchronous = Synchronous::kFull;
  auto db = open_ok(options);
  EXPECT_EQ(*db.query_one<int>("PRAGMA synchronous").value(), 2);
  ASSERT_TRUE(db.set_synchronous(Synchronous::kExtra));
  EXPECT_EQ(*db.query_one<int>("PRAGMA synchronous").value(), 3);
  EXPECT_EQ(db.synchronous(), Synchronous::kExtra);
  auto tx = db.begin();
  ASSERT_TRUE(tx);
  expect_code(db.set_synchronous(Synchronous::kNormal).error(), Errc::kInvalidArgument);
}

TEST_F(SqliteOpen, MemoryDatabaseWorks) {
  auto db = open_ok(":memory:");
  EXPECT_EQ(*db.query_one<std::string>("PRAGMA journal_mode").value(), "memory");
  ASSERT_TRUE(db.exec("CREATE TABLE t(x)"));
  EXPECT_EQ(db.execute("INSERT INTO t VALUES(?)", 7).value(), 1);
  EXPECT_EQ(count_rows(db, "t"), 1);
}

TEST_F(SqliteOpen, GarbageFileIsAnIoErrorNamingTheProblem) {
  std::ofstream(db_path()) << std::string(4096, 'x');
  auto db = Database::open(db_path());
  ASSERT_FALSE(db);
  expect_code(db.error(), Errc::kIo);
  EXPECT_NE(db.error().message.find("not a database"), std::string::npos) << db.error().message;
}

TEST_F(SqliteOpen, ReadOnlyConnectionReadsWhileWriterIsOpen) {
  auto writer = open_ok();
  ASSERT_TRUE(writer.exec("CREATE TABLE t(x)"));
  ASSERT_TRUE(writer.execute("INSERT INTO t VALUES(1)"));
  Options ro;
  ro.read_only = true;
  auto reader = open_ok(ro);
  EXPECT_EQ(count_rows(reader, "t"), 1);
  auto write = reader.execute("INSERT INTO t VALUES(2)");
  ASSERT_FALSE(write);
  expect_code(write.error(), Errc::kIo);
  auto missing = Database::open((dir_ / "nope.db").string(), ro);
  EXPECT_FALSE(missing);
  EXPECT_FALSE(fs::exists(dir_ / "nope.db"));
}

using SqliteStatement = SqliteTest;

TEST_F(SqliteStatement, EveryTypeRoundTrips) {
  auto db = open_ok();
  ASSERT_TRUE(db.exec("CREATE TABLE v(id INTEGER PRIMARY KEY, i INTEGER, r REAL, t TEXT, b BLOB)"));
  const std::string text_with_nul("a\0b\xc3\xa9", 5);
  const std::vector<std::uint8_t> zeros = {0, 1, 0, 255, 0};
  const std::vector<std::uint8_t> empty;
  const char* insert = "INSERT INTO v(id, i, r, t, b) VALUES(?, ?, ?, ?, ?)";
  ASSERT_TRUE(db.execute(insert, 1, INT64_MIN, -0.5, text_with_nul, zeros));
  ASSERT_TRUE(db.execute(insert, 2, INT64_MAX, 1e300, std::string_view(), empty));
  ASSERT_TRUE(db.execute(insert, 3, std::optional<std::int64_t>(), std::nullopt, nullptr,
                         std::optional<std::vector<std::uint8_t>>()));
  ASSERT_TRUE(db.execute(insert, 4, std::optional<std::int64_t>(5), true, "lit",
                         std::span<const std::uint8_t>(zeros).subspan(1, 2)));

  using Bytes = std::vector<std::uint8_t>;
  const char* select = "SELECT i, r, t, b FROM v WHERE id = ?";
  using R = std::tuple<std::int64_t, double, std::string, Bytes>;
  const auto row1 = db.query_one<std::int64_t, double, std::string, Bytes>(select, 1);
  EXPECT_EQ(row1.value(), R(INT64_MIN, -0.5, text_with_nul, zeros));
  const auto row2 = db.query_one<std::int64_t, double, std::string, Bytes>(select, 2);
  EXPECT_EQ(row2.value(), R(INT64_MAX, 1e300, "", empty));
  // Empty text and blob are values, not NULL.
  const auto types = db.query_one<std::string, std::string>(
      "SELECT typeof(t), typeof(b) FROM v "
      "WHERE id = 2");
  EXPECT_EQ(types.value(), (std::tuple<std::string, std::string>("text", "blob")));
  using Opt = std::tuple<std::optional<std::int64_t>, std::optional<double>,
                         std::optional<std::string>, std::optional<Bytes>>;
  const auto row3 = db.query_one<std::optional<std::int64_t>, std::optional<double>,
                                 std::optional<std::string>, std::optional<Bytes>>(select, 3);
  EXPECT_EQ(row3.value(), Opt(std::nullopt, std::nullopt, std::nullopt, std::nullopt));
  using Mixed = std::tuple<std::optional<std::int64_t>, bool, std::string, Bytes>;
  const auto row4 = db.query_one<std::optional<std::int64_t>, bool, std::string, Bytes>(select, 4);
  EXPECT_EQ(row4.value(), Mixed(5, true, "lit", Bytes{1, 0}));

  // The raw Statement interface: step, column types and views.
  auto stmt = db.query("SELECT t, b, i FROM v WHERE id = ?", 1);
  ASSERT_TRUE(stmt);
  ASSERT_TRUE(stmt->step().value());
  EXPECT_EQ(stmt->column_count(), 3);
  EXPECT_EQ(stmt->column_type(0), ColumnType::kText);
  EXPECT_EQ(stmt->column_type(1), ColumnType::kBlob);
  EXPECT_EQ(stmt->column_type(2), ColumnType::kInteger);
  EXPECT_EQ(stmt->column<std::string_view>(0), text_with_nul);
  const auto blob = stmt->column<std::span<const std::uint8_t>>(1);
  EXPECT_EQ(std::vector<std::uint8_t>(blob.begin(), blob.end()), zeros);
  EXPECT_FALSE(stmt->step().value());
  EXPECT_EQ(db.query_one<std::int64_t>("SELECT id FROM v WHERE id = 99").value(), std::nullopt);
  EXPECT_EQ(db.query_all<std::int64_t>("SELECT id FROM v ORDER BY id").value(),
            (std::vector<std::int64_t>{1, 2, 3, 4}));
}

TEST_F(SqliteStatement, ErrorsCarryCodeMessageAndSql) {
  auto db = open_ok();
  ASSERT_TRUE(db.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL)"));
  ASSERT_TRUE(db.execute("INSERT INTO t(name) VALUES(?)", "a"));
  auto dup = db.execute("INSERT INTO t(name) VALUES(?)", "a");
  ASSERT_FALSE(dup);
  expect_code(dup.error(), Errc::kConflict);
  EXPECT_NE(dup.error().message.find("UNIQUE constraint failed: t.name"), std::string::npos);
  EXPECT_NE(dup.error().message.find("INSERT INTO t(name)"), std::string::npos);

  auto syntax = db.execute("SELEKT 1");
  ASSERT_FALSE(syntax);
  expect_code(syntax.error(), Errc::kIo);
  EXPECT_NE(syntax.error().message.find("SELEKT 1"), std::string::npos);

  const std::string long_sql = "SELECT " + std::string(1000, '1') + " FROM nowhere";
  auto truncated = db.execute(long_sql);
  ASSERT_FALSE(truncated);
  EXPECT_LT(truncated.error().message.size(), 400u);

  auto two = db.prepare("SELECT 1; SELECT 2");
  ASSERT_FALSE(two);
  expect_code(two.error(), Errc::kInvalidArgument);
  EXPECT_TRUE(db.prepare("SELECT 1; -- trailing comment"));
  auto count = db.execute("INSERT INTO t(name) VALUES(?)", "x", "y");
  ASSERT_FALSE(count);
  expect_code(count.error(), Errc::kInvalidArgument);
  auto exec_error = db.exec("CREATE TABLE u(x); INSERT INTO nowhere VALUES(1)");
  ASSERT_FALSE(exec_error);
  EXPECT_NE(exec_error.error().message.find("no such table: nowhere"), std::string::npos);
}

TEST_F(SqliteStatement, CacheReusesPreparedStatements) {
  auto db = open_ok();
  ASSERT_TRUE(db.exec("CREATE TABLE t(x INTEGER)"));
  const auto before = db.stats().cache_prepares;
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(db.execute("INSERT INTO t VALUES(?)", i));
  }
  EXPECT_EQ(db.stats().cache_prepares, before + 1);
  // The same SQL used twice at once gets two statements; both work.
  auto outer = db.query("SELECT x FROM t WHERE x < ? ORDER BY x", 3);
  ASSERT_TRUE(outer);
  std::int64_t sum = 0;
  while (outer->step().value()) {
    auto inner = db.query_one<std::int64_t>("SELECT x FROM t WHERE x < ? ORDER BY x", 100);
    ASSERT_TRUE(inner && *inner);
    sum += outer->column_int64(0) + **inner;
  }
  EXPECT_EQ(sum, 0 + 1 + 2);
  EXPECT_EQ(db.stats().cache_prepares, before + 3);
}

using SqliteTransaction = SqliteTest;

TEST_F(SqliteTransaction, RollsBackOnDestructionAndCommitPersistsAcrossReopen) {
  {
    auto db = open_ok();
    ASSERT_TRUE(db.exec("CREATE TABLE t(x INTEGER)"));
    {
      auto tx = db.begin();
      ASSERT_TRUE(tx);
      EXPECT_TRUE(db.in_transaction());
      ASSERT_TRUE(db.execute("INSERT INTO t VALUES(1)"));
    }
    EXPECT_FALSE(db.in_transaction());
    EXPECT_EQ(count_rows(db, "t"), 0);
    auto tx = db.begin(TransactionKind::kDeferred);
    ASSERT_TRUE(tx);
    auto nested = db.begin();
    ASSERT_FALSE(nested);
    expect_code(nested.error(), Errc::kInvalidArgument);
    ASSERT_TRUE(db.execute("INSERT INTO t VALUES(2)"));
    ASSERT_TRUE(tx->commit());
    EXPECT_FALSE(tx->active());
    auto explicit_rollback = db.begin();
    ASSERT_TRUE(db.execute("INSERT INTO t VALUES(3)"));
    ASSERT_TRUE(explicit_rollback->rollback());
  }
  auto db = open_ok();
  EXPECT_EQ(db.query_all<std::int64_t>("SELECT x FROM t").value(), std::vector<std::int64_t>{2});
}

TEST_F(SqliteTransaction, TransactCommitsOrRollsBackOnError) {
  auto db = open_ok();
  ASSERT_TRUE(db.exec("CREATE TABLE t(x INTEGER UNIQUE)"));
  auto ok = db.transact([](Database& d) -> Result<std::int64_t> {
    if (auto r = d.execute("INSERT INTO t VALUES(1)"); !r) {
      return r.error();
    }
    return d.last_insert_rowid();
  });
  ASSERT_TRUE(ok) << ok.error().to_string();
  EXPECT_EQ(*ok, 1);

  int runs = 0;
  auto failed = db.transact([&](Database& d) -> Result<void> {
    ++runs;
    EXPECT_TRUE(d.in_transaction());
    EXPECT_TRUE(d.execute("INSERT INTO t VALUES(2)"));
    return make_error(Errc::kExhausted, "no addresses left");
  });
  ASSERT_FALSE(failed);
  expect_code(failed.error(), Errc::kExhausted);
  EXPECT_EQ(runs, 1);  // not a busy error: no retry
  auto conflict = db.transact([](Database& d) -> Result<void> {
    if (auto r = d.execute("INSERT INTO t VALUES(3)"); !r) {
      return r.error();
    }
    auto r = d.execute("INSERT INTO t VALUES(1)");
    return r ? Result<void>() : Result<void>(r.error());
  });
  ASSERT_FALSE(conflict);
  expect_code(conflict.error(), Errc::kConflict);
  EXPECT_EQ(db.query_all<std::int64_t>("SELECT x FROM t").value(), std::vector<std::int64_t>{1});
  auto nested = db.transact([](Database& d) -> Result<int> {
    return d.transact([](Database&) -> Result<int> { return 1; });
  });
  ASSERT_FALSE(nested);
  expect_code(nested.error(), Errc::kInvalidArgument);
  EXPECT_FALSE(db.in_transaction());
}

using SqliteMigrate = SqliteTest;

constexpr Migration kMigrations[] = {
    {1, "CREATE TABLE peer(name TEXT NOT NULL)"},
    {2,
     "CREATE TABLE alloc(addr INTEGER PRIMARY KEY, owner TEXT NOT NULL);\n"
     "CREATE INDEX alloc_owner ON alloc(owner)"},
    {3, "ALTER TABLE peer ADD COLUMN nick TEXT"},
};

std::vector<std::string> tables(Database& db) {
  return db.query_all<std::string>("SELECT name FROM sqlite_schema ORDER BY name").value();
}

TEST_F(SqliteMigrate, FreshToLatestThenNoOp) {
  {
    auto db = open_ok();
    EXPECT_EQ(schema_version(db).value(), 0);
    auto v = migrate(db, kMigrations);
    ASSERT_TRUE(v) << v.error().to_string();
    EXPECT_EQ(*v, 3);
    EXPECT_EQ(schema_version(db).value(), 3);
    ASSERT_TRUE(db.execute("INSERT INTO peer(name, nick) VALUES('aa', 'host')"));
    EXPECT_EQ(tables(db), (std::vector<std::string>{"alloc", "alloc_owner", "peer"}));
  }
  auto db = open_ok();
  EXPECT_EQ(migrate(db, kMigrations).value(), 3);
  EXPECT_EQ(count_rows(db, "peer"), 1);
  EXPECT_EQ(migrate(db, std::span(kMigrations).first(2)).error().code,
            make_error_code(Errc::kUnsupported));
}

TEST_F(SqliteMigrate, RefusesNewerDatabase) {
  auto db = open_ok();
  ASSERT_TRUE(db.exec("PRAGMA user_version = 9"));
  auto v = migrate(db, kMigrations);
  ASSERT_FALSE(v);
  expect_code(v.error(), Errc::kUnsupported);
  EXPECT_NE(v.error().message.find("schema version 9"), std::string::npos) << v.error().message;
  EXPECT_EQ(schema_version(db).value(), 9);
  EXPECT_TRUE(tables(db).empty());
}

TEST_F(SqliteMigrate, FailingStepLeavesVersionAndSchema) {
  auto db = open_ok();
  ASSERT_EQ(migrate(db, std::span(kMigrations).first(2)).value(), 2);
  const auto before = tables(db);
  const Migration broken[] = {
      kMigrations[0],
      kMigrations[1],
      {3, "CREATE TABLE ring(start INTEGER); DROP TABLE peer; INSERT INTO nowhere VALUES(1)"}};
  auto v = migrate(db, broken);
  ASSERT_FALSE(v);
  expect_code(v.error(), Errc::kIo);
  EXPECT_NE(v.error().message.find("migration to version 3"), std::string::npos);
  EXPECT_EQ(schema_version(db).value(), 2);
  EXPECT_EQ(tables(db), before);
  EXPECT_FALSE(db.in_transaction());
}

TEST_F(SqliteMigrate, RejectsUnorderedVersions) {
  auto db = open_ok();
  const Migration unordered[] = {{2, "CREATE TABLE a(x)"}, {1, "CREATE TABLE b(x)"}};
  expect_code(migrate(db, unordered).error(), Errc::kInvalidArgument);
  const Migration zero[] = {{0, "CREATE TABLE a(x)"}};
  expect_code(migrate(db, zero).error(), Errc::kInvalidArgument);
  EXPECT_TRUE(tables(db).empty());
}

using SqliteBusy = SqliteTest;

// Holds a write transaction (with one row inserted) on its own connection, in its own thread,
// for `hold` or until destruction, whichever comes first; then commits.
class LockHolder {
 public:
  LockHolder(std::string path, std::chrono::milliseconds hold)
      : released_(release_.get_future()),
        thread_([this, path = std::move(path), hold] { run(path, hold); }) {}
  LockHolder(const LockHolder&) = delete;
  LockHolder& operator=(const LockHolder&) = delete;
  ~LockHolder() {
    release_.set_value();
    thread_.join();
  }
  // Blocks until the lock is held; false if taking it failed. Call once.
  bool wait_locked() { return locked_.get_future().get(); }

 private:
  void run(const std::string& path, std::chrono::milliseconds hold) {
    auto db = Database::open(path);
    if (!db) {
      locked_.set_value(false);
      return;
    }
    auto tx = db->begin(TransactionKind::kImmediate);
    const bool ok = tx && db->execute("INSERT INTO t VALUES(100)");
    locked_.set_value(ok);
    if (ok) {
      released_.wait_for(hold);
      EXPECT_TRUE(tx->commit());
    }
  }

  std::promise<bool> locked_;
  std::promise<void> release_;
  std::future<void> released_;
  std::thread thread_;  // last: starts once the promises exist
};

TEST_F(SqliteBusy, TransactWaitsForTheOtherWriter) {
  auto db = open_ok();
  ASSERT_TRUE(db.exec("CREATE TABLE t(x INTEGER)"));
  LockHolder holder(db_path(), 300ms);
  ASSERT_TRUE(holder.wait_locked());
  const auto start = Clock::now();
  auto r = db.transact(
      [](Database& d) -> Result<std::int64_t> { return d.execute("INSERT INTO t VALUES(1)"); });
  const auto waited = Clock::now() - start;
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_GE(waited, 200ms);
  EXPECT_GT(db.stats().busy_waits, 0u);
  EXPECT_EQ(db.stats().retries, 0u);  // BEGIN IMMEDIATE waited in the busy handler
  EXPECT_EQ(count_rows(db, "t"), 2);
}

TEST_F(SqliteBusy, AutocommitStatementWaitsInTheBusyHandler) {
  auto db = open_ok();
  ASSERT_TRUE(db.exec("CREATE TABLE t(x INTEGER)"));
  LockHolder holder(db_path(), 200ms);
  ASSERT_TRUE(holder.wait_locked());
  const auto start = Clock::now();
  auto r = db.execute("INSERT INTO t VALUES(1)");
  const auto waited = Clock::now() - start;
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_GE(waited, 150ms);
  EXPECT_GT(db.stats().busy_waits, 0u);
  EXPECT_EQ(db.stats().busy_errors, 0u);
  EXPECT_EQ(count_rows(db, "t"), 2);
}

TEST_F(SqliteBusy, ShortTimeoutFailsUnavailable) {
  Options options;
  options.busy_timeout = 100ms;
  auto db = open_ok(options);
  ASSERT_TRUE(db.exec("CREATE TABLE t(x INTEGER)"));
  auto holder = std::make_unique<LockHolder>(db_path(), 60s);  // released by reset() below
  ASSERT_TRUE(holder->wait_locked());
  const auto start = Clock::now();
  int runs = 0;
  auto r = db.transact([&](Database& d) -> Result<std::int64_t> {
    ++runs;
    return d.execute("INSERT INTO t VALUES(1)");
  });
  const auto waited = Clock::now() - start;
  auto plain = db.execute("INSERT INTO t VALUES(2)");  // autocommit: the same wait, same error
  holder.reset();
  ASSERT_FALSE(r);
  expect_code(r.error(), Errc::kUnavailable);
  EXPECT_NE(r.error().message.find("locked"), std::string::npos) << r.error().message;
  EXPECT_EQ(runs, 0);  // BEGIN IMMEDIATE never got the lock
  EXPECT_GE(waited, 90ms);
  EXPECT_LT(waited, 3s);
  ASSERT_FALSE(plain);
  expect_code(plain.error(), Errc::kUnavailable);
  EXPECT_EQ(count_rows(db, "t"), 1);  // only the holder's row
}

TEST_F(SqliteBusy, OnlyBusyOfThisConnectionIsRetried) {
  auto db = open_ok();
  Options short_wait;
  short_wait.busy_timeout = 20ms;
  auto other = open_ok(short_wait);
  ASSERT_TRUE(db.exec("CREATE TABLE t(x INTEGER)"));
  int runs = 0;
  // `other` is blocked by db's own transaction: its kUnavailable is fn's error, not a lock db
  // could wait for, so transact must not loop on it.
  auto r = db.transact([&](Database&) -> Result<std::int64_t> {
    ++runs;
    return other.execute("INSERT INTO t VALUES(1)");
  });
  ASSERT_FALSE(r);
  expect_code(r.error(), Errc::kUnavailable);
  EXPECT_EQ(runs, 1);
  EXPECT_EQ(db.stats().retries, 0u);
  EXPECT_EQ(other.stats().busy_errors, 1u);
}

// The child commits rows 1, 2, ... as fast as it can and reports each id after commit()
// returned; the parent SIGKILLs it (by pid) at a chosen moment. Every reported id must be in
// the database afterwards, and the rows are a gap-free prefix.
void run_child(const std::string& path, Synchronous sync, int out_fd) {
  Options options;
  options.synchronous = sync;
  auto db = Database::open(path, options);
  if (!db || !db->exec("CREATE TABLE IF NOT EXISTS r(id INTEGER PRIMARY KEY, pad BLOB)")) {
    ::_exit(2);
  }
  const std::vector<std::uint8_t> pad(100, 0xab);
  for (int i = 0; i < 1'000'000; ++i) {
    auto id = db->transact([&](Database& d) -> Result<std::int64_t> {
      auto next = d.query_one<std::int64_t>("SELECT coalesce(max(id), 0) + 1 FROM r");
      if (!next) {
        return next.error();
      }
      if (auto ok = d.execute("INSERT INTO r(id, pad) VALUES(?, ?)", **next, pad); !ok) {
        return ok.error();
      }
      return **next;
    });
    if (!id || ::write(out_fd, &*id, sizeof *id) != sizeof *id) {
      ::_exit(3);
    }
  }
  ::_exit(0);
}

using SqliteCrash = SqliteTest;

// Reads every id the child wrote (8-byte writes to a pipe are atomic) until end of file.
std::vector<std::int64_t> read_ids(int fd) {
  std::vector<std::int64_t> ids;
  std::int64_t id = 0;
  while (::read(fd, &id, sizeof id) == sizeof id) {
    ids.push_back(id);
  }
  return ids;
}

struct KillTiming {
  bool after_first_commit;  // else counted from fork(): kills during start-up and schema creation
  int ms;
};

TEST_F(SqliteCrash, CommittedRowsSurviveSigkill) {
  const KillTiming timings[] = {{false, 0}, {false, 3}, {true, 0},  {true, 1},
                                {true, 4},  {true, 15}, {true, 40}, {true, 100}};
  std::set<std::int64_t> reported;
  for (std::size_t round = 0; round < std::size(timings); ++round) {
    // NORMAL in WAL mode is durable across a process kill too; exercise both settings.
    const Synchronous sync = round % 2 == 0 ? Synchronous::kFull : Synchronous::kNormal;
    int fds[2];
    ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    // No connection is open in this process while forking (sqlite forbids sharing one).
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(fds[0]);
      run_child(db_path(), sync, fds[1]);
    }
    ::close(fds[1]);
    std::vector<std::int64_t> ids;
    if (timings[round].after_first_commit) {
      std::int64_t first = 0;
      ASSERT_EQ(::read(fds[0], &first, sizeof first), static_cast<ssize_t>(sizeof first));
      ids.push_back(first);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(timings[round].ms));
    ASSERT_EQ(::kill(pid, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "child status " << status;
    const auto rest = read_ids(fds[0]);
    ::close(fds[0]);
    ids.insert(ids.end(), rest.begin(), rest.end());
    reported.insert(ids.begin(), ids.end());

    auto db = open_ok();
    EXPECT_EQ(*db.query_one<std::string>("PRAGMA integrity_check").value(), "ok");
    std::printf("round %zu: killed %d ms after %s, %zu ids reported\n", round, timings[round].ms,
                timings[round].after_first_commit ? "first commit" : "fork", ids.size());
    if (reported.empty()) {
      continue;  // killed before its first commit (during start-up or schema creation)
    }
    const auto [count, max_id] =
        *db.query_one<std::int64_t, std::int64_t>("SELECT count(*), coalesce(max(id), 0) FROM r")
             .value();
    EXPECT_EQ(count, max_id) << "rows are a gap-free prefix";
    EXPECT_GE(max_id, *reported.rbegin()) << "round " << round << " lost a reported commit";
  }
  auto db = open_ok();
  for (const std::int64_t id : reported) {
    ASSERT_EQ(db.query_one<std::int64_t>("SELECT id FROM r WHERE id = ?", id).value(), id);
  }
  EXPECT_GT(reported.size(), 0u) << "the child never committed: timings too short?";
}

using SqliteMeasure = SqliteTest;

// Not a benchmark and no assertion on speed: prints single-row commits per second for both
// synchronous settings (WAL) so that the choice of default stays informed.
TEST_F(SqliteMeasure, CommitsPerSecond) {
  for (const Synchronous sync : {Synchronous::kFull, Synchronous::kNormal}) {
    const char* name = sync == Synchronous::kFull ? "FULL" : "NORMAL";
    // FULL waits for an fsync per commit (~4 ms on our VMs): fewer rounds keep the test short.
    const int commits = sync == Synchronous::kFull ? 400 : 2000;
    Options options;
    options.synchronous = sync;
    auto db = open_ok((dir_ / fmt::format("measure-{}.db", name)).string(), options);
    ASSERT_TRUE(db.exec("CREATE TABLE a(addr INTEGER PRIMARY KEY, owner TEXT NOT NULL)"));
    const auto start = Clock::now();
    for (int i = 0; i < commits; ++i) {
      auto r = db.transact([&](Database& d) -> Result<std::int64_t> {
        return d.execute("INSERT INTO a(addr, owner) VALUES(?, ?)", i, "container-id/eth0");
      });
      ASSERT_TRUE(r) << r.error().to_string();
    }
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    EXPECT_EQ(count_rows(db, "a"), commits);
    std::printf("sqlite WAL synchronous=%s: %d commits in %.3f s = %.0f commits/s\n", name, commits,
                seconds, commits / seconds);
    RecordProperty(fmt::format("commits_per_second_{}", name), static_cast<int>(commits / seconds));
  }
}

}  // namespace
}  // namespace weft::sqlite
