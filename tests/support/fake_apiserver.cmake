# The fake Kubernetes API server (tests/support/fake_apiserver.hpp): a library for in-process
# tests and the fake-apiserver binary (${CMAKE_BINARY_DIR}/bin) for tests and benchmarks that
# run it as a process. Included by tests/ and by bench/ (the Release tree has no tests/);
# the targets are defined once.
if(TARGET weft_fake_apiserver)
  return()
endif()
file(GLOB WEFT_FAKE_APISERVER_SOURCES CONFIGURE_DEPENDS
     ${CMAKE_CURRENT_LIST_DIR}/fake_apiserver*.cpp)
list(FILTER WEFT_FAKE_APISERVER_SOURCES EXCLUDE REGEX "_main\\.cpp$")
add_library(weft_fake_apiserver STATIC ${WEFT_FAKE_APISERVER_SOURCES})
target_include_directories(weft_fake_apiserver PUBLIC ${PROJECT_SOURCE_DIR})
target_link_libraries(weft_fake_apiserver PUBLIC weft_kube weft_common OpenSSL::SSL OpenSSL::Crypto)
add_executable(fake-apiserver ${CMAKE_CURRENT_LIST_DIR}/fake_apiserver_main.cpp)
target_link_libraries(fake-apiserver PRIVATE weft_fake_apiserver)
