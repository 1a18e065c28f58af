# Compiler flags shared by every target: warnings are errors, sanitizers on request.
add_compile_options(-Wall -Wextra -Wpedantic -Werror -Wshadow=local -Wcast-align
                    -Woverloaded-virtual -Wimplicit-fallthrough)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  # GCC 12 reports false maybe-uninitialized warnings inside Beast's parser (boost::optional)
  # at -O1 and above; clang (the fuzz build) keeps checking uninitialized use.
  add_compile_options(-Wno-maybe-uninitialized)
endif()
if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  # Boost headers trigger these under clang 14; they are not ours.
  add_compile_options(-Wno-unused-private-field -Wno-deprecated-builtins)
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
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()
