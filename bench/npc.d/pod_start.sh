# shellcheck shell=bash disable=SC2154  # tag, work, quick, bin, bench: set by bench/npc
# The pod start section of bench/npc (sourced): fail closed at pod start, by real traffic.
#
#   netns node: bridge weft, weft-npc (--node-name node1), fake-apiserver on 127.0.0.1
#     vethwcc -- client  198.19.0.1  fd00:19::1   role=client  (in the API)
#     vethwco -- other   198.19.0.2  fd00:19::2   role=other   (in the API)
#     vethwcsN - serverN 198.19.1.N  fd00:19::1:N role=server  (one per trial)
#   namespace "fc": deny all ingress; allow role=server <- role=client on TCP 80.
#
# Per trial, as a node starts a pod: the server pod's namespace, veth and addresses first
# (weft-cni's part, before the API knows the pod); then bench_npc_pod_start listens in it on
# 80 and 81, probes it from client and other every millisecond (both families), creates the
# Pod and writes its addresses, and stops once client reaches 80 in both families. Only
# client -> 80 may ever connect, and only after the addresses are in the API.
#
# Uses from bench/npc: tag, work, quick, bin, spawn, stop, quartiles, node_netns, pod_netns.

# ps_status: weft-npc's /status (JSON), or nothing. (Bash's /dev/tcp: no HTTP client needed.)
ps_status() {
  ip netns exec "$ps_node" timeout 2 bash -c 'exec 3<>/dev/tcp/127.0.0.1/6781 &&
    printf "GET /status HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n" >&3 && cat <&3' 2>/dev/null |
    sed '1,/^\r$/d' || true
}

# ps_fail MESSAGE: the section failed; weft-npc's and the API server's last lines, then exit.
ps_fail() {
  echo "bench/npc: pod start: $*" >&2
  tail -n 20 "$work/weft-npc.log" "$work/fake-apiserver.log" >&2 || true
  exit 1
}

# ps_wait_synced PODS: until weft-npc is synced with PODS local pods.
ps_wait_synced() {
  local s
  for _ in $(seq 150); do
    s=$(ps_status)
    [ -n "$s" ] && [ "$(jq -r --argjson n "$1" '.synced and .local_pods == $n' <<<"$s")" = true ] &&
      return 0
    sleep 0.1
  done
  ps_fail "weft-npc not synced with $1 local pods within 15 s: ${s:-no /status}"
}

# ps_rules_sum: weft-npc's own count and sum of pod_rules_seconds (address in -> rules live).
ps_rules_sum() {
  ps_status | jq -r '.pod_rules_seconds | "\(.count) \(.mean * .count)"' | grep . || echo "0 0"
}

pod_start_section() {
  local trials=20
  [ "$quick" = yes ] && trials=5
  echo "== pod start: fail closed ($trials fresh server pods; probes every 1 ms from an" \
       "allowed and a forbidden pod, both families) =="
  node_netns node
  ps_node="$tag-node"
  spawn "$ps_node" "$work/fake-apiserver.log" "$bin/fake-apiserver" --address 127.0.0.1 \
    --kubeconfig "$work/kubeconfig"
  for _ in $(seq 100); do [ -s "$work/kubeconfig" ] && break; sleep 0.05; done
  [ -s "$work/kubeconfig" ] || ps_fail "fake-apiserver wrote no kubeconfig"
  spawn "$ps_node" "$work/weft-npc.log" "$bin/weft-npc" --kubeconfig "$work/kubeconfig" \
    --node-name node1 --bridge weft --metrics-address 127.0.0.1:6781 --log-level warn
  local npc=$SPAWNED
  pod_netns client "$ps_node" vethwcc 198.19.0.1 fd00:19::1
  pod_netns other "$ps_node" vethwco 198.19.0.2 fd00:19::2
  local common=(--kubeconfig "$work/kubeconfig" --node node1 --namespace fc --port 80)
  ip netns exec "$ps_node" "$bin/bench_npc_pod_start" setup "${common[@]}" \
    --pod client:role=client:198.19.0.1,fd00:19::1 --pod other:role=other:198.19.0.2,fd00:19::2 ||
    ps_fail "setup failed"
  ps_wait_synced 2
  local before_count before_sum after_count after_sum i line
  read -r before_count before_sum < <(ps_rules_sum)
  : >"$work/trials"
  for i in $(seq "$trials"); do
    pod_netns "s$i" "$ps_node" "vethwcs$i" "198.19.1.$i" "fd00:19::1:$i"
    line=$(ip netns exec "$ps_node" "$bin/bench_npc_pod_start" trial "${common[@]}" \
      --other-port 81 --pod "server$i:role=server:198.19.1.$i,fd00:19::1:$i" \
      --netns "$tag-s$i" --allowed-from "$tag-client" --forbidden-from "$tag-other") ||
      ps_fail "trial $i failed"
    echo "$line" >>"$work/trials"
  done
  ps_wait_synced $((trials + 2))
  read -r after_count after_sum < <(ps_rules_sum)
  stop "$npc"

  # key=value lines -> one column of values
  column_of() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" "$work/trials"; }
  local timeouts early forbidden attempts
  timeouts=$(column_of live_ms | grep -c none || true)
  early=$(column_of early | awk '{ s += $1 } END { print s + 0 }')
  forbidden=$(column_of forbidden | awk '{ s += $1 } END { print s + 0 }')
  attempts=$(column_of attempts | awk '{ s += $1 } END { print s + 0 }')
  printf "%-44s %8s %8s %8s %8s\n" "create call -> rules live (ms)" "p50" "p99" "max" "pods"
  local key title q50 q99 hi n
  for key in live_v4_ms live_v6_ms live_ms api_ms; do
    case $key in
      live_v4_ms) title="IPv4: client connects" ;;
      live_v6_ms) title="IPv6: client connects" ;;
      live_ms) title="both families" ;;
      *) title="(of which the calls: create, status)" ;;
    esac
    read -r _ q50 _ q99 _ hi n < <(column_of "$key" | grep -v none | quartiles)
    printf "%-44s %8.1f %8.1f %8.1f %8d\n" "$title" "$q50" "$q99" "$hi" "$n"
  done
  awk -v c=$((after_count - before_count)) -v s="$after_sum" -v b="$before_sum" 'BEGIN {
    if (c > 0) printf "%-44s %8.1f %8s %8s %8d\n", "weft_npc_pod_rules_seconds (per address), mean",
                      (s - b) / c * 1000, "-", "-", c }'
  printf "%-44s %8d (of %d attempts; must be 0)\n" "forbidden connections that succeeded" \
    "$forbidden" "$attempts"
  printf "%-44s %8d (must be 0)\n" "allowed ones before the pod was in the API" "$early"
  [ "$timeouts" = 0 ] || printf "%-44s %8d\n" "pods never reachable within 10 s" "$timeouts"
}
