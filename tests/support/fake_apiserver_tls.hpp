// Certificates for the fake API server, made in-process with OpenSSL: a self-signed CA, a
// server certificate it signs (EC P-256, SAN IP:127.0.0.1 and DNS:localhost, serverAuth) and
// client certificates on request (for kubeconfigs with client-certificate-data).
//
// Contract: pure computation (no files); kIo when OpenSSL fails. PEM text everywhere.
#pragma once

#include <string>
#include <vector>

#include "common/result.hpp"

namespace weft::test {

struct TlsIdentity {
  std::string ca_cert_pem;
  std::string ca_key_pem;
  std::string server_cert_pem;
  std::string server_key_pem;
};

// A new CA and a server certificate for `dns_names` and `ip_addresses`.
Result<TlsIdentity> generate_tls_identity(const std::vector<std::string>& dns_names,
                                          const std::vector<std::string>& ip_addresses);

struct ClientCertificate {
  std::string cert_pem;
  std::string key_pem;
};

// A client certificate (clientAuth) for user `common_name` in groups `organizations`, signed
// by the identity's CA.
Result<ClientCertificate> issue_client_certificate(const TlsIdentity& identity,
                                                   const std::string& common_name,
                                                   const std::vector<std::string>& organizations);

}  // namespace weft::test
