#!/usr/bin/env bash
# tools.FromDebianPackages: every external command that the scripts, the benchmarks and the
# tests call comes from a Debian package that scripts/setup installs, in Debian's build of it.
# What a build machine happens to carry besides (another vendor's nodejs, Kubernetes or
# container CLIs from elsewhere, tools in /usr/local or in a user's PATH) fails here, instead of passing
# there and failing on a fresh Debian 12.
#
# The commands: the table below, plus what scan_commands.awk reads from the code (scripts/*,
# bench/*, tests/**/*.sh, tests/**/*.mjs, and the tests' and benchmarks' C++). Each is
# resolved as the tests resolve it: `command -v` under this PATH (ctest gives every test
# Debian's directories only: WEFT_TEST_PATH), absolute paths as written; then `readlink -f`
# and `dpkg -S`. The owning package must be one that `scripts/setup --list` prints, or a hard
# dependency (Pre-Depends/Depends without alternatives, recursively) of one, or Essential or
# of priority required (every Debian has those); and its installed version must be Debian's:
# one that an archive of origin Debian offers, or an older Debian build (only noted), not
# another vendor's (`scripts/setup --origin`, from apt-cache policy).
#   tests/tools/debian_packages.sh [SOURCE_DIR]
set -uo pipefail
root=$(cd "${1:-$(dirname "$0")/../..}" && pwd)
here="$root/tests/tools"

# Commands the code calls, also where the scan cannot see them (composed command lines,
# programs that the tested programs run).
table=(
  # scripts/setup, scripts/build, scripts/test
  apt-get apt-cache dpkg-query cmake ninja ctest c++ clang++-14 git pkg-config node npm
  sha256sum
  # scripts/demo, scripts/install-cni, tests/demo
  ip ping awk sed grep cut timeout mktemp install ln
  # netns and browser tiers (tests/netns, tests/support, tests/browser)
  nft iperf3 tcpdump sysctl python3 nsenter unshare mount tar /bin/busybox /bin/sh
  /usr/bin/podman /usr/bin/ctr /usr/bin/containerd /usr/bin/chromium /usr/bin/node
  runc iptables  # run by podman / containerd and by the chained portmap plugin
  /usr/lib/cni/bridge /usr/lib/cni/host-local /usr/lib/cni/portmap /usr/lib/cni/loopback
  systemd-analyze  # tests/unit/cli/launch_test.cpp
  kubectl  # tests/kube/kubectl_test.sh (run through a variable: the scan cannot see it)
  # benchmarks (bench/datapath, bench/cni, bench/npc)
  jq ss wireguard-go wg nebula nebula-cert
)
# Not used by the scripts or tests today; only reported. A test that starts using one is
# checked like every other (the scan finds it): then install its Debian package in
# scripts/setup. (The Kubernetes and container CLIs that build machines carry from outside
# Debian are left out of this list so that naming them here does not count as a use.)
watched=(curl wget)
# Words that the scan takes for commands but are not: podman subcommands and container names
# passed to the Podman helper's run() in tests/netns/cni/runtime_test.cpp,
# and "inner failure", an error text near a run_in_netns( in tests/netns/common/netns_test.cpp.
not_commands=(run inspect c1 c2 inner)

fail=0
problem() { echo "FAIL: $*"; fail=1; }

# ---- what scripts/setup installs ----
listed=$("$root/scripts/setup" --list) || { echo "FAIL: scripts/setup --list failed"; exit 1; }
[ -n "$listed" ] || { echo "FAIL: scripts/setup --list printed nothing"; exit 1; }

