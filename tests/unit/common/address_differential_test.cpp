// Differential test of the address types: 10,000 seeded random operations, each checked
// against a deliberately naive reference written here: addresses as big-endian byte arrays,
// arithmetic byte by byte with carry and borrow, prefixes bit by bit, RFC 5952 text by
// trying every zero run, range_to_cidrs by trying every prefix length. Text parsing and
// formatting are also checked against glibc's inet_pton/inet_ntop.
//
// A failure prints the seed; rerun it with WEFT_TEST_SEED=<seed>.
#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/address.hpp"
#include "common/rng.hpp"
#include <arpa/inet.h>

namespace weft {
namespace {

// ---- The reference ------------------------------------------------------------------

// An address: `width` bytes (4 or 16) in b[0..width), most significant first.
struct Ref {
  int width = 4;
  std::array<std::uint8_t, 16> b{};
  int bits() const { return width * 8; }
  bool operator==(const Ref&) const = default;
};

// A 128-bit number (offsets, sizes), 16 bytes most significant first.
using Num = std::array<std::uint8_t, 16>;

bool get_bit(const Ref& r, int i) {
  return ((r.b[i / 8] >> (7 - i % 8)) & 1) != 0;
}

void set_bit(Ref& r, int i, bool v) {
  const auto mask = static_cast<std::uint8_t>(1 << (7 - i % 8));
  r.b[i / 8] = static_cast<std::uint8_t>(v ? (r.b[i / 8] | mask) : (r.b[i / 8] & ~mask));
}

// a + n, or nullopt when the sum does not fit the address width.
std::optional<Ref> ref_add(const Ref& a, const Num& n) {
  for (int i = 0; i < 16 - a.width; ++i) {
    if (n[i] != 0) {
      return std::nullopt;
    }
  }
  Ref out = a;
  int carry = 0;
  for (int i = a.width - 1; i >= 0; --i) {
    const int sum = a.b[i] + n[16 - a.width + i] + carry;
    out.b[i] = static_cast<std::uint8_t>(sum & 0xff);
    carry = sum >> 8;
  }
  if (carry != 0) {
    return std::nullopt;
  }
  return out;
}

// a - n, or nullopt when n > a.
std::optional<Ref> ref_sub(const Ref& a, const Num& n) {
  for (int i = 0; i < 16 - a.width; ++i) {
    if (n[i] != 0) {
      return std::nullopt;
    }
  }
  Ref out = a;
  int borrow = 0;
  for (int i = a.width - 1; i >= 0; --i) {
    int diff = a.b[i] - n[16 - a.width + i] - borrow;
    borrow = diff < 0 ? 1 : 0;
    out.b[i] = static_cast<std::uint8_t>(diff + 256 * borrow);
  }
  if (borrow != 0) {
    return std::nullopt;
  }
  return out;
}

// b - a as a number (a <= b, same width).
Num ref_distance(const Ref& a, const Ref& b) {
  Num n{};
  int borrow = 0;
  for (int i = a.width - 1; i >= 0; --i) {
    int diff = b.b[i] - a.b[i] - borrow;
    borrow = diff < 0 ? 1 : 0;
    n[16 - a.width + i] = static_cast<std::uint8_t>(diff + 256 * borrow);
  }
  return n;
}

int ref_cmp(const Ref& a, const Ref& b) {
  for (int i = 0; i < a.width; ++i) {
    if (a.b[i] != b.b[i]) {
      return a.b[i] < b.b[i] ? -1 : 1;
    }
  }
  return 0;
}

int num_cmp(const Num& a, const Num& b) {
  for (int i = 0; i < 16; ++i) {
    if (a[i] != b[i]) {
      return a[i] < b[i] ? -1 : 1;
    }
  }
  return 0;
}

Num one() {
  Num n{};
  n[15] = 1;
  return n;
}

Ref ref_network(Ref r, int prefix) {
  for (int i = prefix; i < r.bits(); ++i) {
    set_bit(r, i, false);
  }
  return r;
}

Ref ref_last(Ref r, int prefix) {
  for (int i = prefix; i < r.bits(); ++i) {
    set_bit(r, i, true);
  }
  return r;
}

bool ref_same_prefix(const Ref& a, const Ref& b, int prefix) {
  if (a.width != b.width) {
    return false;
  }
  for (int i = 0; i < prefix; ++i) {
    if (get_bit(a, i) != get_bit(b, i)) {
      return false;
    }
  }
  return true;
}

// The host mask of a block: size - 1 as a number.
Num ref_host_mask(int width, int prefix) {
  Ref r{16, {}};
  for (int i = 128 - (width * 8 - prefix); i < 128; ++i) {
    set_bit(r, i, true);
  }
  return r.b;
}

// Greedy: at each step the shortest prefix whose block starts at `cur` (no host bits) and
// ends at or before `last`.
std::vector<std::pair<Ref, int>> ref_range_to_cidrs(Ref cur, const Ref& last) {
  std::vector<std::pair<Ref, int>> out;
  for (;;) {
    int trailing_zeros = 0;
    while (trailing_zeros < cur.bits() && !get_bit(cur, cur.bits() - 1 - trailing_zeros)) {
      ++trailing_zeros;
    }
    int prefix = cur.bits() - trailing_zeros;
    while (ref_cmp(ref_last(cur, prefix), last) > 0) {
      ++prefix;
    }
    out.emplace_back(cur, prefix);
    const Ref block_last = ref_last(cur, prefix);
    if (block_last == last) {
      return out;
    }
    cur = *ref_add(block_last, one());
  }
}

std::string ref_dotted(const std::uint8_t* b) {
  return std::to_string(b[0]) + "." + std::to_string(b[1]) + "." + std::to_string(b[2]) + "." +
         std::to_string(b[3]);
}

std::string hex(unsigned v) {
  char buf[8];
  std::snprintf(buf, sizeof(buf), "%x", v);
  return buf;
}

std::string ref_format(const Ref& r) {
  if (r.width == 4) {
    return ref_dotted(r.b.data());
  }
  bool mapped = r.b[10] == 0xff && r.b[11] == 0xff;
  for (int i = 0; i < 10; ++i) {
    mapped = mapped && r.b[i] == 0;
  }
  if (mapped) {
    return "::ffff:" + ref_dotted(&r.b[12]);
  }
  unsigned w[8];
  for (int i = 0; i < 8; ++i) {
    w[i] = static_cast<unsigned>(r.b[2 * i] * 256 + r.b[2 * i + 1]);
  }
  int best_start = 0;
  int best_len = 0;
  for (int s = 0; s < 8; ++s) {
    for (int len = 1; s + len <= 8; ++len) {
      bool zeros = true;
      for (int k = s; k < s + len; ++k) {
        zeros = zeros && w[k] == 0;
      }
      if (zeros && len > best_len) {
        best_start = s;
        best_len = len;
      }
    }
  }
  const auto join = [&](int from, int to) {
    std::string s;
    for (int k = from; k < to; ++k) {
      s += (k > from ? ":" : "") + hex(w[k]);
    }
    return s;
  };
  if (best_len < 2) {
    return join(0, 8);
  }
  return join(0, best_start) + "::" + join(best_start + best_len, 8);
}

// ---- Conversions between the reference and the real types ----------------------------

Ref to_ref(const IpAddress& a) {
  Ref r{static_cast<int>(a.bytes().size()), {}};
  std::copy(a.bytes().begin(), a.bytes().end(), r.b.begin());
  return r;
}

IpAddress to_ip(const Ref& r) {
  return *IpAddress::from_bytes({r.b.data(), std::size_t(r.width)});
}

Num to_num(U128 v) {
  Num n{};
  for (int i = 15; i >= 0; --i) {
    n[i] = static_cast<std::uint8_t>(v & 0xff);
    v >>= 8;
  }
  return n;
}

U128 to_u128(const Num& n) {
  U128 v = 0;
  for (const std::uint8_t b : n) {
    v = v << 8 | b;
  }
  return v;
}

// ---- Random inputs, biased towards edges ----------------------------------------------

struct Gen {
  Rng& rng;

