# Helpers for bench/datapath (sourced, not run): namespaces, processes, links and
# measurements. Everything made is recorded under $STATE so that cleanup removes exactly
# what this run made: namespaces named "$PREFIX-*" and processes by PID (+ start time).
#
# Contract: set PREFIX (e.g. wb$$), STATE (a private temp dir), IPERF_SECS, PING_COUNT and
# REPEAT before calling. Row code runs in a subshell with `set -eE`; `fail MSG` ends the row with
# "failed: MSG", `na MSG` with "n/a (MSG)", `ok GBPS RTT NOTES` with a result.

log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }

# ---- row results (fd 3 in a row subshell is the result file) ----
result_written=0
one_line() { printf '%s' "$*" | tr '\n\t' '  '; }
ok() {  # ok GBPS RTT NOTES (SPREAD from measure goes along)
  printf 'ok\t%s\t%s\t%s\t%s\n' "$1" "$2" "${SPREAD:--}" "$(one_line "$3")" >&3
  result_written=1
}
fail() {
  [ "$result_written" = 1 ] || printf 'failed\t%s\n' "$(one_line "$*")" >&3
  result_written=1
  exit 1
}
na() {
  [ "$result_written" = 1 ] || printf 'na\t%s\n' "$(one_line "$*")" >&3
  result_written=1
  exit 0
}

