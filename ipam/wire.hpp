// Byte helpers for the ipam encodings: big-endian writers and a bounds-checked reader.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/uint128.hpp"

namespace weft::ipam::wire {

inline void put(std::vector<std::uint8_t>& out, U128 v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) {
    out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  }
}
inline void put_string(std::vector<std::uint8_t>& out, std::string_view s) {
  put(out, s.size(), 2);
  out.insert(out.end(), s.begin(), s.end());
}

// Reads from the front of a span; every getter fails (returns false) past the end.
class Reader {
 public:
  explicit Reader(std::span<const std::uint8_t> bytes) : bytes_(bytes) {}
  bool get(U128& v, int bytes) {
    if (bytes_.size() < static_cast<std::size_t>(bytes)) {
      return false;
    }
    v = 0;
    for (int i = 0; i < bytes; ++i) {
      v = (v << 8) | bytes_[static_cast<std::size_t>(i)];
    }
    bytes_ = bytes_.subspan(static_cast<std::size_t>(bytes));
    return true;
  }
  template <class T>
  bool get_int(T& v) {
    U128 w = 0;
    if (!get(w, sizeof(T))) {
      return false;
    }
    v = static_cast<T>(w);
    return true;
  }
  bool get_string(std::string& s, std::size_t max) {
    std::uint16_t n = 0;
    if (!get_int(n) || n > max || bytes_.size() < n) {
      return false;
    }
    s.assign(reinterpret_cast<const char*>(bytes_.data()), n);
    bytes_ = bytes_.subspan(n);
    return true;
  }
  std::span<const std::uint8_t> rest() const { return bytes_; }
  bool done() const { return bytes_.empty(); }

 private:
  std::span<const std::uint8_t> bytes_;
};

}  // namespace weft::ipam::wire
