# Weft rows of bench/datapath (sourced): two real weftd on an underlay, one container per
# host on the `weft` bridge. WEFT_BIN (directory with weftd and weft) must be set.

# weft_report HOSTNS SOCKET: `weft report` JSON (read-only commands use the status address,
# which lives in the host's netns).
weft_report() {
  ip netns exec "$1" "$WEFT_BIN/weft" --api-socket "$2" report 2>/dev/null
}

# weft_pair ROW WANT TIMEOUT [weftd flags...]: starts weftd on ROW-h1 and ROW-h2 (h2 names
# h1 as peer) and waits until both see an established connection with datapath WANT.
# Returns 0 when there, 1 on timeout (WAIT_GAP says what the reports show); fails the row
# when a weftd exits.
weft_pair() {
  local r=$1 want=$2 timeout=$3
  shift 3
  local h
  for h in 1 2; do
    local peer=()
    [ "$h" = 1 ] || peer=(198.18.0.1)
    bg "$PREFIX-$r-h$h" "$STATE/$r-weftd-h$h.log" "$WEFT_BIN/weftd" --nickname "h$h" \
      --data-dir "$STATE/$r-h$h" --api-socket "$STATE/$r-h$h.sock" --no-discovery \
      "$@" "${peer[@]}"
    eval "WEFTD_PID_$h=$BG_PID"
  done
  local end=$((SECONDS + timeout))
  WAIT_GAP=""
  while [ $SECONDS -lt $end ]; do
    local good=0
    for h in 1 2; do
      local pid_var="WEFTD_PID_$h"
      proc_alive "${!pid_var}" ||
        fail "weftd on h$h exited: $(tail -5 "$STATE/$r-weftd-h$h.log" | tr '\n' ' ')"
      local rep n
      rep=$(weft_report "$PREFIX-$r-h$h" "$STATE/$r-h$h.sock") || rep=""
      n=$(echo "$rep" | jq --arg w "$want" \
        '[.router.connections[]? | select(.state == "established" and .datapath == $w)] | length' \
        2>/dev/null) || n=0
      if [ "${n:-0}" -ge 1 ]; then
        good=$((good + 1))
      else
        WAIT_GAP="h$h: $(echo "$rep" | jq -r '[.router.connections[]? |
          "\(.state), datapath \(.datapath): \(.datapath_info // .info)"] | join("; ") |
          if . == "" then "no connections" else . end' 2>/dev/null || echo "no report")"
      fi
    done
    [ $good = 2 ] && return 0
    sleep 0.5
  done
  return 1
}

# weft_measure ROW NOTES: containers 198.19.R.1/.2 (R per row) on each host's bridge with
# the overlay MTU from the report, then the measurement.
weft_measure() {
  local r=$1 notes=$2 net=$3
  local rep mtu enc
  rep=$(weft_report "$PREFIX-$r-h1" "$STATE/$r-h1.sock")
  mtu=$(echo "$rep" | jq -r '.router.dataplane.mtu // empty')
  [ -n "$mtu" ] || fail "no router.dataplane.mtu in the report"
  enc=$(echo "$rep" | jq -r '[.router.connections[]? | select(.state == "established") |
    .encrypted] | map(tostring) | join(",")')
  local h
  for h in 1 2; do
    container "$PREFIX-$r-h$h" "$r-c$h" vc1 "$mtu" "198.19.$net.$h/24" weft
  done
  measure "$PREFIX-$r-c1" "$PREFIX-$r-c2" "198.19.$net.2"
  ok "$GBPS" "$RTT" "$notes, MTU $mtu, encrypted=$enc"
}

row_fastdp() {
  underlay fd
  weft_pair fd fastdp 30 || fail "no fastdp connection within 30 s: $WAIT_GAP"
  weft_measure fd "no password" 4
}

row_sleeve() {
  underlay sp
  weft_pair sp sleeve 20 --datapath sleeve || na "sleeve not wired yet: $WAIT_GAP"
  weft_measure sp "--datapath sleeve, no password" 5
}

row_sleeve_enc() {
  underlay se
  export WEFT_PASSWORD  # the row runs in a subshell: gone with it
  WEFT_PASSWORD="bench-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
  weft_pair se sleeve 20 --datapath sleeve || na "sleeve not wired yet: $WAIT_GAP"
  weft_measure se "--datapath sleeve, WEFT_PASSWORD set" 6
}
