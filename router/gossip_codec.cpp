#include "router/gossip_codec.hpp"

#include <algorithm>
#include <string_view>

#include <boost/assert.hpp>

namespace weft::router {
namespace {

constexpr std::size_t kNameBytes = 6;
constexpr std::size_t kStampBytes = kNameBytes + 8 + 8;
constexpr std::size_t kMinRecordBytes = kNameBytes + 8 + 8 + 1 + 2 + 2;
// Highest record version accepted from the wire (see read_record).
constexpr std::uint64_t kMaxRecordVersion = std::uint64_t{1} << 62;
constexpr std::size_t kMinConnectionBytes = kNameBytes + 1 + 1;
constexpr std::uint8_t kOutbound = 0x01;
constexpr std::uint8_t kEstablished = 0x02;

class Writer {
 public:
  explicit Writer(std::size_t reserve) { out_.reserve(reserve); }
  void u8(std::uint8_t v) { out_.push_back(v); }
  void u16(std::uint16_t v) { be(v, 2); }
  void u32(std::uint32_t v) { be(v, 4); }
  void u64(std::uint64_t v) { be(v, 8); }
  void name(PeerName n) { be(n.value, kNameBytes); }
  void bytes(std::span<const std::uint8_t> b) { out_.insert(out_.end(), b.begin(), b.end()); }
  // A string of at most 255 bytes (longer ones are cut: nicknames are informational).
  void short_string(std::string_view s) {
    const std::size_t n = std::min<std::size_t>(s.size(), 255);
    u8(static_cast<std::uint8_t>(n));
    out_.insert(out_.end(), s.begin(), s.begin() + static_cast<std::ptrdiff_t>(n));
  }
  std::vector<std::uint8_t> take() { return std::move(out_); }

 private:
  void be(std::uint64_t v, std::size_t n) {
    for (std::size_t i = n; i-- > 0;) {
      out_.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
    }
  }
  std::vector<std::uint8_t> out_;
};

// Reads big-endian fields; every read fails (and stays failed) past the end.
class Reader {
 public:
  explicit Reader(std::span<const std::uint8_t> in) : in_(in) {}
  bool ok() const { return ok_; }
  std::size_t left() const { return ok_ ? in_.size() - pos_ : 0; }
  std::uint8_t u8() { return static_cast<std::uint8_t>(be(1)); }
  std::uint16_t u16() { return static_cast<std::uint16_t>(be(2)); }
  std::uint32_t u32() { return static_cast<std::uint32_t>(be(4)); }
  std::uint64_t u64() { return be(8); }
  PeerName name() { return PeerName{be(kNameBytes)}; }
  void skip_short_string() { take(u8()); }
  std::string short_string() {
    const std::size_t n = u8();
    if (!take(n)) {
      return {};
    }
    return std::string(reinterpret_cast<const char*>(in_.data() + pos_ - n), n);
  }
  std::span<const std::uint8_t> bytes(std::size_t n) {
    if (!take(n)) {
      return {};
    }
    return in_.subspan(pos_ - n, n);
  }
  std::span<const std::uint8_t> rest() {
    auto r = ok_ ? in_.subspan(pos_) : std::span<const std::uint8_t>{};
    pos_ = in_.size();
    return r;
  }

