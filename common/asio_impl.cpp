// The one translation unit that compiles Asio and Beast (BOOST_*_SEPARATE_COMPILATION),
// which keeps every other file fast to build on two cores.
#include <boost/asio/impl/src.hpp>
#include <boost/beast/src.hpp>
