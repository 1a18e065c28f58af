#!/usr/bin/env bash
# scripts/demo, run as a newcomer runs it (not on a terminal, so it stops after "ready"):
# it reaches its ready line with every cross-host ping answered and the status page up, and
# then removes every namespace, link, socket and process it made. ctest sets WEFT_BIN_DIR to
# its build tree's bin/: the demo runs those binaries and installs and builds nothing.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$(mktemp)
trap 'rm -f "$out"' EXIT
fail() {
  echo "demo_test: $*"
  cat "$out"
  exit 1
}
"$root/scripts/demo" < /dev/null > "$out" 2>&1
rc=$?
[ "$rc" -eq 0 ] || fail "scripts/demo exited $rc"
grep -q '^demo: ready$' "$out" || fail "no ready line"
! grep -q 'FAILED' "$out" || fail "a ping failed"
[ "$(grep -c '^demo: .* ok$' "$out")" -eq 6 ] || fail "want 6 answered pings"
grep -q '^demo: status page: http://198.18.0.1:6784/' "$out" || fail "no status page"
grep -q '^demo-h1-c1\|^weft-demo-h1-c1 ' "$out" || fail "weft ps does not list the CNI containers"
pids=$(sed -n 's/^demo: weftd on h[0-9] is pid \([0-9]*\)$/\1/p' "$out")
[ "$(echo "$pids" | wc -w)" -eq 3 ] || fail "want 3 weftd pids"
# Cleanup: nothing the demo made is left.
if ip netns list | grep -q '^weft-demo'; then fail "namespaces left: $(ip netns list | grep weft-demo)"; fi
if ip link show weft-demo0 > /dev/null 2>&1; then fail "host link weft-demo0 left"; fi
for pid in $pids; do
  if kill -0 "$pid" 2> /dev/null; then fail "weftd pid $pid still running"; fi
done
if ls /run/weft-demo/*.sock > /dev/null 2>&1; then fail "sockets left in /run/weft-demo"; fi
echo "demo_test: ready, $(grep -c '^demo: .* ok$' "$out") pings, clean"