 private:
  bool take(std::size_t n) {
    if (!ok_ || in_.size() - pos_ < n) {
      ok_ = false;
      return false;
    }
    pos_ += n;
    return true;
  }
  std::uint64_t be(std::size_t n) {
    if (!take(n)) {
      return 0;
    }
    std::uint64_t v = 0;
    for (std::size_t i = pos_ - n; i < pos_; ++i) {
      v = (v << 8) | in_[i];
    }
    return v;
  }
  std::span<const std::uint8_t> in_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

Error malformed(std::string_view what) {
  return make_error(Errc::kMalformed, "malformed mesh message: {}", what);
}

void write_record(Writer& w, const PeerRecord& r) {
  BOOST_ASSERT(r.connections.size() <= 0xffff);
  w.name(r.name);
  w.u64(r.uid);
  w.u64(r.version);
  w.short_string(r.nickname);
  w.u16(static_cast<std::uint16_t>(r.connections.size()));
  for (const ConnectionRecord& c : r.connections) {
    w.name(c.name);
    w.u8(static_cast<std::uint8_t>((c.outbound ? kOutbound : 0) |
                                   (c.established ? kEstablished : 0)));
    w.short_string(c.address);
  }
  BOOST_ASSERT(r.datapath.size() <= kMaxDatapathBytes);
  w.u16(static_cast<std::uint16_t>(r.datapath.size()));
  w.bytes(r.datapath);
}

std::size_t record_size_hint(const PeerRecord& r) {
  return kMinRecordBytes + r.nickname.size() + r.connections.size() * (kMinConnectionBytes + 24) +
         r.datapath.size();
}

// Reads one record; with `keep` false the record is checked the same way but its strings
// and connections are not stored (a record we already have costs no allocation).
Result<void> read_record(Reader& r, PeerRecord& rec, const RecordFilter& want) {
  rec.name = r.name();
  rec.uid = r.u64();
  rec.version = r.u64();
  // A version grows by one per change of a peer's record, so 2^62 is never reached honestly;
  // refusing more keeps `version + 1` (a peer moving above a stale copy of itself) from
  // wrapping to 0. Found by the gossip fuzz target.
  if (rec.version > kMaxRecordVersion) {
    return malformed("record version out of range");
  }
  const bool keep = !want || want(RecordStamp{rec.name, rec.version, rec.uid});
  if (keep) {
    rec.nickname = r.short_string();
  } else {
    r.skip_short_string();
  }
  const std::size_t count = r.u16();
  if (!r.ok()) {
    return malformed("truncated record");
  }
  if (rec.name.empty()) {
    return malformed("record with an empty peer name");
  }
  if (count > r.left() / kMinConnectionBytes) {
    return malformed("connection count over the bytes present");
  }
  if (keep) {
    rec.connections.reserve(count);
  }
  PeerName previous;
  for (std::size_t i = 0; i < count; ++i) {
    ConnectionRecord c;
    c.name = r.name();
    const std::uint8_t flags = r.u8();
    if (keep) {
      c.address = r.short_string();
    } else {
      r.skip_short_string();
    }
    if (!r.ok()) {
      return malformed("truncated connection");
    }
    if ((flags & ~(kOutbound | kEstablished)) != 0) {
      return malformed("unknown connection flags");
    }
    if (c.name.empty() || c.name == rec.name || (i > 0 && !(previous < c.name))) {
      return malformed("connections not in strictly increasing name order");
    }
    previous = c.name;
    if (keep) {
      c.outbound = (flags & kOutbound) != 0;
      c.established = (flags & kEstablished) != 0;
      rec.connections.push_back(std::move(c));
    }
  }
  const std::size_t dp_len = r.u16();
  const auto dp = r.bytes(dp_len);
  if (!r.ok()) {
    return malformed("truncated datapath info");
  }
  if (dp_len > kMaxDatapathBytes) {
    return malformed("datapath info over the limit");
  }
  if (keep) {
    rec.datapath.assign(dp.begin(), dp.end());
  }
  if (!keep) {
    rec.name = PeerName{};  // tells the caller to drop it
  }
  return {};
}

template <class Get>
std::vector<std::uint8_t> encode_records(std::size_t n, Get get) {
  std::size_t size = 4;
  for (std::size_t i = 0; i < n; ++i) {
    size += record_size_hint(get(i));
  }
  Writer w(size);
  w.u32(static_cast<std::uint32_t>(n));
  for (std::size_t i = 0; i < n; ++i) {
    write_record(w, get(i));
  }
  return w.take();
}

}  // namespace

std::vector<std::uint8_t> encode_message(const MeshMessage& m) {
  Writer w(16 + m.payload.size());
  w.u8(static_cast<std::uint8_t>(m.type));
  switch (m.type) {
    case MessageType::kHeartbeat:
      w.u8(m.flags);
      break;
    case MessageType::kUpdate:
      w.u8(m.channel);
      break;
    case MessageType::kDigest:
      w.u8(m.channel);
      w.u8(m.flags);
      break;
    case MessageType::kUnicast:
      w.u8(m.channel);
      w.u8(m.hops);
      w.name(m.source);
      w.name(m.dest);
      break;
    case MessageType::kBroadcast:
      w.u8(m.channel);
      w.u8(m.hops);
      w.name(m.source);
      break;
  }
  if (m.type != MessageType::kHeartbeat) {
    w.bytes(m.payload);
  }
  return w.take();
}

Result<MeshMessage> parse_message(std::span<const std::uint8_t> bytes) {
  Reader r(bytes);
  MeshMessage m;
  const std::uint8_t type = r.u8();
  switch (type) {
    case static_cast<std::uint8_t>(MessageType::kHeartbeat):
      m.flags = r.u8();
      break;
    case static_cast<std::uint8_t>(MessageType::kUpdate):
      m.channel = r.u8();
      break;
    case static_cast<std::uint8_t>(MessageType::kDigest):
      m.channel = r.u8();
      m.flags = r.u8();
      break;
    case static_cast<std::uint8_t>(MessageType::kUnicast):
      m.channel = r.u8();
      m.hops = r.u8();
      m.source = r.name();
      m.dest = r.name();
      break;
    case static_cast<std::uint8_t>(MessageType::kBroadcast):
      m.channel = r.u8();
      m.hops = r.u8();
      m.source = r.name();
      break;
    default:
      if (!r.ok()) {
        return malformed("empty message");
      }
      return make_error(Errc::kUnsupported, "unknown mesh message type {}", type);
  }
  if (!r.ok()) {
    return malformed("truncated header");
  }
  m.type = static_cast<MessageType>(type);
  if (m.type == MessageType::kHeartbeat) {
    if (r.left() != 0) {
      return malformed("trailing bytes after heartbeat");
    }
    return m;
  }
  if ((m.type == MessageType::kUnicast || m.type == MessageType::kBroadcast) &&
      (m.source.empty() || (m.type == MessageType::kUnicast && m.dest.empty()))) {
    return malformed("routed message with an empty peer name");
  }
  m.payload = r.rest();
  return m;
}

std::vector<std::uint8_t> encode_topology_update(std::span<const PeerRecord* const> records) {
  return encode_records(records.size(),
                        [&](std::size_t i) -> const PeerRecord& { return *records[i]; });
}

std::vector<std::uint8_t> encode_topology_update(std::span<const PeerRecord> records) {
  return encode_records(records.size(),
                        [&](std::size_t i) -> const PeerRecord& { return records[i]; });
}

Result<std::vector<PeerRecord>> parse_topology_update(std::span<const std::uint8_t> bytes,
                                                      const RecordFilter& want) {
  Reader r(bytes);
  const std::size_t count = r.u32();
  if (!r.ok()) {
    return malformed("truncated update");
  }
  if (count > r.left() / kMinRecordBytes) {
    return malformed("record count over the bytes present");
  }
  std::vector<PeerRecord> records;
  records.reserve(want ? 0 : count);
  PeerRecord rec;
  for (std::size_t i = 0; i < count; ++i) {
    WEFT_TRY_VOID(read_record(r, rec, want));
    if (!rec.name.empty()) {
      records.push_back(std::move(rec));
    }
    rec = PeerRecord{};
  }
  if (r.left() != 0) {
    return malformed("trailing bytes after update");
  }
  return records;
}

std::vector<std::uint8_t> encode_topology_digest(std::span<const RecordStamp> stamps) {
  Writer w(4 + stamps.size() * kStampBytes);
  w.u32(static_cast<std::uint32_t>(stamps.size()));
  for (const RecordStamp& s : stamps) {
    w.name(s.name);
    w.u64(s.version);
    w.u64(s.uid);
  }
  return w.take();
}

Result<std::vector<RecordStamp>> parse_topology_digest(std::span<const std::uint8_t> bytes) {
  Reader r(bytes);
  const std::size_t count = r.u32();
  if (!r.ok()) {
    return malformed("truncated digest");
  }
  if (count != r.left() / kStampBytes || r.left() % kStampBytes != 0) {
    return malformed("digest count does not match its length");
  }
  std::vector<RecordStamp> stamps;
  stamps.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    RecordStamp s;
    s.name = r.name();
    s.version = r.u64();
    s.uid = r.u64();
    if (s.version > kMaxRecordVersion) {
      return malformed("digest version out of range");
    }
    if (s.name.empty() || (!stamps.empty() && !(stamps.back().name < s.name))) {
      return malformed("digest names not in strictly increasing order");
    }
    stamps.push_back(s);
  }
  return stamps;
}

}  // namespace weft::router
