# Third-party dependencies, all from Debian packages (scripts/setup installs them).
find_package(Threads REQUIRED)
find_package(Boost 1.81 EXACT REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(SODIUM REQUIRED IMPORTED_TARGET libsodium)
pkg_check_modules(LIBNL REQUIRED IMPORTED_TARGET libnl-3.0 libnl-route-3.0)
pkg_check_modules(SQLITE REQUIRED IMPORTED_TARGET sqlite3)
pkg_check_modules(NFTABLES REQUIRED IMPORTED_TARGET libnftables)
find_package(fmt REQUIRED)
find_package(nlohmann_json 3.11 REQUIRED)
# The Kubernetes client (kube/) only: TLS to the API server, and kubeconfig files (YAML).
find_package(OpenSSL REQUIRED)
find_package(yaml-cpp REQUIRED)
if(NOT WEFT_FUZZ)
  find_package(GTest REQUIRED)
  find_package(benchmark REQUIRED)
endif()

# Asio and Beast are compiled once (common/asio_impl.cpp) instead of in every file.
add_library(weft_boost INTERFACE)
target_link_libraries(weft_boost INTERFACE Boost::headers Threads::Threads)
target_compile_definitions(weft_boost INTERFACE
  BOOST_ASIO_SEPARATE_COMPILATION BOOST_BEAST_SEPARATE_COMPILATION
  BOOST_ASIO_NO_DEPRECATED BOOST_ASIO_DISABLE_BOOST_COROUTINE)