# Installed packages that setup's list brings for sure, or that every Debian has:
# "PACKAGE<TAB>how" (listed / needed by X / essential / required).
guaranteed=$(
  { printf '%s\n' "$listed" | sed 's/^/LIST\t/'
    dpkg-query -W -f='${db:Status-Abbrev}\t${Package}\t${Essential}\t${Priority}\t${Pre-Depends}, ${Depends}\n'
  } | awk -F'\t' '
    $1 == "LIST" { want[$2] = "listed"; queue[++n] = $2; next }
    $1 !~ /^ii/ { next }
    { installed[$2] = 1; deps[$2] = $5
      if ($3 == "yes") basic[$2] = "essential"; else if ($4 == "required") basic[$2] = "required" }
    END {
      for (q = 1; q <= n; q++) {
        p = queue[q]
        if (!(p in installed)) continue
        k = split(deps[p], d, ",")
        for (j = 1; j <= k; j++) {
          x = d[j]
          if (x ~ /\|/) continue  # alternatives: not guaranteed
          sub(/\(.*/, "", x); gsub(/[ \t]/, "", x); sub(/:.*/, "", x)
          if (x == "" || !(x in installed) || (x in want)) continue
          want[x] = "needed by " p; queue[++n] = x
        }
      }
      for (p in basic) print p "\t" basic[p]
      for (p in want) if ((p in installed) && !(p in basic)) print p "\t" want[p]
    }')

# ---- the commands ----
# Our files under the given directories matching the find(1) tests after --, with no
# node_modules or fuzz corpus (NUL-separated).
ours() {
  local dirs=()
  while [ "$1" != -- ]; do dirs+=("$1"); shift; done
  shift
  find "${dirs[@]}" '(' -name node_modules -o -name corpus ')' -prune -o -type f '(' "$@" ')' -print0
}
scan_code() {
  local sh_files=(scripts/* bench/cni bench/datapath bench/ipam bench/mesh bench/npc
                  bench/datapath.d/*.sh bench/npc.d/*.sh) f
  while IFS= read -r -d '' f; do sh_files+=("$f"); done < <(ours tests -- -name '*.sh')
  awk -v kind=sh -f "$here/scan_commands.awk" "${sh_files[@]}"
  ours tests -- -name '*.mjs' | xargs -0 -r awk -v kind=mjs -f "$here/scan_commands.awk"
  ours tests bench -- -name '*.cpp' -o -name '*.hpp' |
    xargs -0 -r awk -v kind=cpp -f "$here/scan_commands.awk"
}
scan=$(cd "$root" && scan_code)
# The scan reads what it should (else a broken scan would pass everything).
for want in "ip	scripts/demo" "python3	tests/netns/datapath/sleeve_drops_test.cpp" \
            "/usr/bin/chromium	tests/browser/status_page.mjs"; do
  if ! grep -qxF "$want" <<< "$scan"; then
    problem "the scan of the code missed \"${want%%	*}\" in ${want#*	} (tests/tools/scan_commands.awk)"
  fi
done
functions=$(printf '%s\n' "$scan" | awk -F'\t' '$1 == "FUNCTION" { print $2 }' | sort -u)
skip=$(printf '%s\n' "${not_commands[@]}" $functions $(compgen -b) $(compgen -k) | sort -u)
# "COMMAND<TAB>where": the table's entries first, then the scanned ones; where is the first
# file the scan found it in.
commands=$(
  { printf '%s\ttable\n' "${table[@]}"
    printf '%s\n' "$scan" | awk -F'\t' '$1 != "FUNCTION"'
  } | awk -F'\t' -v skip="$skip" '
    BEGIN { n = split(skip, s, "\n"); for (i = 1; i <= n; i++) drop[s[i]] = 1 }
    $1 in drop { next }
    !($1 in where) { order[++k] = $1; where[$1] = $2; next }
    where[$1] == "table" { where[$1] = $2 }
    END { for (i = 1; i <= k; i++) print order[i] "\t" (where[order[i]] == "table" ? \
            "the table of tests/tools/debian_packages.sh" : where[order[i]]) }')

# ---- resolve: command -v, readlink -f ----
declare -A resolved where
order=()
while IFS=$'\t' read -r cmd from; do
  [ -n "$cmd" ] || continue
  where[$cmd]=$from
  order+=("$cmd")
  if [[ $cmd == /* ]]; then
    path=$cmd
    [ -e "$path" ] || { problem "$cmd (used in $from) does not exist"; continue; }
  else
    path=$(command -v -- "$cmd" 2>/dev/null)
    if [ -z "$path" ] || [[ $path != /* ]]; then
      problem "$cmd (used in $from) is not found in PATH=$PATH: add its Debian package to scripts/setup"
      continue
    fi
  fi
  resolved[$cmd]=$(readlink -f -- "$path")
done <<< "$commands"

# ---- owners: dpkg -S, also under the /usr-merged alias of the path ----
alias_of() {
  case "$1" in
    /usr/bin/* | /usr/sbin/* | /usr/lib/* | /usr/lib64/*) echo "${1#/usr}" ;;
    /bin/* | /sbin/* | /lib/* | /lib64/*) echo "/usr$1" ;;
  esac
}
paths=()
for cmd in "${order[@]}"; do
  [ -n "${resolved[$cmd]:-}" ] || continue
  paths+=("${resolved[$cmd]}")
  a=$(alias_of "${resolved[$cmd]}"); [ -z "$a" ] || paths+=("$a")
done
declare -A owner
while IFS= read -r line; do
  [[ $line == diversion* ]] && continue
  pkgs=${line%%: /*}; file=${line#"$pkgs: "}
  pkgs=${pkgs%%,*}; owner[$file]=${pkgs%%:*}
done < <(dpkg-query -S "${paths[@]}" 2>/dev/null)

# ---- origins: is each owner's installed version offered by a Debian archive? ----
owners=()
declare -A pkg_of
for cmd in "${order[@]}"; do
  f=${resolved[$cmd]:-}
  [ -n "$f" ] || continue
  p=${owner[$f]:-}
  a=$(alias_of "$f")
  [ -n "$p" ] || [ -z "$a" ] || p=${owner[$a]:-}
  pkg_of[$cmd]=$p
  [ -z "$p" ] || owners+=("$p")
done
declare -A origin version newest
if [ ${#owners[@]} -gt 0 ]; then
  while read -r p v o d; do
    version[$p]=$v; origin[$p]=$o; newest[$p]=$d
  done < <("$root/scripts/setup" --origin $(printf '%s\n' "${owners[@]}" | sort -u))
fi

# ---- the verdicts ----
declare -A how outdated
while IFS=$'\t' read -r p h; do [ -z "$p" ] || how[$p]=$h; done <<< "$guaranteed"
printf '%-18s %-44s %s\n' COMMAND RESOLVES-TO 'PACKAGE VERSION (HOW SETUP HAS IT)'
for cmd in "${order[@]}"; do
  f=${resolved[$cmd]:-}
  [ -n "$f" ] || continue
  p=${pkg_of[$cmd]:-}
  if [ -z "$p" ]; then
    printf '%-18s %-44s %s\n' "$cmd" "$f" '(no package)'
    problem "$cmd (used in ${where[$cmd]}) resolves to $f, which no Debian package owns"
    continue
  fi
  printf '%-18s %-44s %s\n' "$cmd" "$f" "$p ${version[$p]:-?} (${how[$p]:-NOT INSTALLED BY SETUP})"
  if [ -z "${how[$p]:-}" ]; then
    problem "$cmd (used in ${where[$cmd]}) comes from package $p, which scripts/setup does not install: add $p to its lists"
  fi
  case "${origin[$p]:-}" in
    debian) ;;
    outdated) outdated[$p]="${version[$p]} (Debian now has ${newest[$p]})" ;;
    unknown | "") problem "$cmd: cannot tell where $p ${version[$p]:-?} comes from: apt has no lists of a Debian archive (apt-get update)" ;;
    *) problem "$cmd (used in ${where[$cmd]}) is $f from $p ${version[$p]:-?}" \
         "(maintainer: $(dpkg-query -W -f='${Maintainer}' "$p" 2>/dev/null)), another vendor's build," \
         "not Debian's (${newest[$p]:--}): the tests would run something else than a fresh Debian 12 has;" \
         "scripts/setup installs Debian's" ;;
  esac
done

# ---- notes: copies outside the tests' PATH that a login shell finds first; watched commands ----
describe() {  # PATH: "PATH -> TARGET (PACKAGE VERSION ORIGIN | no package)"
  local t p v
  t=$(readlink -f -- "$1")
  p=$(dpkg-query -S "$t" 2>/dev/null | sed -n '1s/:.*//p')
  [ -n "$p" ] || { echo "$1 -> $t (no package)"; return; }
  v=$("$root/scripts/setup" --origin "$p" | awk '{print $2, $3}')
  echo "$1 -> $t ($p $v)"
}
for p in "${!outdated[@]}"; do
  echo "note: $p ${outdated[$p]} is an older Debian build (apt-get upgrade)"
done
for cmd in "${order[@]}" "${watched[@]}"; do
  [[ $cmd == /* ]] && continue
  used=${where[$cmd]:+yes}
  declare -A shown=()
  for d in /usr/local/sbin /usr/local/bin $([ -n "$used" ] || echo "${PATH//:/ }"); do
    [ -x "$d/$cmd" ] || continue
    t=$(readlink -f "$d/$cmd")
    [ -z "${shown[$t]:-}" ] || continue
    shown[$t]=1
    if [ -n "$used" ]; then
      echo "note: $(describe "$d/$cmd") comes first in a login shell's PATH (the tests' PATH leaves it out)"
    else
      echo "note: $cmd is not used by the scripts or tests; here: $(describe "$d/$cmd")"
    fi
  done
done

if [ "$fail" -ne 0 ]; then
  echo "tools.FromDebianPackages: FAILED (${#order[@]} commands checked)"
  exit 1
fi
echo "tools.FromDebianPackages: ${#order[@]} commands, every one from a Debian package that scripts/setup installs"
