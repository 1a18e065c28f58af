// Thin libsodium wrappers for the control-plane transport: X25519 key pairs and DH,
// BLAKE2b hashing/KDF, Argon2id password stretching, ChaCha20-Poly1305-IETF with 64-bit
// counter nonces, constant-time compare, secure zeroing, base64 of public keys.
//
// Contract: every function is thread-safe and free of I/O, so that crypto can move to a
// worker thread later. sodium_init() runs once on first use (thread-safe static). Key
// material comes from libsodium's randombytes, never from weft::Rng. Secret types zero
// themselves on destruction.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "router/message_conn.hpp"

namespace weft::router {

inline constexpr std::size_t kKeySize = 32;
inline constexpr std::size_t kHashSize = 32;
inline constexpr std::size_t kAeadTagSize = 16;

using Hash = std::array<std::uint8_t, kHashSize>;

// Secret bytes that are zeroed when destroyed or overwritten.
struct SecretKey {
  std::array<std::uint8_t, kKeySize> bytes{};

  SecretKey() = default;
  SecretKey(const SecretKey&) = default;
  SecretKey& operator=(const SecretKey&) = default;
  ~SecretKey();
};

struct KeyPair {
  PublicKey public_key{};
  SecretKey secret_key;
};

// Calls sodium_init() once; aborts the process if libsodium cannot initialise (it only fails
// when no entropy source exists, a startup-time condition).
void ensure_sodium();

// Fills `out` with cryptographically secure random bytes.
void random_bytes(std::span<std::uint8_t> out);
std::uint64_t random_u64();

// A fresh X25519 key pair.
KeyPair generate_keypair();
// The X25519 public key of a secret key (for key pairs loaded from disk).
PublicKey public_key_of(const SecretKey& secret);

// X25519(secret, peer). Fails (kAuthFailed) when the peer's key is a low-order point that
// would make the shared secret all zeros.
Result<SecretKey> x25519(const SecretKey& secret, const PublicKey& peer);

// BLAKE2b-256 over the concatenation of `parts`, keyed with `key` (0..64 bytes; empty =
// unkeyed).
Hash blake2b(std::span<const std::uint8_t> key,
             std::initializer_list<std::span<const std::uint8_t>> parts);
// KDF: BLAKE2b-256 keyed with `key` over the ASCII `label` followed by `data`.
SecretKey derive_key(std::span<const std::uint8_t> key, std::string_view label,
                     std::span<const std::uint8_t> data = {});

// Stretches a password into a 32-byte key with Argon2id (crypto_pwhash, interactive limits:
// ~0.1 s and 64 MiB). The salt is a fixed protocol constant because both peers must derive
// the same key from the password alone; call it once at startup, never per handshake.
Result<SecretKey> derive_password_key(std::string_view password);

// ChaCha20-Poly1305-IETF with nonce = 4 zero bytes || little-endian 64-bit counter.
// seal() appends len(plaintext) + kAeadTagSize bytes to `out`.
void aead_seal(const SecretKey& key, std::uint64_t counter, std::span<const std::uint8_t> ad,
               std::span<const std::uint8_t> plaintext, std::vector<std::uint8_t>& out);
// Opens `ciphertext` into `out` (replaced). Fails (kAuthFailed) when the tag does not verify
// (wrong key, wrong counter, tampered bytes) or the ciphertext is shorter than a tag.
Result<void> aead_open(const SecretKey& key, std::uint64_t counter,
                       std::span<const std::uint8_t> ad, std::span<const std::uint8_t> ciphertext,
                       std::vector<std::uint8_t>& out);

// Constant-time equality of two equally sized buffers (false when sizes differ).
bool equal_ct(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b);
void secure_zero(std::span<std::uint8_t> bytes);

// Standard base64 (with padding) of a public key, and its parser (exactly 32 bytes).
std::string key_to_base64(const PublicKey& key);
Result<PublicKey> parse_public_key(std::string_view base64);

// One direction of a session: a key and the next nonce counter. seal() and open() use and
// advance the counter, so each side must process frames in exactly the sending order; a
// failed open() leaves the counter unchanged (the caller closes the connection anyway).
class CipherState {
 public:
  CipherState() = default;
  explicit CipherState(const SecretKey& key) : key_(key) {}

  std::uint64_t counter() const { return counter_; }
  void seal(std::span<const std::uint8_t> ad, std::span<const std::uint8_t> plaintext,
            std::vector<std::uint8_t>& out);
  Result<void> open(std::span<const std::uint8_t> ad, std::span<const std::uint8_t> ciphertext,
                    std::vector<std::uint8_t>& out);

 private:
  SecretKey key_;
  std::uint64_t counter_ = 0;
};

}  // namespace weft::router
