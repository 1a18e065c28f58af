#include "router/protocol.hpp"

#include <algorithm>
#include <cassert>
#include <string_view>

namespace weft::router {
namespace {

// Bounds-checked big-endian reader over untrusted bytes: every read either succeeds or
// marks the reader failed (and returns zeros), so decoders check ok() once per field group.
class Reader {
 public:
  explicit Reader(std::span<const std::uint8_t> data) : data_(data) {}

  bool ok() const { return ok_; }
  std::size_t remaining() const { return ok_ ? data_.size() - pos_ : 0; }

  std::span<const std::uint8_t> bytes(std::size_t n) {
    if (!ok_ || data_.size() - pos_ < n) {
      ok_ = false;
      return {};
    }
    auto out = data_.subspan(pos_, n);
    pos_ += n;
    return out;
  }
  std::uint64_t uint(std::size_t n) {
    std::uint64_t v = 0;
    for (std::uint8_t b : bytes(n)) {
      v = (v << 8) | b;
    }
    return v;
  }
  std::uint8_t u8() { return static_cast<std::uint8_t>(uint(1)); }
  std::uint16_t u16() { return static_cast<std::uint16_t>(uint(2)); }

 private:
  std::span<const std::uint8_t> data_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

void put_uint(std::vector<std::uint8_t>& out, std::uint64_t v, std::size_t n) {
  for (std::size_t i = n; i-- > 0;) {
    out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  }
}

void put_bytes(std::vector<std::uint8_t>& out, std::span<const std::uint8_t> b) {
  out.insert(out.end(), b.begin(), b.end());
}

Error truncated(std::string_view what) {
  return make_error(Errc::kMalformed, "malformed hello: truncated {}", what);
}

Result<void> check_extensions(std::span<const std::uint8_t> ext) {
  Reader r(ext);
  while (r.remaining() > 0) {
    r.u8();  // type: none defined in version 1
    const std::uint8_t len = r.u8();
    r.bytes(len);
    if (!r.ok()) {
      return make_error(Errc::kMalformed, "malformed hello: bad extension list");
    }
  }
  return {};
}

// The part of the body after the fixed fields: optional static key, nickname, extensions.
Result<void> decode_hello_tail(Reader& r, std::uint8_t flags, Hello& h) {
  if ((flags & kHelloFlagStaticKey) != 0) {
    auto key = r.bytes(32);
    if (!r.ok()) {
      return truncated("static key");
    }
    h.static_key.emplace();
    std::copy(key.begin(), key.end(), h.static_key->begin());
  }
  const std::uint8_t nick_len = r.u8();
  if (!r.ok()) {
    return truncated("nickname length");
  }
  if (nick_len > kMaxNickname) {
    return make_error(Errc::kMalformed, "malformed hello: nickname of {} bytes over {}", nick_len,
                      kMaxNickname);
  }
  auto nick = r.bytes(nick_len);
  if (!r.ok()) {
    return truncated("nickname");
  }
  if (!is_printable_utf8(nick)) {
    return make_error(Errc::kMalformed, "malformed hello: nickname is not printable UTF-8");
  }
  h.nickname.assign(nick.begin(), nick.end());
  const std::uint16_t ext_len = r.u16();
  if (!r.ok()) {
    return truncated("extensions length");
  }
  if (ext_len > kMaxHelloExtensions) {
    return make_error(Errc::kMalformed, "malformed hello: extensions of {} bytes over {}", ext_len,
                      kMaxHelloExtensions);
  }
  auto ext = r.bytes(ext_len);
  if (!r.ok()) {
    return truncated("extensions");
  }
  WEFT_TRY_VOID(check_extensions(ext));
  h.extensions.assign(ext.begin(), ext.end());
  if (r.remaining() != 0) {
    return make_error(Errc::kMalformed, "malformed hello: {} bytes after the extensions",
                      r.remaining());
  }
  return {};
}

}  // namespace

std::vector<std::uint8_t> encode_hello(const Hello& h) {
  assert(h.nickname.size() <= kMaxNickname && h.extensions.size() <= kMaxHelloExtensions);
  std::vector<std::uint8_t> out(kHelloMagic.begin(), kHelloMagic.end());
  out.resize(kHelloHeaderSize);  // body length patched below
  put_uint(out, h.min_version, 2);
  put_uint(out, h.max_version, 2);
  std::uint8_t flags = 0;
  if (h.password) {
    flags |= kHelloFlagPassword;
  }
  if (h.static_key) {
    flags |= kHelloFlagStaticKey;
  }
  out.push_back(flags);
  out.push_back(0);
  put_uint(out, h.name.value & PeerName::kMask, 6);
  put_uint(out, h.uid, 8);
  put_uint(out, h.listen_port, 2);
  put_bytes(out, h.ephemeral_key);
  if (h.static_key) {
    put_bytes(out, *h.static_key);
  }
  out.push_back(static_cast<std::uint8_t>(h.nickname.size()));
  put_bytes(out,
            std::span(reinterpret_cast<const std::uint8_t*>(h.nickname.data()), h.nickname.size()));
  put_uint(out, h.extensions.size(), 2);
  put_bytes(out, h.extensions);
  const std::size_t body = out.size() - kHelloHeaderSize;
  assert(body <= kMaxHelloBody);
  out[4] = static_cast<std::uint8_t>(body >> 8);
  out[5] = static_cast<std::uint8_t>(body);
  return out;
}

Result<std::size_t> decode_hello_header(std::span<const std::uint8_t> header) {
  if (header.size() != kHelloHeaderSize) {
    return make_error(Errc::kMalformed, "malformed hello: header of {} bytes, expected {}",
                      header.size(), kHelloHeaderSize);
  }
  if (!std::equal(kHelloMagic.begin(), kHelloMagic.end(), header.begin())) {
    return make_error(Errc::kMalformed, "not a weft peer: bad magic {:02x}{:02x}{:02x}{:02x}",
                      header[0], header[1], header[2], header[3]);
  }
  const std::size_t body = (std::size_t{header[4]} << 8) | header[5];
  if (body < kHelloMinBody || body > kMaxHelloBody) {
    return make_error(Errc::kMalformed, "malformed hello: body length {} outside {}..{}", body,
                      kHelloMinBody, kMaxHelloBody);
  }
  return body;
}

Result<Hello> decode_hello(std::span<const std::uint8_t> bytes) {
  if (bytes.size() < kHelloHeaderSize) {
    return truncated("header");
  }
  WEFT_TRY(const std::size_t body_len, decode_hello_header(bytes.first(kHelloHeaderSize)));
  if (bytes.size() != kHelloHeaderSize + body_len) {
    return make_error(Errc::kMalformed, "malformed hello: {} bytes, header says {}", bytes.size(),
                      kHelloHeaderSize + body_len);
  }
  Reader r(bytes.subspan(kHelloHeaderSize));
  Hello h;
  h.min_version = r.u16();
  h.max_version = r.u16();
  const std::uint8_t flags = r.u8();
  const std::uint8_t reserved = r.u8();
  h.name.value = r.uint(6);
  h.uid = r.uint(8);
  h.listen_port = r.u16();
  auto eph = r.bytes(32);
  if (!r.ok()) {
    return truncated("fixed fields");
  }
  std::copy(eph.begin(), eph.end(), h.ephemeral_key.begin());
  if (h.min_version == 0 || h.min_version > h.max_version) {
    return make_error(Errc::kMalformed, "malformed hello: version range {}..{}", h.min_version,
                      h.max_version);
  }
  if ((flags & ~(kHelloFlagPassword | kHelloFlagStaticKey)) != 0 || reserved != 0) {
    return make_error(Errc::kMalformed, "malformed hello: unknown flags {:#04x}/{:#04x}", flags,
                      reserved);
  }
  if (h.name.empty() || h.uid == 0 || h.listen_port == 0) {
    return make_error(Errc::kMalformed, "malformed hello: zero peer name, uid or listen port");
  }
  h.password = (flags & kHelloFlagPassword) != 0;
  WEFT_TRY_VOID(decode_hello_tail(r, flags, h));
  return h;
}

Result<std::uint16_t> negotiate_version(std::uint16_t our_min, std::uint16_t our_max,
                                        std::uint16_t peer_min, std::uint16_t peer_max) {
  const std::uint16_t v = std::min(our_max, peer_max);
  if (v < std::max(our_min, peer_min)) {
    return make_error(Errc::kUnsupported,
                      "no common protocol version: we speak {}..{}, peer speaks {}..{}", our_min,
                      our_max, peer_min, peer_max);
  }
  return v;
}

std::array<std::uint8_t, kFrameHeaderSize> encode_frame_header(std::uint32_t ciphertext_size) {
  return {static_cast<std::uint8_t>(ciphertext_size >> 24),
          static_cast<std::uint8_t>(ciphertext_size >> 16),
          static_cast<std::uint8_t>(ciphertext_size >> 8),
          static_cast<std::uint8_t>(ciphertext_size)};
}

Result<std::uint32_t> decode_frame_header(std::span<const std::uint8_t> header) {
  if (header.size() != kFrameHeaderSize) {
    return make_error(Errc::kMalformed, "frame header of {} bytes, expected {}", header.size(),
                      kFrameHeaderSize);
  }
  const std::uint32_t n = (std::uint32_t{header[0]} << 24) | (std::uint32_t{header[1]} << 16) |
                          (std::uint32_t{header[2]} << 8) | header[3];
  if (n > kMaxFrameCiphertext) {
    return make_error(Errc::kTooLarge, "frame of {} bytes over the limit of {}", n,
                      kMaxFrameCiphertext);
  }
  if (n < kMinFrameCiphertext) {
    return make_error(Errc::kMalformed, "frame of {} bytes under the minimum of {}", n,
                      kMinFrameCiphertext);
  }
  return n;
}

std::vector<std::uint8_t> encode_frame_plaintext(FrameType type,
                                                 std::span<const std::uint8_t> payload) {
  std::vector<std::uint8_t> out;
  out.reserve(1 + payload.size());
  out.push_back(static_cast<std::uint8_t>(type));
  put_bytes(out, payload);
  return out;
}

Result<FrameView> decode_frame_plaintext(std::span<const std::uint8_t> plaintext) {
  if (plaintext.empty()) {
    return make_error(Errc::kMalformed, "empty frame");
  }
  FrameView f{static_cast<FrameType>(plaintext[0]), plaintext.subspan(1)};
  switch (f.type) {
    case FrameType::kMessage:
      if (f.payload.size() > MessageConn::kMaxMessageSize) {
        return make_error(Errc::kTooLarge, "message of {} bytes over {}", f.payload.size(),
                          MessageConn::kMaxMessageSize);
      }
      return f;
    case FrameType::kHeartbeat:
      if (!f.payload.empty()) {
        return make_error(Errc::kMalformed, "heartbeat with a {}-byte payload", f.payload.size());
      }
      return f;
    case FrameType::kClose:
      if (f.payload.size() > kMaxCloseReason || !is_printable_utf8(f.payload)) {
        return make_error(Errc::kMalformed, "close frame with a bad reason ({} bytes)",
                          f.payload.size());
      }
      return f;
    case FrameType::kConfirm:
      if (f.payload.size() != kConfirmSize) {
        return make_error(Errc::kMalformed, "confirm frame of {} bytes, expected {}",
                          f.payload.size(), kConfirmSize);
      }
      return f;
  }
  return make_error(Errc::kMalformed, "unknown frame type {}", plaintext[0]);
}

bool is_printable_utf8(std::span<const std::uint8_t> s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const std::uint8_t c = s[i];
    if (c < 0x80) {
      if (c < 0x20 || c == 0x7f) {
        return false;
      }
      ++i;
      continue;
    }
    std::size_t n = 0;
    std::uint32_t cp = 0;
    if ((c & 0xe0) == 0xc0) {
      n = 1;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      n = 2;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (s.size() - i <= n) {
      return false;
    }
    for (std::size_t k = 1; k <= n; ++k) {
      if ((s[i + k] & 0xc0) != 0x80) {
        return false;
      }
      cp = (cp << 6) | (s[i + k] & 0x3f);
    }
    static constexpr std::uint32_t kMinForLength[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMinForLength[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ||
        (cp >= 0x80 && cp < 0xa0)) {
      return false;
    }
    i += n + 1;
  }
  return true;
}

}  // namespace weft::router
