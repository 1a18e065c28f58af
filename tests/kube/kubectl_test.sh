#!/usr/bin/env bash
# kube.KubectlAgainstFakeApiServer: the real kubectl drives the fake API server
# (tests/support/fake_apiserver.hpp, the fake-apiserver binary of WEFT_BIN_DIR) the way an
# operator does, and its outputs are checked with jq: create -f of a multi-document manifest
# (Namespace, Pods with container ports, NetworkPolicies), get -o json / jsonpath / tables,
# label selectors, label and label --overwrite, delete (with its default --wait, which
# watches), delete -f, and upstream's errors (NotFound, AlreadyExists, Unauthorized).
#   kubectl_test.sh debian   Debian's kubectl (kubernetes-client, 1.20), from PATH
#   kubectl_test.sh extra    the kubectl that WEFT_EXTRA_KUBECTL names (build machines carry a
#                            newer one); exit 77 (skipped) when it is not set
set -uo pipefail
bin=${WEFT_BIN_DIR:?WEFT_BIN_DIR must name the build tree bin/ directory}
which=${1:-debian}
if [ "$which" = extra ] && [ -z "${WEFT_EXTRA_KUBECTL:-}" ]; then
  echo "kubectl_test: WEFT_EXTRA_KUBECTL is not set: skipped"
  exit 77
fi
work=$(mktemp -d)
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2> /dev/null
    wait "$server_pid" 2> /dev/null
  fi
  rm -rf "$work"
}
trap cleanup EXIT
failed=0
fail() {
  echo "FAIL [$label]: $*"
  failed=1
}

"$bin/fake-apiserver" --kubeconfig "$work/kubeconfig" --state "$work/state.json" \
  > "$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do
  [ -f "$work/kubeconfig" ] && break
  kill -0 "$server_pid" 2> /dev/null || break
  sleep 0.1
done
if [ ! -f "$work/kubeconfig" ]; then
  echo "FAIL: fake-apiserver did not start"
  cat "$work/server.log"
  exit 1
fi

# The manifest of one run, in namespace $1.
manifest() {
  cat << EOF
apiVersion: v1
kind: Namespace
metadata:
  name: $1
  labels:
    team: shop
---
apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: $1
  labels:
    app: web
spec:
  containers:
  - name: nginx
    image: nginx:1.25
    ports:
    - name: http
      containerPort: 80
---
apiVersion: v1
kind: Pod
metadata:
  name: db
  namespace: $1
  labels:
    app: db
    tier: data
spec:
  containers:
  - name: pg
    image: postgres:16
    ports:
    - name: pg
      containerPort: 5432
      protocol: TCP
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: db-from-web
  namespace: $1
spec:
  podSelector:
    matchLabels:
      app: db
  ingress:
  - from:
    - podSelector:
        matchLabels:
          app: web
    ports:
    - port: pg
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: web-egress
  namespace: $1
spec:
  podSelector:
    matchExpressions:
    - {key: app, operator: In, values: [web]}
  egress:
  - to:
    - ipBlock:
        cidr: 10.0.0.0/8
        except: [10.1.0.0/16]
    ports:
    - port: 5432
      endPort: 5440
EOF
}

# expect DESCRIPTION WANT GOT
expect() {
  [ "$2" = "$3" ] || fail "$1: want '$2', got '$3'"
}

