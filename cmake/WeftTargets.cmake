# Helpers that keep per-folder CMakeLists short.

# weft_library(<folder> SOURCES ... DEPS ...): static library weft_<folder>.
function(weft_library folder)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  if(NOT ARG_SOURCES)
    # A folder whose library has no code yet (its issue has not landed).
    add_library(weft_${folder} INTERFACE)
    target_include_directories(weft_${folder} INTERFACE ${PROJECT_SOURCE_DIR})
    target_link_libraries(weft_${folder} INTERFACE ${ARG_DEPS})
    return()
  endif()
  add_library(weft_${folder} STATIC ${ARG_SOURCES})
  target_include_directories(weft_${folder} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(weft_${folder} PUBLIC ${ARG_DEPS})
endfunction()

# The PATH of every test: Debian's directories only, so that the tests run what a fresh
# Debian 12 has (from scripts/setup's packages), not what a build machine carries in
# /usr/local or in a user's PATH (tests/tools/debian_packages.sh checks those commands).
set(WEFT_TEST_PATH "/usr/sbin:/usr/bin:/sbin:/bin")

# weft_gtest(<name> LABEL <label> SOURCES ... DEPS ...): one GoogleTest binary; every test
# case becomes a ctest test carrying the label (unit, sim, netns, browser), run with
# PATH=${WEFT_TEST_PATH}.
function(weft_gtest name)
  cmake_parse_arguments(ARG "" "LABEL;TIMEOUT" "SOURCES;DEPS" ${ARGN})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 120)
  endif()
  add_executable(${name} ${ARG_SOURCES})
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  gtest_discover_tests(${name} DISCOVERY_MODE PRE_TEST
    PROPERTIES LABELS ${ARG_LABEL} TIMEOUT ${ARG_TIMEOUT} ENVIRONMENT "PATH=${WEFT_TEST_PATH}")
endfunction()
