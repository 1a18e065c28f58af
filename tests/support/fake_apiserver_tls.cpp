#include "tests/support/fake_apiserver_tls.hpp"

#include <array>
#include <memory>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace weft::test {
namespace {

template <auto F>
struct Free {
  template <class T>
  void operator()(T* p) const {
    F(p);
  }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, Free<EVP_PKEY_free>>;
using CertPtr = std::unique_ptr<X509, Free<X509_free>>;
using BioPtr = std::unique_ptr<BIO, Free<BIO_free_all>>;
using BnPtr = std::unique_ptr<BIGNUM, Free<BN_free>>;

constexpr long kValiditySeconds = 10L * 365 * 24 * 3600;

Error ssl_error(std::string_view what) {
  std::array<char, 256> text{};
  ERR_error_string_n(ERR_get_error(), text.data(), text.size());
  return make_error(Errc::kIo, "{}: {}", what, text.data());
}

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  return n > 0 ? std::string(data, static_cast<std::size_t>(n)) : std::string();
}

Result<std::string> cert_pem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) {
    return ssl_error("PEM_write_bio_X509");
  }
  return bio_text(bio.get());
}

Result<std::string> key_pem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio ||
      PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return ssl_error("PEM_write_bio_PrivateKey");
  }
  return bio_text(bio.get());
}

Result<KeyPtr> new_key() {
  KeyPtr key(EVP_EC_gen("P-256"));
  if (!key) {
    return ssl_error("EVP_EC_gen P-256");
  }
  return key;
}

Result<void> add_ext(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (ext == nullptr) {
    return ssl_error("X509V3_EXT_conf_nid " + value);
  }
  const int ok = X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  if (ok != 1) {
    return ssl_error("X509_add_ext");
  }
  return {};
}

struct CertSpec {
  std::string common_name;
  std::vector<std::string> organizations;
  std::vector<std::pair<int, std::string>> extensions;  // after the key identifiers
};

// A certificate for `key`, signed by issuer_key (self-signed when issuer is null).
Result<CertPtr> make_cert(const CertSpec& spec, EVP_PKEY* key, X509* issuer, EVP_PKEY* issuer_key) {
  CertPtr cert(X509_new());
  if (!cert || X509_set_version(cert.get(), 2) != 1) {
    return ssl_error("X509_new");
  }
  std::array<unsigned char, 16> serial{};
  if (RAND_bytes(serial.data(), static_cast<int>(serial.size())) != 1) {
    return ssl_error("RAND_bytes");
  }
  serial[0] &= 0x7f;  // positive
  serial[0] |= 0x01;  // and never zero
  BnPtr bn(BN_bin2bn(serial.data(), static_cast<int>(serial.size()), nullptr));
  if (!bn || BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert.get())) == nullptr) {
    return ssl_error("serial number");
  }
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), kValiditySeconds);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  for (const auto& org : spec.organizations) {
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>(org.c_str()), -1, -1, 0);
  }
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(spec.common_name.c_str()), -1,
                             -1, 0);
  X509* signer = issuer != nullptr ? issuer : cert.get();
  X509_set_issuer_name(cert.get(), X509_get_subject_name(signer));
  WEFT_TRY_VOID(add_ext(cert.get(), signer, NID_subject_key_identifier, "hash"));
  WEFT_TRY_VOID(add_ext(cert.get(), signer, NID_authority_key_identifier, "keyid:always"));
  for (const auto& [nid, value] : spec.extensions) {
    WEFT_TRY_VOID(add_ext(cert.get(), signer, nid, value));
  }
  if (X509_sign(cert.get(), issuer_key != nullptr ? issuer_key : key, EVP_sha256()) == 0) {
    return ssl_error("X509_sign");
  }
  return cert;
}

Result<CertPtr> read_cert(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  CertPtr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) {
    return ssl_error("PEM_read_bio_X509");
  }
  return cert;
}

Result<KeyPtr> read_key(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  KeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) {
    return ssl_error("PEM_read_bio_PrivateKey");
  }
  return key;
}

}  // namespace

Result<TlsIdentity> generate_tls_identity(const std::vector<std::string>& dns_names,
                                          const std::vector<std::string>& ip_addresses) {
  WEFT_TRY(auto ca_key, new_key());
  CertSpec ca_spec;
  ca_spec.common_name = "weft-fake-apiserver-ca";
  ca_spec.extensions = {{NID_basic_constraints, "critical,CA:TRUE"},
                        {NID_key_usage, "critical,keyCertSign,cRLSign,digitalSignature"}};
  WEFT_TRY(auto ca, make_cert(ca_spec, ca_key.get(), nullptr, nullptr));

  WEFT_TRY(auto server_key, new_key());
  std::string san;
  for (const auto& ip : ip_addresses) {
    san += (san.empty() ? "IP:" : ",IP:") + ip;
  }
  for (const auto& dns : dns_names) {
    san += (san.empty() ? "DNS:" : ",DNS:") + dns;
  }
  CertSpec server_spec;
  server_spec.common_name = "weft-fake-apiserver";
  server_spec.extensions = {{NID_basic_constraints, "critical,CA:FALSE"},
                            {NID_key_usage, "critical,digitalSignature,keyEncipherment"},
                            {NID_ext_key_usage, "serverAuth"},
                            {NID_subject_alt_name, san}};
  WEFT_TRY(auto server, make_cert(server_spec, server_key.get(), ca.get(), ca_key.get()));

  TlsIdentity out;
  WEFT_TRY(out.ca_cert_pem, cert_pem(ca.get()));
  WEFT_TRY(out.ca_key_pem, key_pem(ca_key.get()));
  WEFT_TRY(out.server_cert_pem, cert_pem(server.get()));
  WEFT_TRY(out.server_key_pem, key_pem(server_key.get()));
  return out;
}

Result<ClientCertificate> issue_client_certificate(const TlsIdentity& identity,
                                                   const std::string& common_name,
                                                   const std::vector<std::string>& organizations) {
  WEFT_TRY(auto ca, read_cert(identity.ca_cert_pem));
  WEFT_TRY(auto ca_key, read_key(identity.ca_key_pem));
  WEFT_TRY(auto key, new_key());
  CertSpec spec;
  spec.common_name = common_name;
  spec.organizations = organizations;
  spec.extensions = {{NID_basic_constraints, "critical,CA:FALSE"},
                     {NID_key_usage, "critical,digitalSignature"},
                     {NID_ext_key_usage, "clientAuth"}};
  WEFT_TRY(auto cert, make_cert(spec, key.get(), ca.get(), ca_key.get()));
  ClientCertificate out;
  WEFT_TRY(out.cert_pem, cert_pem(cert.get()));
  WEFT_TRY(out.key_pem, key_pem(key.get()));
  return out;
}

}  // namespace weft::test