run_suite() {
  local kubectl=$1 ns=$2
  label="$(basename "$kubectl") ns=$ns"
  failed=0
  local home="$work/home-$ns"
  mkdir -p "$home"
  k() { HOME="$home" "$kubectl" --kubeconfig "$work/kubeconfig" "$@"; }
  local out
  manifest "$ns" > "$work/$ns.yaml"

  out=$(k create -f "$work/$ns.yaml" 2>&1) || fail "create -f: $out"
  expect "create -f output" "namespace/$ns created
pod/web created
pod/db created
networkpolicy.networking.k8s.io/db-from-web created
networkpolicy.networking.k8s.io/web-egress created" "$out"

  out=$(k get pods -n "$ns" -o json 2>&1) || fail "get pods -o json: $out"
  expect "pod names" "db web" "$(jq -r '[.items[].metadata.name] | join(" ")' <<< "$out")"
  expect "default port protocol" "TCP" \
    "$(jq -r '.items[] | select(.metadata.name == "web") | .spec.containers[0].ports[0].protocol' <<< "$out")"
  expect "pod phase" "Pending Pending" "$(jq -r '[.items[].status.phase] | join(" ")' <<< "$out")"
  expect "uids and versions set" "true" \
    "$(jq '[.items[] | (.metadata.uid | length > 0) and (.metadata.resourceVersion | length > 0)] | all' <<< "$out")"

  out=$(k get networkpolicies -n "$ns" -o json 2>&1) || fail "get networkpolicies: $out"
  expect "policy types (defaulted)" "Ingress|Ingress,Egress" \
    "$(jq -r '[.items[].spec.policyTypes | join(",")] | join("|")' <<< "$out")"
  expect "rule port protocol" "TCP" \
    "$(jq -r '.items[] | select(.metadata.name == "db-from-web") | .spec.ingress[0].ports[0].protocol' <<< "$out")"
  expect "endPort kept" "5440" \
    "$(jq -r '.items[] | select(.metadata.name == "web-egress") | .spec.egress[0].ports[0].endPort' <<< "$out")"
  expect "generation" "1 1" "$(jq -r '[.items[].metadata.generation] | join(" ")' <<< "$out")"

  out=$(k get namespaces 2>&1) || fail "get namespaces: $out"
  grep -Eq '^NAME +STATUS +AGE$' <<< "$out" || fail "get namespaces: no table header: $out"
  grep -Eq "^$ns +Active +" <<< "$out" || fail "get namespaces: no row for $ns: $out"
  grep -Eq '^default +Active +' <<< "$out" || fail "get namespaces: no default namespace"
  expect "namespace name label" "$ns" \
    "$(k get namespace "$ns" -o jsonpath='{.metadata.labels.kubernetes\.io/metadata\.name}')"

  out=$(k label pod -n "$ns" web color=blue 2>&1) || fail "label: $out"
  expect "label output" "pod/web labeled" "$out"
  out=$(k label pod -n "$ns" web color=green 2>&1) && fail "label without --overwrite succeeded"
  grep -q "already has a value (blue)" <<< "$out" || fail "label without --overwrite: $out"
  out=$(k label --overwrite pod -n "$ns" web color=green 2>&1) || fail "label --overwrite: $out"
  expect "labels after --overwrite" '{"app":"web","color":"green"}' \
    "$(k get pod -n "$ns" web -o json | jq -c '.metadata.labels')"
  k label pod -n "$ns" db tier- > /dev/null 2>&1 || fail "label tier- failed"

  expect "jsonpath" "http:80" \
    "$(k get pod -n "$ns" web -o jsonpath='{.spec.containers[0].ports[0].name}:{.spec.containers[0].ports[0].containerPort}')"
  expect "selector =" "pod/web" "$(k get pods -n "$ns" -l app=web -o name)"
  expect "selector in" "pod/db pod/web" "$(k get pods -n "$ns" -l 'app in (web,db)' -o name | xargs)"
  expect "selector notin, !key" "pod/db" "$(k get pods -n "$ns" -l 'app notin (web),!color' -o name)"
  expect "field selector" "pod/db" \
    "$(k get pods -n "$ns" --field-selector metadata.name=db -o name)"
  expect "all namespaces" "2" "$(k get pods -A -o json | jq "[.items[] | select(.metadata.namespace == \"$ns\")] | length")"

  out=$(k create -f "$work/$ns.yaml" 2>&1) && fail "second create -f succeeded"
  grep -q 'Error from server (AlreadyExists).*pods "web" already exists' <<< "$out" ||
    fail "second create -f: want AlreadyExists, got: $out"
  out=$(k get pod -n "$ns" nosuch 2>&1) && fail "get of a missing pod succeeded"
  expect "NotFound" 'Error from server (NotFound): pods "nosuch" not found' "$out"
  out=$(k get pods --token wrong 2>&1) && fail "a wrong token was accepted"
  grep -q "Unauthorized" <<< "$out" || fail "wrong token: want Unauthorized, got: $out"

  out=$(k delete pod -n "$ns" db 2>&1) || fail "delete pod: $out"
  expect "delete output" "pod \"db\" deleted" "$out"
  out=$(k get pod -n "$ns" db 2>&1) && fail "pod db still there after delete"
  out=$(k delete -f "$work/$ns.yaml" --ignore-not-found 2>&1) || fail "delete -f: $out"
  grep -q "namespace \"$ns\" deleted" <<< "$out" || fail "delete -f output: $out"
  out=$(k get namespace "$ns" 2>&1) && fail "namespace $ns still there after delete -f --wait: $out"
  expect "everything gone" "0" "$(k get pods,networkpolicies -A -o json | jq "[.items[] | select(.metadata.namespace == \"$ns\")] | length")"
  [ "$failed" -ne 0 ] || echo "ok [$label, $("$kubectl" version --client -o json | jq -r .clientVersion.gitVersion)]"
}

if [ "$which" = extra ]; then
  run_suite "$WEFT_EXTRA_KUBECTL" shop-extra
else
  run_suite kubectl shop-debian
fi

if [ "$failed" -ne 0 ]; then
  echo "--- fake-apiserver log"
  cat "$work/server.log"
  exit 1
fi
echo "kubectl_test: every check passed"
