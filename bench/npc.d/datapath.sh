# shellcheck shell=bash disable=SC2154  # tag, work, quick, bin, bench: set by bench/npc
# The datapath section of bench/npc (sourced): iperf3 TCP and ping RTT between two pods on
# the bridge weft, for the plain bridge and weft-npc's program at 0, 100 and 1,000 policies.
#
# Why rounds: one measurement per setup leaves the RTT column to noise (±0.01 ms between runs
# on a shared VM), the size of the effect we claim to bound. So every round measures each
# setup once, in turn (the order rotates from round to round), and the tables show medians
# over the rounds with their quartiles; the overhead columns are the median and quartiles of
# the per-round differences against the 0-policy setup of the same round, so that a drift of
# the machine during the run cancels. Per round and setup: one iperf3 run, then pings every
# 2 ms (the RTT a pod sees; it includes waking an idle CPU) and back to back (the path's own
# cost, with much less noise); a round's RTT is the interquartile mean of its pings.
#
# Uses from bench/npc: tag, work, quick, bench, spawn, stop, quartiles, node_netns, pod_netns.

# dp_apply SETUP: "plain" (no netfilter on the bridge, no program) or a policy count (that
# program from bench_npc, written before the rounds).
dp_apply() {
  if [ "$1" = plain ]; then
    ip -n "$dp_host" link set weft type bridge nf_call_iptables 0 nf_call_ip6tables 0
    ip netns exec "$dp_host" nft flush ruleset
  else
    ip -n "$dp_host" link set weft type bridge nf_call_iptables 1 nf_call_ip6tables 1
    ip netns exec "$dp_host" nft -f "$work/program-$1.nft"
  fi
}

# dp_ping COUNT INTERVAL: the interquartile mean RTT (ms) of COUNT pings from pod a to pod b:
# as robust as the median, and finer than ping's 0.001 ms steps.
dp_ping() {
  ip netns exec "$tag-a" ping -c "$1" -i "$2" 198.19.0.2 |
    sed -n 's/.* time=\([0-9.]*\) ms$/\1/p' | sort -g |
    awk '{ v[NR] = $1 } END { lo = int(NR / 4) + 1; hi = NR - int(NR / 4)
      for (i = lo; i <= hi; i++) s += v[i]; printf "%.6f\n", s / (hi - lo + 1) }'
}

# dp_measure SETUP ROUND: appends "ROUND GBPS RTT_MS B2B_RTT_MS" to $work/dp-SETUP.
dp_measure() {
  local gbps
  gbps=$(ip netns exec "$tag-a" iperf3 -c 198.19.0.2 -t "$dp_secs" -J |
         jq '.end.sum_received.bits_per_second / 1e9')
  echo "$2 $gbps $(dp_ping "$dp_pings" 0.002) $(dp_ping 1000 0)" >>"$work/dp-$1"
}

# dp_paired SETUP COLUMN OP: per round, SETUP's COLUMN (2: Gbit/s, 3: RTT, 4: back-to-back
# RTT) against the 0-policy setup's of the same round ("-": difference, "/": ratio).
dp_paired() {
  awk -v c="$2" -v op="$3" 'NR == FNR { base[$1] = $c; next }
    $1 in base { print (op == "/" ? $c / base[$1] : $c - base[$1]) }' "$work/dp-0" "$work/dp-$1"
}

# dp_spread SETUP COLUMN FORMAT: "p50 p25-p75" of COLUMN over the rounds, each in FORMAT.
dp_spread() {
  awk -v c="$2" '{print $c}' "$work/dp-$1" | quartiles |
    awk -v f="$3" '{ printf f " " f "-" f "\n", $2, $1, $3 }'
}

# dp_overhead SETUP COLUMN: "+p50 +p25..+p75" (ms) of the paired differences; "- -" for plain.
dp_overhead() {
  if [ "$1" = plain ]; then echo "- -"; return; fi
  dp_paired "$1" "$2" - | quartiles | awk '{ printf "%+.4f %+.4f..%+.4f\n", $2, $1, $3 }'
}

dp_title() {
  if [ "$1" = plain ]; then echo "plain bridge (no netfilter)"; else echo "weft-npc, $1 policies"; fi
}

dp_tables() {
  local s gbps gbps_spread ratio rtt rtt_spread extra extra_spread
  printf "%-27s %10s %8s %13s %8s %13s %8s %16s\n" "setup" "TCP Gbit/s" "ratio" \
    "TCP p25-p75" "RTT ms" "RTT p25-p75" "RTT +ms" "RTT +ms p25..p75"
  for s in "${dp_setups[@]}"; do
    read -r gbps gbps_spread < <(dp_spread "$s" 2 %.2f)
    read -r rtt rtt_spread < <(dp_spread "$s" 3 %.4f)
    read -r extra extra_spread < <(dp_overhead "$s" 3)
    ratio="-"
    [ "$s" = plain ] || ratio=$(dp_paired "$s" 2 / | quartiles | awk '{printf "%.3fx", $2}')
    printf "%-27s %10s %8s %13s %8s %13s %8s %16s\n" "$(dp_title "$s")" "$gbps" "$ratio" \
      "$gbps_spread" "$rtt" "$rtt_spread" "$extra" "$extra_spread"
  done
  echo
  echo "back-to-back pings (no idle CPU between them: the path's own cost)"
  printf "%-27s %8s %13s %8s %16s\n" "setup" "RTT ms" "RTT p25-p75" "RTT +ms" "RTT +ms p25..p75"
  for s in "${dp_setups[@]}"; do
    read -r rtt rtt_spread < <(dp_spread "$s" 4 %.4f)
    read -r extra extra_spread < <(dp_overhead "$s" 4)
    printf "%-27s %8s %13s %8s %16s\n" "$(dp_title "$s")" "$rtt" "$rtt_spread" "$extra" \
      "$extra_spread"
  done
}

datapath_section() {
  local rounds=7 s r i n
  dp_setups=(plain 0 100 1000)
  dp_secs=3 dp_pings=500
  [ "$quick" = yes ] && { rounds=3; dp_secs=1; dp_pings=150; }
  echo "== datapath: two pods on the bridge weft ($rounds rounds, setups in turn; per round" \
       "iperf3 ${dp_secs} s, $dp_pings pings every 2 ms, 1000 back to back) =="
  node_netns host
  dp_host="$tag-host"
  ip netns exec "$dp_host" sysctl -qw net.bridge.bridge-nf-call-iptables=0 \
    net.bridge.bridge-nf-call-ip6tables=0
  pod_netns a "$dp_host" vethwca 198.19.0.1 fd00:19::1
  pod_netns b "$dp_host" vethwcb 198.19.0.2 fd00:19::2
  for s in "${dp_setups[@]}"; do
    : >"$work/dp-$s"
    [ "$s" = plain ] && continue
    "$bench" program --policies "$s" --pod x/a=198.19.0.1,fd00:19::1 \
      --pod x/b=198.19.0.2,fd00:19::2 >"$work/program-$s.nft"
  done
  spawn "$tag-b" "$work/iperf3.log" iperf3 -s
  local server=$SPAWNED
  for _ in $(seq 50); do
    [ -n "$(ip netns exec "$tag-b" ss -Hltn 'sport = :5201')" ] && break
    sleep 0.1
  done
  n=${#dp_setups[@]}
  for r in $(seq "$rounds"); do
    for i in $(seq 0 $((n - 1))); do
      s=${dp_setups[$(((r + i) % n))]}
      dp_apply "$s"
      dp_measure "$s" "$r"
    done
  done
  stop "$server"
  dp_tables
}
