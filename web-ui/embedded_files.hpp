// The files of web-ui/assets/, compiled into the binary. The definition is generated at
// build time by embed_assets.cmake (build/.../web-ui/embedded_files.cpp).
//
// Contract: the span and the bytes are static, immutable and valid for the whole program;
// names are file names without directories, sorted.
#pragma once

#include <span>
#include <string_view>

namespace weft::web_ui {

struct EmbeddedFile {
  std::string_view name;   // "index.html"
  std::string_view bytes;  // the file's exact contents
};

std::span<const EmbeddedFile> embedded_files();

}  // namespace weft::web_ui
