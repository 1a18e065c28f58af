#!/usr/bin/env bash
# The layout's dependency check (weft_check_arrows in cmake/WeftTargets.cmake) stops the
# configure step on a forbidden arrow and on a library it does not know, and lets the
# design's arrows through. Each case is a tiny CMake project in a temporary directory that
# uses the repo's own cmake/ helpers.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=0

# case NAME EXPECT(ok|fail) PATTERN CMAKE-LINES...: the lines define weft_* libraries in
# subdirectories (the check walks the project's subdirectories, as in the real tree).
case_() {
  local name=$1 expect=$2 pattern=$3
  shift 3
  local dir="$work/$name"
  mkdir -p "$dir"
  {
    echo "cmake_minimum_required(VERSION 3.25)"
    echo "project(arrows LANGUAGES NONE)"
    echo "list(APPEND CMAKE_MODULE_PATH $root/cmake)"
    echo "include(WeftTargets)"
    for line in "$@"; do
      local lib=${line%%:*} deps=${line#*:}
      mkdir -p "$dir/$lib"
      echo "weft_library($lib DEPS $deps)" > "$dir/$lib/CMakeLists.txt"
      echo "add_subdirectory($lib)"
    done
    echo "weft_check_arrows()"
  } > "$dir/CMakeLists.txt"
  local out
  out=$(cmake -S "$dir" -B "$dir/build" 2>&1)
  local rc=$?
  if [ "$expect" = ok ] && [ $rc -ne 0 ]; then
    echo "FAIL $name: configure failed: $out"
    failed=1
  elif [ "$expect" = fail ] && { [ $rc -eq 0 ] || ! grep -q "$pattern" <<< "$out"; }; then
    echo "FAIL $name: want a failure matching '$pattern', got rc=$rc: $out"
    failed=1
  else
    echo "ok   $name"
  fi
}

case_ design ok "" "common:" "router:weft_common" "datapath:weft_router weft_common" \
  "ipam:weft_common" "web_ui:weft_common" \
  "weftd:weft_router weft_datapath weft_ipam weft_web_ui weft_common"
case_ mesh_links_ipam fail "forbidden arrow: weft_router links weft_ipam" \
  "common:" "ipam:weft_common" "router:weft_common weft_ipam"
case_ cni_links_daemon fail "forbidden arrow: weft_cni links weft_weftd" \
  "common:" "weftd:weft_common" "cni:weft_common weft_weftd"
case_ datapath_links_web_ui fail "forbidden arrow: weft_datapath links weft_web_ui" \
  "common:" "web_ui:weft_common" "router:weft_common" "datapath:weft_router weft_web_ui"
case_ unknown_library fail "weft_gadget has no entry" "common:" "gadget:weft_common"

if [ $failed -ne 0 ]; then
  exit 1
fi
echo "arrow check: all cases behave"
