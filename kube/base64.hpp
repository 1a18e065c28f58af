// Base64 (RFC 4648, standard alphabet, padded) as the Kubernetes API and kubeconfig files
// use it: certificate-authority-data, client-key-data, Secret data.
//
// Contract: pure functions; decoding ignores CR, LF and spaces (wrapped PEM-style text) and
// rejects anything else that is not base64 with kMalformed.
#pragma once

#include <string>
#include <string_view>

#include "common/result.hpp"

namespace weft::kube {

Result<std::string> base64_decode(std::string_view text);
std::string base64_encode(std::string_view bytes);

}  // namespace weft::kube