  int width() { return rng.chance(0.5) ? 4 : 16; }

  Ref address(int width) {
    Ref r{width, {}};
    for (int i = 0; i < width; i += 2) {
      const double p = rng.unit();
      const unsigned word = p < 0.3   ? 0
                            : p < 0.4 ? 0xffff
                            : p < 0.5 ? 1 + rng.uniform(15)
                                      : rng.uniform(0x10000);
      r.b[i] = static_cast<std::uint8_t>(word >> 8);
      r.b[i + 1] = static_cast<std::uint8_t>(word);
    }
    if (width == 16 && rng.chance(0.1)) {  // v4-mapped or v4-compatible
      std::fill(r.b.begin(), r.b.begin() + 12, 0);
      r.b[10] = r.b[11] = rng.chance(0.5) ? 0xff : 0;
    }
    return r;
  }

  // Keeps the first `keep` bits of base; the rest random, all zeros or all ones.
  Ref near(const Ref& base, int keep) {
    Ref r = base;
    const double p = rng.unit();
    for (int i = keep; i < r.bits(); ++i) {
      set_bit(r, i, p < 0.2 ? false : p < 0.4 ? true : rng.chance(0.5));
    }
    return r;
  }

  int prefix(int width) { return static_cast<int>(rng.uniform(width * 8 + 1)); }

