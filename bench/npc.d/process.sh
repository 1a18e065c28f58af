# shellcheck shell=bash disable=SC2154  # tag, work, quick, bin, bench: set by bench/npc
# The process section of bench/npc (sourced): a real weft-npc process at scale.
#
# The synthetic cluster of `bench_npc scale` (5,000 pods in 50 namespaces, 5,000 policies;
# --quick: 2,000 and 1,000) is created in the fake API server (bench_npc populate), then
# weft-npc starts as the node "node0" (about 110 of the pods are its own): the time from its
# start to a written program of every object (its /status: synced, all policies), and its
# memory then (VmRSS) and at its peak (VmHWM) — the figure the issue's 64 MiB goal is about.
#
# Uses from bench/npc: tag, work, quick, bin, bench, spawn, stop, node_netns.

# pr_status PORT: weft-npc's /status (JSON) in the process section's node, or nothing.
pr_status() {
  ip netns exec "$tag-proc" timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1 &&
    printf 'GET /status HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3 && cat <&3" 2>/dev/null |
    sed '1,/^\r$/d' || true
}

# pr_kib PID FIELD: a /proc/PID/status field in KiB.
pr_kib() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; }

process_section() {
  local pods=5000 policies=5000
  [ "$quick" = yes ] && { pods=2000; policies=1000; }
  echo "== weft-npc process at scale ($pods pods, $policies policies, node0's pods local) =="
  node_netns proc
  spawn "$tag-proc" "$work/proc-apiserver.log" "$bin/fake-apiserver" --address 127.0.0.1 \
    --kubeconfig "$work/proc-kubeconfig"
  local api=$SPAWNED
  for _ in $(seq 100); do [ -s "$work/proc-kubeconfig" ] && break; sleep 0.05; done
  [ -s "$work/proc-kubeconfig" ] || { echo "bench/npc: fake-apiserver wrote no kubeconfig" >&2; exit 1; }
  local t0 t1 t2
  t0=$(date +%s.%N)
  ip netns exec "$tag-proc" "$bench" populate --kubeconfig "$work/proc-kubeconfig" \
    --pods "$pods" --policies "$policies"
  t1=$(date +%s.%N)
  spawn "$tag-proc" "$work/proc-npc.log" "$bin/weft-npc" --kubeconfig "$work/proc-kubeconfig" \
    --node-name node0 --bridge weft --metrics-address 127.0.0.1:6782 --log-level warn
  local npc=$SPAWNED s="" synced=no
  for _ in $(seq 600); do
    s=$(pr_status 6782)
    if [ -n "$s" ] && [ "$(jq -r --argjson n "$policies" '.synced and .policies == $n' <<<"$s")" = true ]; then
      synced=yes
      break
    fi
    sleep 0.05
  done
  t2=$(date +%s.%N)
  if [ "$synced" != yes ]; then
    echo "bench/npc: weft-npc did not sync within 30 s: ${s:-no /status}" >&2
    tail -n 20 "$work/proc-npc.log" >&2
    exit 1
  fi
  sleep 2  # settled: the first writes' memory given back where it goes back
  local rss hwm local_pods groups
  rss=$(pr_kib "$npc" VmRSS)
  hwm=$(pr_kib "$npc" VmHWM)
  local_pods=$(jq -r .local_pods <<<"$s")
  groups=$(jq -r .rule_groups <<<"$s")
  stop "$npc"
  stop "$api"
  printf "%8s %8s %6s %7s %12s %16s %10s %10s\n" "pods" "policies" "local" "groups" \
    "API filled" "start->synced" "RSS" "peak RSS"
  awk -v p="$pods" -v n="$policies" -v l="$local_pods" -v g="$groups" -v a="$t0" -v b="$t1" \
    -v c="$t2" -v r="$rss" -v h="$hwm" 'BEGIN {
      printf "%8d %8d %6d %7d %10.1f s %14.2f s %7.1fMiB %7.1fMiB\n", p, n, l, g, b - a, c - b,
             r / 1024, h / 1024 }'
}
