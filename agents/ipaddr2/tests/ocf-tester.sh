#!/bin/sh
# ocf-tester for ipaddr2: a throw-away network namespace with a veth pair, the agent
# managing 192.0.2.10 inside it through network_namespace. Usage: ocf-tester.sh AGENT_BINARY
set -u
agent=${1:?usage: $0 AGENT_BINARY}
ns=ipaddr2-ocft-$$
peer=$ns-p
rsctmp=$(mktemp -d)
cleanup() {
    ip netns del "$ns" 2>/dev/null
    ip netns del "$peer" 2>/dev/null
    rm -rf "$rsctmp"
}
trap cleanup EXIT INT TERM
ip netns add "$ns" && ip netns add "$peer" || exit 1
ip -n "$ns" link set lo up
ip -n "$ns" link add v0 type veth peer name v0p netns "$peer" || exit 1
ip -n "$ns" link set v0 up
ip -n "$peer" link set v0p up
ip -n "$ns" addr add 192.0.2.1/24 dev v0 || exit 1
HA_RSCTMP=$rsctmp ocf-tester -n ipaddr2 \
    -o ip=192.0.2.10 -o cidr_netmask=24 -o network_namespace="$ns" "$agent"