  Num offset(const Ref& a) {
    const double p = rng.unit();
    if (p < 0.3) {
      return to_num(rng.uniform(300));
    }
    const U128 space = u128_mask(a.bits());
    const U128 value = to_u128(ref_distance(Ref{a.width, {}}, a));
    if (p < 0.5) {  // right at the top or bottom edge
      const U128 edge = rng.chance(0.5) ? space - value : value;
      return to_num(edge + rng.uniform(3) - 1);
    }
    const int bits = static_cast<int>(rng.uniform(129));
    const U128 random = make_u128(rng.next_u64(), rng.next_u64());
    return to_num(rng.chance(0.2) ? u128_mask(bits) : random & u128_mask(bits));
  }
};

// ---- Operations ------------------------------------------------------------------------

struct Stats {
  int parsed = 0;
  int rejected = 0;
  int overflowed = 0;
  int in_range = 0;
};

// Valid text for r in a random RFC 4291 form: any case, optional leading zeros, "::" over
// any zero run, a trailing dotted quad.
std::string random_text(Gen& g, const Ref& r) {
  if (r.width == 4) {
    return ref_dotted(r.b.data());
  }
  const bool dotted = g.rng.chance(0.25);
  const int words = dotted ? 6 : 8;
  std::vector<std::string> items;
  for (int i = 0; i < words; ++i) {
    std::string h = hex(static_cast<unsigned>(r.b[2 * i] * 256 + r.b[2 * i + 1]));
    h = std::string(g.rng.uniform(5 - h.size()), '0') + h;
    for (char& c : h) {
      c = g.rng.chance(0.3) ? static_cast<char>(std::toupper(c)) : c;
    }
    items.push_back(h);
  }
  if (dotted) {
    items.push_back(ref_dotted(&r.b[12]));
  }
  const auto join = [&](std::size_t from, std::size_t to) {
    std::string s;
    for (std::size_t k = from; k < to; ++k) {
      s += (k > from ? ":" : "") + items[k];
    }
    return s;
  };
  const int start = static_cast<int>(g.rng.uniform(words));
  int len = 0;
  while (start + len < words && r.b[2 * (start + len)] == 0 && r.b[2 * (start + len) + 1] == 0) {
    ++len;
  }
  if (len == 0 || g.rng.chance(0.3)) {
    return join(0, items.size());
  }
  len = 1 + static_cast<int>(g.rng.uniform(len));
  return join(0, start) + "::" + join(start + len, items.size());
}

std::string mutate(Gen& g, std::string text) {
  static constexpr std::string_view kAlphabet = "0123456789abcdefABCDEFgx::..%/ ";
  const int edits = 1 + static_cast<int>(g.rng.uniform(3));
  for (int e = 0; e < edits; ++e) {
    const std::size_t at = g.rng.uniform(text.size() + 1);
    const char c = kAlphabet[g.rng.uniform(kAlphabet.size())];
    const auto kind = g.rng.uniform(4);
    if (kind == 0 || at == text.size()) {
      text.insert(at, 1, c);
    } else if (kind == 1) {
      text.erase(at, 1);
    } else if (kind == 2) {
      text[at] = c;
    } else {
      text.insert(at, text.substr(at, g.rng.uniform(6)));
    }
  }
  return text;
}

// `valid`: the text was generated in a valid form (so glibc must accept it too).
void check_text(const std::string& text, bool valid, Stats& stats) {
  SCOPED_TRACE("text \"" + text + "\"");
  Ref want{4, {}};
  const bool v4 = inet_pton(AF_INET, text.c_str(), want.b.data()) == 1;
  const bool v6 = !v4 && inet_pton(AF_INET6, text.c_str(), want.b.data()) == 1;
  want.width = v6 ? 16 : 4;
  EXPECT_TRUE(v4 || v6 || !valid);
  auto got = parse_ip_address(text);
  ASSERT_EQ(bool(got), v4 || v6) << (got ? got->to_string() : got.error().message);
  if (!got) {
    ++stats.rejected;
    return;
  }
  ++stats.parsed;
  EXPECT_EQ(to_ref(*got), want);
  EXPECT_TRUE(got->value() == to_u128(ref_distance(Ref{want.width, {}}, want)));
  const std::string formatted = got->to_string();
  EXPECT_EQ(formatted, ref_format(want));
  char ntop[INET6_ADDRSTRLEN];
  ASSERT_NE(inet_ntop(v4 ? AF_INET : AF_INET6, want.b.data(), ntop, sizeof(ntop)), nullptr);
  // glibc prints the deprecated v4-compatible form ::a.b.c.d; RFC 5952 and we use hex.
  bool v4_compatible = v6 && (want.b[12] != 0 || want.b[13] != 0);
  for (int i = 0; i < 12; ++i) {
    v4_compatible = v4_compatible && want.b[i] == 0;
  }
  if (!v4_compatible) {
    EXPECT_EQ(formatted, ntop);
  }
  EXPECT_EQ(*parse_ip_address(formatted), *got);
}

void check_arithmetic(Gen& g, Stats& stats) {
  const Ref a = g.address(g.width());
  const IpAddress ip = to_ip(a);
  const Num n = g.offset(a);
  const std::optional<Ref> sum = ref_add(a, n);
  const std::optional<Ref> diff = ref_sub(a, n);
  const auto add = ip.add(to_u128(n));
  const auto sub = ip.subtract(to_u128(n));
  SCOPED_TRACE(fmt::format("{} +/- {}", ip, u128_to_string(to_u128(n))));
  ASSERT_EQ(bool(add), sum.has_value());
  ASSERT_EQ(bool(sub), diff.has_value());
  (sum ? stats.in_range : stats.overflowed)++;
  if (sum) {
    EXPECT_EQ(to_ref(*add), *sum);
    EXPECT_TRUE(*ip.distance_to(*add) == to_u128(n));
  } else {
    EXPECT_EQ(add.error().code, make_error_code(Errc::kExhausted));
  }
  if (diff) {
    EXPECT_EQ(to_ref(*sub), *diff);
    EXPECT_TRUE(*sub->distance_to(ip) == to_u128(n));
  }
  const auto next = ip.next();
  const auto prev = ip.prev();
  ASSERT_EQ(bool(next), ref_add(a, one()).has_value());
  ASSERT_EQ(bool(prev), ref_sub(a, one()).has_value());
  if (next) {
    EXPECT_EQ(to_ref(*next), *ref_add(a, one()));
  }
  if (prev) {
    EXPECT_EQ(to_ref(*prev), *ref_sub(a, one()));
  }
  const Ref b = g.near(a, g.prefix(a.width));
  const auto distance = ip.distance_to(to_ip(b));
  ASSERT_EQ(bool(distance), ref_cmp(a, b) <= 0);
  if (distance) {
    EXPECT_EQ(to_num(*distance), ref_distance(a, b));
  }
  EXPECT_EQ(ip < to_ip(b), ref_cmp(a, b) < 0);
}

void check_cidr(Gen& g) {
  const Ref a = g.address(g.width());
  const int prefix = g.prefix(a.width);
  const Cidr c = *Cidr::containing(to_ip(a), prefix);
  SCOPED_TRACE(c.to_string());
  const Ref net = ref_network(a, prefix);
  EXPECT_EQ(to_ref(c.network()), net);
  EXPECT_EQ(to_ref(c.last()), ref_last(a, prefix));
  const Num mask = ref_host_mask(a.width, prefix);
  EXPECT_EQ(to_num(c.last_offset()), mask);
  const std::optional<Ref> size = ref_add(Ref{16, mask}, one());
  EXPECT_TRUE(c.size() == (size ? to_u128(size->b) : kU128Max));
  EXPECT_EQ(*parse_cidr(c.to_string()), c);
  const Cidr host = *Cidr::make_host(to_ip(a), prefix);
  EXPECT_EQ(*parse_host_cidr(host.to_string()), host);
  EXPECT_EQ(bool(parse_cidr(host.to_string())), a == net);

  const Ref probe = g.near(a, g.prefix(a.width));
  EXPECT_EQ(c.contains(to_ip(probe)), ref_same_prefix(net, probe, prefix));
  const Ref other_family = g.address(a.width == 4 ? 16 : 4);
  EXPECT_FALSE(c.contains(to_ip(other_family)));

  const Num n = g.offset(net);
  const auto nth = c.nth(to_u128(n));
  ASSERT_EQ(bool(nth), num_cmp(n, mask) <= 0);
  if (nth) {
    EXPECT_EQ(to_ref(*nth), *ref_add(net, n));
  }
  const auto halves = c.split();
  ASSERT_EQ(bool(halves), prefix < a.bits());
  if (halves) {
    Ref high = net;
    set_bit(high, prefix, true);
    EXPECT_EQ(to_ref(halves->first.network()), net);
    EXPECT_EQ(to_ref(halves->second.network()), high);
    EXPECT_EQ(halves->second.prefix_length(), prefix + 1);
  }

  const int prefix2 = g.prefix(a.width);
  const Cidr d = *Cidr::containing(to_ip(g.near(a, g.prefix(a.width))), prefix2);
  const Ref net2 = to_ref(d.network());
  const int common = std::min(prefix, prefix2);
  EXPECT_EQ(c.overlaps(d), ref_same_prefix(net, net2, common)) << d;
  EXPECT_EQ(c.contains(d), prefix <= prefix2 && ref_same_prefix(net, net2, prefix)) << d;
}

void check_range(Gen& g) {
  const Ref a = g.address(g.width());
  const Ref b = g.near(a, g.prefix(a.width));
  const Ref& first = ref_cmp(a, b) <= 0 ? a : b;
  const Ref& last = ref_cmp(a, b) <= 0 ? b : a;
  const AddressRange range = *AddressRange::make(to_ip(first), to_ip(last));
  SCOPED_TRACE(range.to_string());
  const auto cidrs = range_to_cidrs(range);
  const auto want = ref_range_to_cidrs(first, last);
  ASSERT_EQ(cidrs.size(), want.size());
  std::optional<Ref> expect_next = first;
  for (std::size_t i = 0; i < cidrs.size(); ++i) {
    EXPECT_EQ(to_ref(cidrs[i].address()), want[i].first) << i;
    EXPECT_EQ(cidrs[i].prefix_length(), want[i].second) << i;
    // Coverage: no host bits, each block starts right after the previous one.
    EXPECT_FALSE(cidrs[i].has_host_bits());
    ASSERT_TRUE(expect_next.has_value());
    EXPECT_EQ(to_ref(cidrs[i].network()), *expect_next);
    expect_next = ref_add(to_ref(cidrs[i].last()), one());
  }
  EXPECT_EQ(to_ref(cidrs.back().last()), last);

  const Ref c = g.near(a, g.prefix(a.width));
  const Ref d = g.near(c, g.prefix(a.width));
  const AddressRange other =
      *AddressRange::make(to_ip(ref_cmp(c, d) <= 0 ? c : d), to_ip(ref_cmp(c, d) <= 0 ? d : c));
  const Ref lo = ref_cmp(first, to_ref(other.first())) >= 0 ? first : to_ref(other.first());
  const Ref hi = ref_cmp(last, to_ref(other.last())) <= 0 ? last : to_ref(other.last());
  const auto meet = intersect(range, other);
  ASSERT_EQ(meet.has_value(), ref_cmp(lo, hi) <= 0) << other;
  EXPECT_EQ(range.overlaps(other), meet.has_value());
  if (meet) {
    EXPECT_EQ(to_ref(meet->first()), lo);
    EXPECT_EQ(to_ref(meet->last()), hi);
  }
  EXPECT_EQ(range.contains(to_ip(c)), ref_cmp(first, c) <= 0 && ref_cmp(c, last) <= 0);
}

std::uint64_t test_seed() {
  if (const char* env = std::getenv("WEFT_TEST_SEED")) {
    return std::strtoull(env, nullptr, 0);
  }
  return 0x5eedadd7;
}

TEST(AddressDifferential, RandomOperationsMatchNaiveReference) {
  const std::uint64_t seed = test_seed();
  SCOPED_TRACE(fmt::format("seed {} (rerun with WEFT_TEST_SEED={})", seed, seed));
  SeededRng rng(seed);
  Gen g{rng};
  Stats stats;
  constexpr int kOperations = 10000;
  constexpr const char* kNames[] = {"parse/format", "parse mutated", "arithmetic", "cidr", "range"};
  int counts[5] = {};
  for (int i = 0; i < kOperations && !HasFailure(); ++i) {
    const auto op = static_cast<int>(rng.uniform(5));
    SCOPED_TRACE(fmt::format("operation {}: {}", i, kNames[op]));
    ++counts[op];
    switch (op) {
      case 0:
        check_text(random_text(g, g.address(g.width())), true, stats);
        break;
      case 1:
        check_text(mutate(g, random_text(g, g.address(g.width()))), false, stats);
        break;
      case 2:
        check_arithmetic(g, stats);
        break;
      case 3:
        check_cidr(g);
        break;
      default:
        check_range(g);
        break;
    }
  }
  if (HasFailure()) {
    return;  // the loop stopped early; the coverage counts below would only add noise
  }
  // The random inputs reach both sides of every decision.
  for (const int count : counts) {
    EXPECT_GT(count, 1500);
  }
  EXPECT_GT(stats.rejected, 500);
  EXPECT_GT(stats.parsed, 1500);
  EXPECT_GT(stats.overflowed, 100);
  EXPECT_GT(stats.in_range, 100);
  std::printf("parsed %d, rejected %d, overflowed %d, in range %d\n", stats.parsed, stats.rejected,
              stats.overflowed, stats.in_range);
}

}  // namespace
}  // namespace weft
