// sqlite::Statement: one prepared SQLite statement with typed binds and typed column reads.
//
// Contract: a Statement belongs to the Database that prepared it, is used on that Database's
// thread, and must not outlive it (the Database asserts this when it closes). Bind indices are
// 1-based (as `?1` in SQL), column indices 0-based (as sqlite3_column_*). Views returned by
// column_text/column_blob (and column<std::string_view / std::span>) are valid until the next
// step(), reset() or the Statement's destruction. A Statement taken from the Database's cache
// (Database::statement/query) is reset, has its bindings cleared and returns to the cache when
// destroyed; one from Database::prepare() is finalized.
//
// Supported C++ types. Bind: integers (not uint64: cast explicitly), bool (0/1), float/double,
// anything convertible to std::string_view (TEXT), to std::span<const uint8_t> (BLOB; an empty
// span binds a zero-length blob, not NULL), nullptr / std::nullopt (NULL), std::optional<T>.
// Column: the same, plus std::string, std::vector<uint8_t>; reading NULL as a non-optional type
// gives 0 / empty (sqlite's conversion); use std::optional<T> where NULL is meaningful.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "common/result.hpp"

struct sqlite3_stmt;

namespace weft::sqlite {

namespace detail {
class Connection;
// Implemented in sqlite.cpp: error with the connection's message and the SQL as context;
// returning a statement to the connection (cache it or finalize it).
Error connection_error(Connection& conn, int rc, std::string_view op, std::string_view sql);
void release_statement(Connection& conn, sqlite3_stmt* stmt, bool cached);

template <class T>
inline constexpr bool kIsOptional = false;
template <class T>
inline constexpr bool kIsOptional<std::optional<T>> = true;
template <class T>
inline constexpr bool kDependentFalse = false;
// Column types whose value does not point into the statement (safe to return past a reset).
template <class T>
inline constexpr bool kOwningColumn =
    !std::is_same_v<T, std::string_view> && !std::is_same_v<T, std::span<const std::uint8_t>>;
template <class T>
inline constexpr bool kOwningColumn<std::optional<T>> = kOwningColumn<T>;
}  // namespace detail

// The C++ value of one result row: the column type itself for one column, else a tuple.
template <class... Ts>
using Row = std::conditional_t<sizeof...(Ts) == 1, std::tuple_element_t<0, std::tuple<Ts...>>,
                               std::tuple<Ts...>>;

enum class ColumnType { kInteger, kFloat, kText, kBlob, kNull };

class Statement {
 public:
  Statement() = default;
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  bool valid() const { return stmt_ != nullptr; }
  // The SQL text as prepared (for logs).
  std::string_view sql() const;
  int parameter_count() const;

  Result<void> bind_null(int index);
  Result<void> bind_int64(int index, std::int64_t value);
  Result<void> bind_double(int index, double value);
  Result<void> bind_text(int index, std::string_view value);
  Result<void> bind_blob(int index, std::span<const std::uint8_t> value);
  template <class T>
  Result<void> bind(int index, const T& value);
  // Resets the statement, clears old bindings and binds ?1..?n; n must equal
  // parameter_count() (kInvalidArgument otherwise).
  template <class... Ts>
  Result<void> bind_all(const Ts&... values);

  // Runs to the next row: true when a row is available, false when done. Errors carry the
  // sqlite message and the SQL; SQLITE_BUSY -> kUnavailable, constraint -> kConflict, else kIo.
  Result<bool> step();
  // Steps until done, ignoring rows (for INSERT/UPDATE/DELETE/DDL).
  Result<void> drain();
  // Back to the start; bindings are kept (clear_bindings() drops them).
  void reset();
  void clear_bindings();

  int column_count() const;
  ColumnType column_type(int column) const;
  bool column_is_null(int column) const;
  std::int64_t column_int64(int column) const;
  double column_double(int column) const;
  std::string_view column_text(int column) const;
  std::span<const std::uint8_t> column_blob(int column) const;
  template <class T>
  T column(int column) const;
  // Columns 0..n-1 of the current row as Row<Ts...>.
  template <class... Ts>
  Row<Ts...> row() const;