# ---- processes ----
proc_start_time() { sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | awk '{print $20}'; }
proc_alive() {  # alive and not a zombie
  local st
  st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | awk '{print $1}') || return 1
  [ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# bg NS LOG CMD...: starts CMD inside netns NS, output to LOG; records and echoes the PID.
# `ip netns exec` execs the command, so the PID is the command's own.
bg() {
  local ns=$1 logf=$2
  shift 2
  ip netns exec "$ns" "$@" >"$logf" 2>&1 </dev/null &
  local pid=$!
  echo "$pid $(proc_start_time "$pid")" >>"$STATE/pids"
  BG_PID=$pid
}

# Stops every recorded process still alive (and still the same process): TERM, then KILL.
kill_recorded() {
  [ -f "$STATE/pids" ] || return 0
  local pid st live=()
  while read -r pid st; do
    [ -n "$pid" ] || continue
    if proc_alive "$pid" && [ "$(proc_start_time "$pid")" = "$st" ]; then
      kill -TERM "$pid" 2>/dev/null && live+=("$pid")
    fi
  done <"$STATE/pids"
  for _ in $(seq 50); do
    local any=0
    for pid in "${live[@]}"; do proc_alive "$pid" && any=1; done
    [ "$any" = 0 ] && break
    sleep 0.1
  done
  for pid in "${live[@]}"; do proc_alive "$pid" && kill -KILL "$pid" 2>/dev/null; done
  for pid in "${live[@]}"; do wait "$pid" 2>/dev/null || true; done
  : >"$STATE/pids"
}

# ---- namespaces and links ----
# ns NAME: creates netns "$PREFIX-NAME" with lo up; echoes nothing, sets NS.
ns_add() {
  local n="$PREFIX-$1"
  echo "$n" >>"$STATE/netns"
  ip netns add "$n"
  ip -n "$n" link set lo up
}

delete_recorded_netns() {
  local n
  if [ -f "$STATE/netns" ]; then
    while read -r n; do
      [ -z "$n" ] || ip netns del "$n" 2>/dev/null || true
    done <"$STATE/netns"
    : >"$STATE/netns"
  fi
  # Safety net: anything else with our prefix (e.g. made before a record was written).
  ip netns list 2>/dev/null | awk -v p="$PREFIX-" 'index($1, p) == 1 {print $1}' |
    while read -r n; do ip netns del "$n" 2>/dev/null || true; done
}

# underlay ROW: netns ROW-u with bridge "underlay"; hosts ROW-h1/ROW-h2 with eth0 on it,
# 198.18.0.1/24 and 198.18.0.2/24.
underlay() {
  local r=$1 u="$PREFIX-$1-u" h
  ns_add "$r-u"
  ip -n "$u" link add underlay type bridge
  ip -n "$u" link set underlay up
  for h in 1 2; do
    ns_add "$r-h$h"
    ip link add eth0 netns "$PREFIX-$r-h$h" type veth peer name "l$h" netns "$u"
    ip -n "$u" link set "l$h" master underlay up
    ip -n "$PREFIX-$r-h$h" addr add "198.18.0.$h/24" dev eth0
    ip -n "$PREFIX-$r-h$h" link set eth0 up
  done
}

# container HOSTNS CNAME IFNAME MTU CIDR [BRIDGE]: netns CNAME with eth0 (CIDR, MTU) linked
# to IFNAME in HOSTNS; IFNAME joins BRIDGE when given, else stays for routing.
container() {
  local h=$1 c=$2 ifn=$3 mtu=$4 cidr=$5 br=${6:-}
  ns_add "$c"
  ip -n "$h" link add "$ifn" mtu "$mtu" type veth peer name eth0 netns "$PREFIX-$c" mtu "$mtu"
  [ -z "$br" ] || ip -n "$h" link set "$ifn" master "$br"
  ip -n "$h" link set "$ifn" up
  ip -n "$PREFIX-$c" addr add "$cidr" dev eth0
  ip -n "$PREFIX-$c" link set eth0 up
}

# ---- measurements ----
# wait_reachable NS IP SECS
wait_reachable() {
  local end=$((SECONDS + $3))
  while [ $SECONDS -lt $end ]; do
    ip netns exec "$1" ping -c 1 -W 1 "$2" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  return 1
}

# measure CLIENT_NS SERVER_NS SERVER_IP: sets GBPS (median of $REPEAT iperf3 runs), SPREAD
# and RTT (avg ms), or fails the row.
# shellcheck disable=SC2034  # GBPS, SPREAD and RTT are the results
measure() {
  local c=$1 s=$2 ip=$3
  wait_reachable "$c" "$ip" 15 || fail "no ping from $c to $ip within 15 s"
  local p
  p=$(ip netns exec "$c" ping -q -c "$PING_COUNT" -i 0.05 -W 2 "$ip" 2>&1) ||
    fail "ping to $ip: $(echo "$p" | tail -2 | tr '\n' ' ')"
  RTT=$(echo "$p" | awk -F'/' '/^rtt|^round-trip/ {print $5}')
  [ -n "$RTT" ] || fail "cannot parse ping output: $p"

  local runs=() n
  for n in $(seq "${REPEAT:-1}"); do
    iperf_once "$c" "$s" "$ip" "$n"
    runs+=("$BPS")
  done
  # The median run; SPREAD is "min-max" when there was more than one.
  read -r GBPS SPREAD < <(printf '%s\n' "${runs[@]}" | sort -g | awk '{ v[NR] = $1 * 1e-9 }
    END { h = int((NR + 1) * 0.5); m = (NR % 2 == 1) ? v[h] : (v[h] + v[h + 1]) * 0.5
          s = (NR > 1) ? sprintf("%.2f-%.2f", v[1], v[NR]) : "-"; printf "%.3f %s\n", m, s }')
}

# iperf_once CLIENT_NS SERVER_NS SERVER_IP N: one iperf3 run; sets BPS or fails the row.
iperf_once() {
  local c=$1 s=$2 ip=$3 slog="$STATE/iperf3-server-$2-$4.log"
  bg "$s" "$slog" iperf3 -s -1 -B "$ip"
  local spid=$BG_PID
  for _ in $(seq 50); do
    [ -n "$(ip netns exec "$s" ss -Hltn 'sport = :5201' 2>/dev/null)" ] && break
    sleep 0.1
  done
  local j
  j=$(ip netns exec "$c" timeout $((IPERF_SECS + 30)) iperf3 -c "$ip" -t "$IPERF_SECS" -J 2>&1) ||
    true
  local err
  err=$(echo "$j" | jq -r '.error // empty' 2>/dev/null) || err="unparsable iperf3 output"
  [ -z "$err" ] || fail "iperf3: $err $(tail -c 300 "$slog" 2>/dev/null)"
  BPS=$(echo "$j" | jq -r '.end.sum_received.bits_per_second // empty' 2>/dev/null) || true
  [ -n "$BPS" ] || fail "iperf3 gave no result: $(echo "$j" | tail -c 300)"
  wait "$spid" 2>/dev/null || true
}
