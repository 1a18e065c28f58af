// Sleeve AEAD suites: sealing and opening one sleeve datagram in place.
//
// Design note: ChaCha20-Poly1305-IETF by default, AES-256-GCM when the CPU has AES-NI and
// CLMUL (libsodium's crypto_aead_aes256gcm_is_available()); "none" (no password) keeps the
// same framing with neither encryption nor a tag, so the plaintext sleeve costs no crypto.
// The nonce is 4 zero bytes || little-endian 64-bit counter; the AD is the 13-byte header
// (datapath/sleeve_wire.hpp). Keys are per direction, so a (key, counter) pair is never reused
// as long as the sender never reuses a counter for a session.
//
// Contract: a SleeveCipher is immutable after create(); seal()/open() are const and safe
// to call from any one thread at a time per object (the datapath thread). Keys are zeroed on
// destruction. No I/O.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace weft::datapath {

enum class SleeveSuite : std::uint8_t { kNone = 0, kChaCha20Poly1305 = 1, kAes256Gcm = 2 };

using SleeveKey = std::array<std::uint8_t, 32>;

// AES-256-GCM when the CPU supports it, else ChaCha20-Poly1305.
SleeveSuite best_sleeve_suite();
bool sleeve_suite_available(SleeveSuite suite);
// "none", "chacha20-poly1305", "aes-256-gcm".
std::string_view sleeve_suite_name(SleeveSuite suite);

class SleeveCipher {
 public:
  // Fails with kUnsupported when the suite is not available on this CPU.
  static Result<SleeveCipher> create(SleeveSuite suite, const SleeveKey& key);

  SleeveCipher(SleeveCipher&&) noexcept;
  SleeveCipher& operator=(SleeveCipher&&) noexcept;
  ~SleeveCipher();

  SleeveSuite suite() const { return suite_; }
  // Bytes seal() adds (16, or 0 for "none").
  std::size_t overhead() const { return suite_ == SleeveSuite::kNone ? 0 : 16; }

  // `packet` holds header (13 bytes, the AD) || plaintext: encrypts the plaintext in place
  // and appends the tag.
  void seal(std::vector<std::uint8_t>& packet, std::uint64_t counter) const;
  // `datagram` is header || body: verifies and decrypts the body into `out` (replaced).
  // Fails with kAuthFailed when the tag does not verify, kMalformed when too short.
  Result<void> open(std::span<const std::uint8_t> datagram, std::uint64_t counter,
                    std::vector<std::uint8_t>& out) const;

 private:
  struct AesState;
  SleeveCipher(SleeveSuite suite, const SleeveKey& key);

  SleeveSuite suite_;
  SleeveKey key_{};
  std::unique_ptr<AesState> aes_;
};

}  // namespace weft::datapath
