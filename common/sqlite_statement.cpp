#include "common/sqlite_statement.hpp"

#include <boost/assert.hpp>
#include <sqlite3.h>

namespace weft::sqlite {

Statement::Statement(Statement&& other) noexcept
    : conn_(std::exchange(other.conn_, nullptr)),
      stmt_(std::exchange(other.stmt_, nullptr)),
      cached_(other.cached_) {}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    if (stmt_ != nullptr) {
      detail::release_statement(*conn_, stmt_, cached_);
    }
    conn_ = std::exchange(other.conn_, nullptr);
    stmt_ = std::exchange(other.stmt_, nullptr);
    cached_ = other.cached_;
  }
  return *this;
}

Statement::~Statement() {
  if (stmt_ != nullptr) {
    detail::release_statement(*conn_, stmt_, cached_);
  }
}

std::string_view Statement::sql() const {
  const char* text = stmt_ != nullptr ? sqlite3_sql(stmt_) : nullptr;
  return text != nullptr ? std::string_view(text) : std::string_view();
}

int Statement::parameter_count() const {
  BOOST_ASSERT(stmt_ != nullptr);
  return sqlite3_bind_parameter_count(stmt_);
}

Error Statement::error(int rc, std::string_view op) const {
  return detail::connection_error(*conn_, rc, op, sql());
}

Result<void> Statement::check_bind(int rc, int index) {
  if (rc == SQLITE_OK) {
    return {};
  }
  return error(rc, fmt::format("bind ?{}", index));
}

Result<void> Statement::bind_null(int index) {
  BOOST_ASSERT(stmt_ != nullptr);
  return check_bind(sqlite3_bind_null(stmt_, index), index);
}

Result<void> Statement::bind_int64(int index, std::int64_t value) {
  BOOST_ASSERT(stmt_ != nullptr);
  return check_bind(sqlite3_bind_int64(stmt_, index, value), index);
}

Result<void> Statement::bind_double(int index, double value) {
  BOOST_ASSERT(stmt_ != nullptr);
  return check_bind(sqlite3_bind_double(stmt_, index, value), index);
}

Result<void> Statement::bind_text(int index, std::string_view value) {
  BOOST_ASSERT(stmt_ != nullptr);
  // A null data pointer would bind NULL; an empty string_view may have one.
  const char* data = value.data() != nullptr ? value.data() : "";
  return check_bind(
      sqlite3_bind_text64(stmt_, index, data, value.size(), SQLITE_TRANSIENT, SQLITE_UTF8), index);
}

Result<void> Statement::bind_blob(int index, std::span<const std::uint8_t> value) {
  BOOST_ASSERT(stmt_ != nullptr);
  if (value.empty()) {
    // sqlite3_bind_blob with a null pointer binds NULL; an empty blob is not NULL.
    return check_bind(sqlite3_bind_zeroblob(stmt_, index, 0), index);
  }
  return check_bind(sqlite3_bind_blob64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT),
                    index);
}

Result<bool> Statement::step() {
  BOOST_ASSERT(stmt_ != nullptr);
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) {
    return true;
  }
  if (rc == SQLITE_DONE) {
    return false;
  }
  return error(rc, "step");
}

Result<void> Statement::drain() {
  for (;;) {
    auto has_row = step();
    if (!has_row) {
      return has_row.error();
    }
    if (!*has_row) {
      return {};
    }
  }
}

void Statement::reset() {
  BOOST_ASSERT(stmt_ != nullptr);
  // Returns the error of the last step, which step() already reported.
  (void)sqlite3_reset(stmt_);
}

void Statement::clear_bindings() {
  BOOST_ASSERT(stmt_ != nullptr);
  (void)sqlite3_clear_bindings(stmt_);
}

int Statement::column_count() const {
  return sqlite3_column_count(stmt_);
}

ColumnType Statement::column_type(int column) const {
  switch (sqlite3_column_type(stmt_, column)) {
    case SQLITE_INTEGER:
      return ColumnType::kInteger;
    case SQLITE_FLOAT:
      return ColumnType::kFloat;
    case SQLITE_TEXT:
      return ColumnType::kText;
    case SQLITE_BLOB:
      return ColumnType::kBlob;
    default:
      return ColumnType::kNull;
  }
}

bool Statement::column_is_null(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

std::int64_t Statement::column_int64(int column) const {
  return sqlite3_column_int64(stmt_, column);
}

double Statement::column_double(int column) const {
  return sqlite3_column_double(stmt_, column);
}

std::string_view Statement::column_text(int column) const {
  // Pointer first, then the size (the documented order: the size is of the converted value).
  const auto* text = sqlite3_column_text(stmt_, column);
  const int size = sqlite3_column_bytes(stmt_, column);
  if (text == nullptr) {
    return {};
  }
  return {reinterpret_cast<const char*>(text), static_cast<std::size_t>(size)};
}

std::span<const std::uint8_t> Statement::column_blob(int column) const {
  const void* data = sqlite3_column_blob(stmt_, column);
  const int size = sqlite3_column_bytes(stmt_, column);
  if (data == nullptr) {
    return {};  // NULL or a zero-length blob
  }
  return {static_cast<const std::uint8_t*>(data), static_cast<std::size_t>(size)};
}

}  // namespace weft::sqlite
