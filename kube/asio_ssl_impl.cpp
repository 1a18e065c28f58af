// The one translation unit that compiles Asio's TLS support (BOOST_ASIO_SEPARATE_COMPILATION):
// common/asio_impl.cpp compiles the rest of Asio without it, so that only what links
// weft_kube needs OpenSSL.
#include <boost/asio/ssl/impl/src.hpp>