 private:
  friend class detail::Connection;
  Statement(detail::Connection* conn, sqlite3_stmt* stmt, bool cached)
      : conn_(conn), stmt_(stmt), cached_(cached) {}
  Error error(int rc, std::string_view op) const;
  Result<void> check_bind(int rc, int index);
  template <class... Ts, std::size_t... Is>
  Row<Ts...> row_impl(std::index_sequence<Is...>) const;

  detail::Connection* conn_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
  bool cached_ = false;
};

template <class T>
Result<void> Statement::bind(int index, const T& value) {
  if constexpr (std::is_same_v<T, std::nullptr_t> || std::is_same_v<T, std::nullopt_t>) {
    return bind_null(index);
  } else if constexpr (detail::kIsOptional<T>) {
    return value ? bind(index, *value) : bind_null(index);
  } else if constexpr (std::is_same_v<T, bool>) {
    return bind_int64(index, value ? 1 : 0);
  } else if constexpr (std::is_integral_v<T>) {
    static_assert(sizeof(T) < sizeof(std::int64_t) || std::is_signed_v<T>,
                  "uint64 does not fit an sqlite INTEGER; cast explicitly");
    return bind_int64(index, static_cast<std::int64_t>(value));
  } else if constexpr (std::is_floating_point_v<T>) {
    return bind_double(index, static_cast<double>(value));
  } else if constexpr (std::is_convertible_v<const T&, std::string_view>) {
    return bind_text(index, std::string_view(value));
  } else if constexpr (std::is_convertible_v<const T&, std::span<const std::uint8_t>>) {
    return bind_blob(index, std::span<const std::uint8_t>(value));
  } else {
    static_assert(detail::kDependentFalse<T>, "unsupported sqlite bind type");
  }
}

template <class... Ts>
Result<void> Statement::bind_all(const Ts&... values) {
  reset();
  clear_bindings();
  if (parameter_count() != static_cast<int>(sizeof...(Ts))) {
    return make_error(Errc::kInvalidArgument, "sqlite bind: {} values for {} parameters in \"{}\"",
                      sizeof...(Ts), parameter_count(), sql());
  }
  Result<void> result;
  int index = 0;
  (void)((result = bind(++index, values), result.has_value()) && ...);
  return result;
}

template <class T>
T Statement::column(int column) const {
  if constexpr (detail::kIsOptional<T>) {
    if (column_is_null(column)) {
      return std::nullopt;
    }
    return this->column<typename T::value_type>(column);
  } else if constexpr (std::is_same_v<T, bool>) {
    return column_int64(column) != 0;
  } else if constexpr (std::is_integral_v<T>) {
    static_assert(sizeof(T) < sizeof(std::int64_t) || std::is_signed_v<T>,
                  "uint64 does not fit an sqlite INTEGER; read int64 and cast");
    return static_cast<T>(column_int64(column));
  } else if constexpr (std::is_floating_point_v<T>) {
    return static_cast<T>(column_double(column));
  } else if constexpr (std::is_same_v<T, std::string>) {
    return std::string(column_text(column));
  } else if constexpr (std::is_same_v<T, std::string_view>) {
    return column_text(column);
  } else if constexpr (std::is_same_v<T, std::vector<std::uint8_t>>) {
    const auto blob = column_blob(column);
    return std::vector<std::uint8_t>(blob.begin(), blob.end());
  } else if constexpr (std::is_same_v<T, std::span<const std::uint8_t>>) {
    return column_blob(column);
  } else {
    static_assert(detail::kDependentFalse<T>, "unsupported sqlite column type");
  }
}

template <class... Ts, std::size_t... Is>
Row<Ts...> Statement::row_impl(std::index_sequence<Is...>) const {
  if constexpr (sizeof...(Ts) == 1) {
    return column<Ts...>(0);
  } else {
    return Row<Ts...>(column<Ts>(static_cast<int>(Is))...);
  }
}

template <class... Ts>
Row<Ts...> Statement::row() const {
  static_assert(sizeof...(Ts) >= 1, "a row has at least one column");
  return row_impl<Ts...>(std::index_sequence_for<Ts...>{});
}

}  // namespace weft::sqlite
