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

# weft_check_arrows(): the design's dependency direction, enforced. Each library may link
# only the weft libraries listed for it here; any other weft_* in its link interface (a
# forbidden arrow, e.g. the mesh linking IPAM) stops the configure step. Call it once,
# after every folder has been added. A new library must be listed to be allowed at all.
set(WEFT_ALLOWED_ARROWS
  "common:"
  "router:common"
  "datapath:common,router"
  "ipam:common"
  "web_ui:common"
  "api:common"
  "weftd:common,router,datapath,ipam,web_ui,api"
  "cni:common,api"
  "cli:common,api"
  "kube:common"
  "policy:common,kube,api"
  "proxy:common,api"
  # tests/support: the fake Kubernetes API server (in-process library of the tests)
  "fake_apiserver:common,kube")

function(weft_check_arrows)
  set(known "")
  foreach(entry ${WEFT_ALLOWED_ARROWS})
    string(REGEX REPLACE ":.*" "" lib "${entry}")
    list(APPEND known ${lib})
  endforeach()
  foreach(entry ${WEFT_ALLOWED_ARROWS})
    string(REGEX REPLACE ":.*" "" lib "${entry}")
    string(REGEX REPLACE "^[^:]*:" "" allowed "${entry}")
    string(REPLACE "," ";" allowed "${allowed}")
    if(NOT TARGET weft_${lib})
      continue()
    endif()
    get_target_property(type weft_${lib} TYPE)
    if(type STREQUAL "INTERFACE_LIBRARY")
      get_target_property(deps weft_${lib} INTERFACE_LINK_LIBRARIES)
    else()
      get_target_property(deps weft_${lib} LINK_LIBRARIES)
    endif()
    foreach(dep ${deps})
      if(NOT dep MATCHES "^weft_(.*)$")
        continue()
      endif()
      set(target_lib ${CMAKE_MATCH_1})
      list(FIND known ${target_lib} is_library)
      if(is_library EQUAL -1)
        continue()  # a dependency wrapper of cmake/WeftDeps.cmake (weft_boost, ...)
      endif()
      list(FIND allowed ${target_lib} ok)
      if(ok EQUAL -1)
        message(FATAL_ERROR "forbidden arrow: weft_${lib} links weft_${target_lib} "
                            "(allowed for ${lib}: ${allowed}; see cmake/WeftTargets.cmake)")
      endif()
    endforeach()
  endforeach()
  # Every library in the tree must have an entry, so a new folder cannot skip the check.
  get_property(dirs DIRECTORY ${PROJECT_SOURCE_DIR} PROPERTY SUBDIRECTORIES)
  foreach(dir ${dirs})
    get_property(targets DIRECTORY ${dir} PROPERTY BUILDSYSTEM_TARGETS)
    foreach(t ${targets})
      if(t MATCHES "^weft_(.*)$" AND NOT t STREQUAL "weft_test_support")
        list(FIND known ${CMAKE_MATCH_1} ok)
        if(ok EQUAL -1)
          message(FATAL_ERROR "library ${t} has no entry in WEFT_ALLOWED_ARROWS")
        endif()
      endif()
    endforeach()
  endforeach()
endfunction()
