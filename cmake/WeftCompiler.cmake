# Compiler flags shared by every target: warnings are errors, sanitizers on request.
add_compile_options(-Wall -Wextra -Wpedantic -Werror -Wcast-align -Woverloaded-virtual
                    -Wimplicit-fallthrough)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  add_compile_options(-Wshadow=local)
  # GCC 12 reports false maybe-uninitialized warnings inside Beast's parser (boost::optional)
  # at -O1 and above; clang (the fuzz build) keeps checking uninitialized use.
  # ... and false mismatched-new-delete warnings around asio coroutine frames.
  add_compile_options(-Wno-maybe-uninitialized -Wno-mismatched-new-delete)
  # ... and, at -O3, false -Wrestrict on std::string concatenation ("literal" + string:
  # GCC bug 105329, fixed in GCC 13).
  add_compile_options(-Wno-restrict)
endif()
if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  # Boost headers trigger these under clang 14; they are not ours.
  add_compile_options(-Wno-unused-private-field)
endif()

if(WEFT_SANITIZE)
  # -O1: sanitized test builds compile fast and still run the netns tests at a usable speed.
  add_compile_options(-O1 -fsanitize=address,undefined -fno-omit-frame-pointer
                      -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()

if(WEFT_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "WEFT_FUZZ needs clang (configure with CXX=clang++-14 CC=clang-14)")
  endif()
  # -fno-sanitize=function: clang 14 cannot emit its checks for coroutine frames
  # ("Cannot represent a difference across sections").
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize=function
                      -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()

# ccache when present: a rebuild after a switch of branch, in another worktree or in a clean
# clone on the same machine reuses the objects it already compiled. CCACHE_BASEDIR makes the
# paths of this checkout relative, so that two checkouts share their entries; NOHASHDIR
# leaves the build directory out of the hash (only line tables carry it). WEFT_CCACHE=OFF
# turns it off.
option(WEFT_CCACHE "Compile through ccache when it is installed" ON)
find_program(WEFT_CCACHE_PROGRAM ccache)
if(WEFT_CCACHE AND WEFT_CCACHE_PROGRAM)
  set(launcher ${CMAKE_COMMAND} -E env CCACHE_BASEDIR=${PROJECT_SOURCE_DIR} CCACHE_NOHASHDIR=1
               ${WEFT_CCACHE_PROGRAM})
  set(CMAKE_C_COMPILER_LAUNCHER ${launcher})
  set(CMAKE_CXX_COMPILER_LAUNCHER ${launcher})
endif()

# lld when present: linking the sanitized test binaries is much of an incremental rebuild,
# and lld links them several times faster than ld.bfd.
option(WEFT_LLD "Link with lld when it is installed" ON)
find_program(WEFT_LLD_PROGRAM ld.lld)
if(WEFT_LLD AND WEFT_LLD_PROGRAM)
  add_link_options(-fuse-ld=lld)
endif()
