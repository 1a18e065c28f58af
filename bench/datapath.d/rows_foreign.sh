# Encrypted peers from Debian for bench/datapath (sourced): wireguard-go (userspace; the
# kernel has no WireGuard module) and nebula. Same topology as weft's rows: two hosts on an
# underlay, one container behind each host; here the containers are routed (not bridged)
# through the tunnel interface: container -> veth -> host -> tunnel -> host -> veth -> container.

# routed_containers ROW NET TUNIF MTU: container ROW-cH at 198.19.NET$H.2/24 behind ROW-hH
# (gateway 198.19.NET$H.1), forwarding on in the hosts, and a route on each host to the
# other container's subnet through TUNIF (its name on that host: TUNIF$H).
routed_containers() {
  local r=$1 net=$2 tun=$3 mtu=$4 h
  for h in 1 2; do
    local hn="$PREFIX-$r-h$h" other=$((3 - h))
    ip netns exec "$hn" sysctl -qw net.ipv4.ip_forward=1
    container "$hn" "$r-c$h" vc1 "$mtu" "198.19.$net$h.2/24"
    ip -n "$hn" addr add "198.19.$net$h.1/24" dev vc1
    ip -n "$PREFIX-$r-c$h" route add default via "198.19.$net$h.1"
    ip -n "$hn" route replace "198.19.$net$other.0/24" dev "$tun$h"
  done
}

row_wireguard() {
  { command -v wireguard-go && command -v wg; } >/dev/null ||
    fail "wireguard-go or wg missing (scripts/setup installs wireguard-go wireguard-tools)"
  underlay wg
  local ifn="${PREFIX}g" h mtu=1420  # interface names end in 1/2; UAPI sockets are global
  for h in 1 2; do
    local hn="$PREFIX-wg-h$h"
    echo "/var/run/wireguard/$ifn$h.sock" >>"$STATE/files"
    WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1 \
      bg "$hn" "$STATE/wg-h$h.log" wireguard-go -f "$ifn$h"
    for _ in $(seq 50); do
      [ -S "/var/run/wireguard/$ifn$h.sock" ] && ip -n "$hn" link show "$ifn$h" >/dev/null 2>&1 &&
        break
      sleep 0.1
    done
    ip -n "$hn" link show "$ifn$h" >/dev/null 2>&1 ||
      fail "wireguard-go made no $ifn$h: $(tail -3 "$STATE/wg-h$h.log" | tr '\n' ' ')"
    wg genkey >"$STATE/wg-h$h.key"
    wg pubkey <"$STATE/wg-h$h.key" >"$STATE/wg-h$h.pub"
  done
  for h in 1 2; do
    local hn="$PREFIX-wg-h$h" o=$((3 - h))
    ip netns exec "$hn" wg set "$ifn$h" private-key "$STATE/wg-h$h.key" listen-port 51820 \
      peer "$(cat "$STATE/wg-h$o.pub")" endpoint "198.18.0.$o:51820" \
      allowed-ips "198.19.7.$o/32,198.19.7$o.0/24"
    ip -n "$hn" addr add "198.19.7.$h/24" dev "$ifn$h"
    ip -n "$hn" link set "$ifn$h" mtu $mtu up
  done
  routed_containers wg 7 "$ifn" $mtu
  measure "$PREFIX-wg-c1" "$PREFIX-wg-c2" 198.19.72.2
  ok "$GBPS" "$RTT" "wireguard-go $(wireguard-go --version 2>/dev/null | awk '{print $2; exit}'), containers routed via the wg interface, MTU $mtu"
}

nebula_config() {  # nebula_config H TUNIF: config for host H (1 or 2)
  local h=$1 tun=$2 o=$((3 - $1))
  cat <<EOF
pki:
  ca: $STATE/nebula/ca.crt
  cert: $STATE/nebula/h$h.crt
  key: $STATE/nebula/h$h.key
static_host_map:
  "198.19.8.$o": ["198.18.0.$o:4242"]
lighthouse:
  am_lighthouse: false
  hosts: []
listen:
  host: 0.0.0.0
  port: 4242
punchy:
  punch: false
tun:
  disabled: false
  dev: $tun
  mtu: 1300
  unsafe_routes:
    - route: 198.19.8$o.0/24
      via: 198.19.8.$o
logging:
  level: warning
firewall:
  outbound:
    - port: any
      proto: any
      host: any
  inbound:
    - port: any
      proto: any
      host: any
EOF
}

row_nebula() {
  { command -v nebula && command -v nebula-cert; } >/dev/null ||
    fail "nebula or nebula-cert missing (scripts/setup installs nebula)"
  underlay nb
  local d="$STATE/nebula" tun="${PREFIX}n" h mtu=1300
  mkdir -p "$d"
  nebula-cert ca -name "weft-bench" -out-crt "$d/ca.crt" -out-key "$d/ca.key" >/dev/null
  for h in 1 2; do
    nebula-cert sign -ca-crt "$d/ca.crt" -ca-key "$d/ca.key" -name "h$h" -ip "198.19.8.$h/24" \
      -subnets "198.19.8$h.0/24" -out-crt "$d/h$h.crt" -out-key "$d/h$h.key" >/dev/null
    nebula_config "$h" "$tun$h" >"$d/h$h.yml"
    bg "$PREFIX-nb-h$h" "$STATE/nebula-h$h.log" nebula -config "$d/h$h.yml"
  done
  for h in 1 2; do
    for _ in $(seq 50); do
      ip -n "$PREFIX-nb-h$h" link show "$tun$h" >/dev/null 2>&1 && break
      sleep 0.1
    done
    ip -n "$PREFIX-nb-h$h" link show "$tun$h" >/dev/null 2>&1 ||
      fail "nebula made no $tun$h: $(tail -3 "$STATE/nebula-h$h.log" | tr '\n' ' ')"
  done
  routed_containers nb 8 "$tun" $mtu
  measure "$PREFIX-nb-c1" "$PREFIX-nb-c2" 198.19.82.2
  ok "$GBPS" "$RTT" "nebula $(nebula -version 2>/dev/null | awk '{print $2; exit}'), static host map, no lighthouse, containers via unsafe_routes, MTU $mtu"
}
