# Baseline rows of bench/datapath (sourced): raw veth and a hand-made kernel VXLAN.
# Each row_* function runs in its own subshell (see lib.sh for ok/fail/na).

# Two container namespaces linked directly by one veth pair.
row_raw() {
  ns_add raw-c1
  ns_add raw-c2
  ip link add eth0 netns "$PREFIX-raw-c1" type veth peer name eth0 netns "$PREFIX-raw-c2"
  ip -n "$PREFIX-raw-c1" addr add 198.19.0.1/24 dev eth0
  ip -n "$PREFIX-raw-c2" addr add 198.19.0.2/24 dev eth0
  ip -n "$PREFIX-raw-c1" link set eth0 up
  ip -n "$PREFIX-raw-c2" link set eth0 up
  measure "$PREFIX-raw-c1" "$PREFIX-raw-c2" 198.19.0.2
  ok "$GBPS" "$RTT" "veth pair, MTU 1500"
}

# The shape weft builds, made by hand: hosts on an underlay bridge, a VXLAN device (UDP
# 6784, no learning, fixed remote) and a bridge per host, a container veth on the bridge.
row_vxlan() {
  underlay vx
  local h mtu=1450
  for h in 1 2; do
    local hn="$PREFIX-vx-h$h" other=$((3 - h))
    ip -n "$hn" link add br0 type bridge
    ip -n "$hn" link set br0 up
    ip -n "$hn" link add vx0 mtu $mtu type vxlan id 42 local "198.18.0.$h" \
      remote "198.18.0.$other" dstport 6784 dev eth0 nolearning
    ip -n "$hn" link set vx0 master br0 up
    container "$hn" "vx-c$h" vc1 $mtu "198.19.1.$h/24" br0
  done
  measure "$PREFIX-vx-c1" "$PREFIX-vx-c2" 198.19.1.2
  ok "$GBPS" "$RTT" "VXLAN v4 underlay, MTU $mtu"
}
