#include "datapath/sleeve_crypto.hpp"

#include <sodium.h>

#include "datapath/sleeve_wire.hpp"
#include "router/crypto.hpp"

namespace weft::datapath {
namespace {

std::array<std::uint8_t, 12> make_nonce(std::uint64_t counter) {
  std::array<std::uint8_t, 12> nonce{};
  for (int i = 0; i < 8; ++i) {
    nonce[4 + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(counter >> (8 * i));
  }
  return nonce;
}

}  // namespace

struct SleeveCipher::AesState {
  crypto_aead_aes256gcm_state state;
};

SleeveSuite best_sleeve_suite() {
  return sleeve_suite_available(SleeveSuite::kAes256Gcm) ? SleeveSuite::kAes256Gcm
                                                         : SleeveSuite::kChaCha20Poly1305;
}

bool sleeve_suite_available(SleeveSuite suite) {
  router::ensure_sodium();
  switch (suite) {
    case SleeveSuite::kNone:
    case SleeveSuite::kChaCha20Poly1305:
      return true;
    case SleeveSuite::kAes256Gcm:
      return crypto_aead_aes256gcm_is_available() == 1;
  }
  return false;
}

std::string_view sleeve_suite_name(SleeveSuite suite) {
  switch (suite) {
    case SleeveSuite::kNone:
      return "none";
    case SleeveSuite::kChaCha20Poly1305:
      return "chacha20-poly1305";
    case SleeveSuite::kAes256Gcm:
      return "aes-256-gcm";
  }
  return "unknown";
}

Result<SleeveCipher> SleeveCipher::create(SleeveSuite suite, const SleeveKey& key) {
  if (suite != SleeveSuite::kNone && suite != SleeveSuite::kChaCha20Poly1305 &&
      suite != SleeveSuite::kAes256Gcm) {
    return make_error(Errc::kInvalidArgument, "unknown sleeve suite {}", static_cast<int>(suite));
  }
  if (!sleeve_suite_available(suite)) {
    return make_error(Errc::kUnsupported, "sleeve suite {} needs AES-NI", sleeve_suite_name(suite));
  }
  return SleeveCipher(suite, key);
}

SleeveCipher::SleeveCipher(SleeveSuite suite, const SleeveKey& key) : suite_(suite), key_(key) {
  if (suite_ == SleeveSuite::kAes256Gcm) {
    aes_ = std::make_unique<AesState>();
    crypto_aead_aes256gcm_beforenm(&aes_->state, key_.data());
  }
}

SleeveCipher::SleeveCipher(SleeveCipher&& o) noexcept
    : suite_(o.suite_), key_(o.key_), aes_(std::move(o.aes_)) {
  sodium_memzero(o.key_.data(), o.key_.size());
}

SleeveCipher& SleeveCipher::operator=(SleeveCipher&& o) noexcept {
  if (this != &o) {
    suite_ = o.suite_;
    key_ = o.key_;
    aes_ = std::move(o.aes_);
    sodium_memzero(o.key_.data(), o.key_.size());
  }
  return *this;
}

SleeveCipher::~SleeveCipher() {
  sodium_memzero(key_.data(), key_.size());
  if (aes_) {
    sodium_memzero(&aes_->state, sizeof(aes_->state));
  }
}

void SleeveCipher::seal(std::vector<std::uint8_t>& packet, std::uint64_t counter) const {
  if (suite_ == SleeveSuite::kNone) {
    return;
  }
  const std::size_t plain_len = packet.size() - kSleeveHeaderSize;
  packet.resize(packet.size() + kSleeveTagSize);
  std::uint8_t* body = packet.data() + kSleeveHeaderSize;
  std::uint8_t* tag = body + plain_len;
  const auto nonce = make_nonce(counter);
  if (suite_ == SleeveSuite::kChaCha20Poly1305) {
    crypto_aead_chacha20poly1305_ietf_encrypt_detached(body, tag, nullptr, body, plain_len,
                                                       packet.data(), kSleeveHeaderSize, nullptr,
                                                       nonce.data(), key_.data());
  } else {
    crypto_aead_aes256gcm_encrypt_detached_afternm(body, tag, nullptr, body, plain_len,
                                                   packet.data(), kSleeveHeaderSize, nullptr,
                                                   nonce.data(), &aes_->state);
  }
}

Result<void> SleeveCipher::open(std::span<const std::uint8_t> datagram, std::uint64_t counter,
                                std::vector<std::uint8_t>& out) const {
  if (datagram.size() < kSleeveHeaderSize + overhead()) {
    return make_error(Errc::kMalformed, "sleeve datagram of {} bytes too short", datagram.size());
  }
  const std::size_t plain_len = datagram.size() - kSleeveHeaderSize - overhead();
  out.resize(plain_len);
  const std::uint8_t* body = datagram.data() + kSleeveHeaderSize;
  if (suite_ == SleeveSuite::kNone) {
    std::copy(body, body + plain_len, out.begin());
    return {};
  }
  const std::uint8_t* tag = body + plain_len;
  const auto nonce = make_nonce(counter);
  int rc = 0;
  if (suite_ == SleeveSuite::kChaCha20Poly1305) {
    rc = crypto_aead_chacha20poly1305_ietf_decrypt_detached(out.data(), nullptr, body, plain_len,
                                                            tag, datagram.data(), kSleeveHeaderSize,
                                                            nonce.data(), key_.data());
  } else {
    rc = crypto_aead_aes256gcm_decrypt_detached_afternm(out.data(), nullptr, body, plain_len, tag,
                                                        datagram.data(), kSleeveHeaderSize,
                                                        nonce.data(), &aes_->state);
  }
  if (rc != 0) {
    return make_error(Errc::kAuthFailed, "sleeve datagram failed authentication");
  }
  return {};
}

}  // namespace weft::datapath
