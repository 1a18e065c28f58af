#include "router/crypto.hpp"

#include <cassert>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>

#include <sodium.h>

namespace weft::router {
namespace {

using Nonce = std::array<std::uint8_t, crypto_aead_chacha20poly1305_ietf_NPUBBYTES>;

Nonce make_nonce(std::uint64_t counter) {
  Nonce n{};
  for (std::size_t i = 0; i < 8; ++i) {
    n[4 + i] = static_cast<std::uint8_t>(counter >> (8 * i));
  }
  return n;
}

// The Argon2id salt: a protocol constant (see derive_password_key()).
constexpr std::string_view kPasswordSaltLabel = "weft password salt v1";

}  // namespace

static_assert(crypto_scalarmult_BYTES == kKeySize && crypto_scalarmult_SCALARBYTES == kKeySize);
static_assert(crypto_aead_chacha20poly1305_ietf_KEYBYTES == kKeySize);
static_assert(crypto_aead_chacha20poly1305_ietf_ABYTES == kAeadTagSize);

SecretKey::~SecretKey() {
  sodium_memzero(bytes.data(), bytes.size());
}

void ensure_sodium() {
  static const bool ok = [] {
    return sodium_init() >= 0;
  }();
  if (!ok) {
    std::fputs("weft: libsodium initialisation failed\n", stderr);
    std::abort();
  }
}

void random_bytes(std::span<std::uint8_t> out) {
  ensure_sodium();
  randombytes_buf(out.data(), out.size());
}

std::uint64_t random_u64() {
  std::array<std::uint8_t, 8> b{};
  random_bytes(b);
  std::uint64_t v = 0;
  std::memcpy(&v, b.data(), b.size());
  return v;
}

KeyPair generate_keypair() {
  KeyPair kp;
  random_bytes(kp.secret_key.bytes);
  kp.public_key = public_key_of(kp.secret_key);
  return kp;
}

PublicKey public_key_of(const SecretKey& secret) {
  ensure_sodium();
  PublicKey pk{};
  crypto_scalarmult_base(pk.data(), secret.bytes.data());
  return pk;
}

Result<SecretKey> x25519(const SecretKey& secret, const PublicKey& peer) {
  ensure_sodium();
  SecretKey shared;
  if (crypto_scalarmult(shared.bytes.data(), secret.bytes.data(), peer.data()) != 0) {
    return make_error(Errc::kAuthFailed, "peer public key is a low-order point");
  }
  return shared;
}

Hash blake2b(std::span<const std::uint8_t> key,
             std::initializer_list<std::span<const std::uint8_t>> parts) {
  ensure_sodium();
  assert(key.size() <= crypto_generichash_KEYBYTES_MAX);
  crypto_generichash_state state;
  crypto_generichash_init(&state, key.empty() ? nullptr : key.data(), key.size(), kHashSize);
  for (const auto& p : parts) {
    crypto_generichash_update(&state, p.data(), p.size());
  }
  Hash out{};
  crypto_generichash_final(&state, out.data(), out.size());
  sodium_memzero(&state, sizeof state);
  return out;
}

SecretKey derive_key(std::span<const std::uint8_t> key, std::string_view label,
                     std::span<const std::uint8_t> data) {
  const auto* l = reinterpret_cast<const std::uint8_t*>(label.data());
  Hash h = blake2b(key, {std::span<const std::uint8_t>(l, label.size()), data});
  SecretKey out;
  out.bytes = h;
  secure_zero(h);
  return out;
}

Result<SecretKey> derive_password_key(std::string_view password) {
  ensure_sodium();
  const auto* l = reinterpret_cast<const std::uint8_t*>(kPasswordSaltLabel.data());
  const Hash salt_hash = blake2b({}, {std::span<const std::uint8_t>(l, kPasswordSaltLabel.size())});
  static_assert(crypto_pwhash_SALTBYTES <= kHashSize);
  SecretKey out;
  if (crypto_pwhash(out.bytes.data(), out.bytes.size(), password.data(), password.size(),
                    salt_hash.data(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                    crypto_pwhash_MEMLIMIT_INTERACTIVE, crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return make_error(Errc::kExhausted, "cannot derive the password key: out of memory");
  }
  return out;
}

void aead_seal(const SecretKey& key, std::uint64_t counter, std::span<const std::uint8_t> ad,
               std::span<const std::uint8_t> plaintext, std::vector<std::uint8_t>& out) {
  ensure_sodium();
  const Nonce nonce = make_nonce(counter);
  const std::size_t base = out.size();
  out.resize(base + plaintext.size() + kAeadTagSize);
  unsigned long long written = 0;
  crypto_aead_chacha20poly1305_ietf_encrypt(out.data() + base, &written, plaintext.data(),
                                            plaintext.size(), ad.data(), ad.size(), nullptr,
                                            nonce.data(), key.bytes.data());
  assert(written == plaintext.size() + kAeadTagSize);
}

Result<void> aead_open(const SecretKey& key, std::uint64_t counter,
                       std::span<const std::uint8_t> ad, std::span<const std::uint8_t> ciphertext,
                       std::vector<std::uint8_t>& out) {
  ensure_sodium();
  if (ciphertext.size() < kAeadTagSize) {
    return make_error(Errc::kAuthFailed, "sealed data shorter than its tag");
  }
  const Nonce nonce = make_nonce(counter);
  out.resize(ciphertext.size() - kAeadTagSize);
  unsigned long long written = 0;
  if (crypto_aead_chacha20poly1305_ietf_decrypt(out.data(), &written, nullptr, ciphertext.data(),
                                                ciphertext.size(), ad.data(), ad.size(),
                                                nonce.data(), key.bytes.data()) != 0) {
    out.clear();
    return make_error(Errc::kAuthFailed, "message failed authentication");
  }
  out.resize(written);
  return {};
}

bool equal_ct(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) {
  ensure_sodium();
  return a.size() == b.size() && sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

void secure_zero(std::span<std::uint8_t> bytes) {
  sodium_memzero(bytes.data(), bytes.size());
}

std::string key_to_base64(const PublicKey& key) {
  ensure_sodium();
  constexpr int kVariant = sodium_base64_VARIANT_ORIGINAL;
  std::string out(sodium_base64_ENCODED_LEN(kKeySize, kVariant), '\0');
  sodium_bin2base64(out.data(), out.size(), key.data(), key.size(), kVariant);
  out.resize(std::strlen(out.c_str()));
  return out;
}

Result<PublicKey> parse_public_key(std::string_view base64) {
  ensure_sodium();
  PublicKey key{};
  std::size_t len = 0;
  const char* end = nullptr;
  if (base64.size() > 64 ||
      sodium_base642bin(key.data(), key.size(), base64.data(), base64.size(), nullptr, &len, &end,
                        sodium_base64_VARIANT_ORIGINAL) != 0 ||
      len != kKeySize || end != base64.data() + base64.size()) {
    return make_error(Errc::kInvalidArgument,
                      "invalid public key \"{}\": expected 32 bytes in base64", base64);
  }
  return key;
}

void CipherState::seal(std::span<const std::uint8_t> ad, std::span<const std::uint8_t> plaintext,
                       std::vector<std::uint8_t>& out) {
  // 2^64 frames cannot be sent in the lifetime of a connection; reaching it is a bug.
  assert(counter_ != std::numeric_limits<std::uint64_t>::max());
  aead_seal(key_, counter_, ad, plaintext, out);
  ++counter_;
}

Result<void> CipherState::open(std::span<const std::uint8_t> ad,
                               std::span<const std::uint8_t> ciphertext,
                               std::vector<std::uint8_t>& out) {
  if (counter_ == std::numeric_limits<std::uint64_t>::max()) {
    return make_error(Errc::kExhausted, "nonce counter exhausted");
  }
  WEFT_TRY_VOID(aead_open(key_, counter_, ad, ciphertext, out));
  ++counter_;
  return {};
}

}  // namespace weft::router
