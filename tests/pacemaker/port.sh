#!/bin/bash
# Porting a running resource from the shell agent to ours, as doc/admin-guide.md tells an
# administrator to, in a real one-node Pacemaker:
#   bash tests/pacemaker/port.sh
# A test network namespace with a veth (na0 192.0.2.1/24) and a primitive on
# ocf:heartbeat:IPaddr2 (ip=192.0.2.20 cidr_netmask=24 nic=na0 network_namespace=<ns>, a 10 s
# monitor), seen Started. Then the one-line port:
#   cibadmin --modify --xml-text '<primitive id="ID" provider="native" type="ipaddr2"/>'
# must leave it Started on ocf:native:ipaddr2 with no failed action, the address on na0 once;
# and the same line back to heartbeat/IPaddr2 (the way back) must do the same on the shell agent.
# Prints the operations Pacemaker ran for the switch (it restarts the resource: stop with the
# old agent, start with the new one). Uses tests/pacemaker/cluster.sh's cluster (starts it if
# needed, and then stops it) and cleans up on every exit. Needs root and the agent installed.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
source "$here/../conformance/common.sh"
source "$here/common.sh"
WAIT=${PCMK_RESOURCE_TIMEOUT:-60}

agent=ipaddr2
anchor=/usr/lib/ocf/resource.d/heartbeat/IPaddr2
[ "$(id -u)" -eq 0 ] || { echo "FAIL port: needs root"; exit 1; }
[ -x "$OCF_AGENT_DIR/$agent" ] || {
    echo "FAIL port: $OCF_AGENT_DIR/$agent is not installed (install the .deb first)"
    exit 1
}
[ -x "$anchor" ] || { echo "FAIL port: no $anchor (Debian package resource-agents)"; exit 1; }

ns=oa-pcmk-port-$$
id=port-vip-$$
vip=192.0.2.20

attr() { resource_attr "$id" "$1"; }
failed() { failures "${id}_"; }
copies_of_vip() { ip -n "$ns" -o addr show dev na0 | grep -c " $vip/24 " || true; }

cleanup() { tear_down_vip "$id" "$ns"; }
trap cleanup EXIT

# Wait up to $WAIT s until the resource is Started on agent $1; on failure show why.
wait_started_on() {
    local want=$1 t=$SECONDS
    until [ "$(attr role)" = Started ] && [ "$(attr resource_agent)" = "$want" ]; do
        if [ -n "$(failed)" ] || [ $((SECONDS - t)) -ge "$WAIT" ]; then
            echo "FAIL port: $id is '$(attr role)' on '$(attr resource_agent)', not Started on $want (after $((SECONDS - t))s)"
            show_why "$id"
            exit 1
        fi
        sleep 0.5
    done
    # The first recurring monitor runs right after start: give it a moment, then no failure.
    sleep 3
    [ -z "$(failed)" ] || { echo "FAIL port: failed actions on $want: $(failed)"; exit 1; }
    [ "$(copies_of_vip)" = 1 ] ||
        { echo "FAIL port: on $want, $vip/24 is on na0 $(copies_of_vip) times, not once"; ip -n "$ns" addr; exit 1; }
}

# The start and stop results the controller logged for this resource since log line $1.
operations_since() {
    tail -n +"$1" "$harness_dir/pacemaker.log" | grep -oE "${id}_(stop|start)_0 rc=[0-9]+" |
        sed "s/^${id}_//; s/_0 / /" | paste -sd, - | sed 's/,/, /g' || true
}

port_to() {
    local provider=$1 type=$2 mark
    mark=$(($(wc -l <"$harness_dir/pacemaker.log") + 1))
    cibadmin --modify --xml-text "<primitive id=\"$id\" provider=\"$provider\" type=\"$type\"/>"
    wait_started_on "ocf:$provider:$type"
    echo "    the switch to ocf:$provider:$type: $(operations_since "$mark")"
}

take_cluster
make_test_net "$ns"
create_vip "$id" heartbeat IPaddr2 "$vip" "$ns"
wait_started_on ocf:heartbeat:IPaddr2
echo "PASS port: $id Started on ocf:heartbeat:IPaddr2, $vip/24 on na0 in $ns"

port_to "$OCF_PROVIDER" "$agent"
echo "PASS port: one cibadmin --modify later, $id is Started on ocf:$OCF_PROVIDER:$agent, no failed action, $vip/24 on na0 once"

port_to heartbeat IPaddr2
echo "PASS port: and back: Started on ocf:heartbeat:IPaddr2 again, no failed action, $vip/24 on na0 once"
