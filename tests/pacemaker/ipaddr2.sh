#!/bin/bash
# ocf:native:ipaddr2, as the package installed it, run by a real one-node Pacemaker (issue 3):
#   bash tests/pacemaker/ipaddr2.sh
# A test network namespace with a veth pair (na0 192.0.2.1/24), the primitive created with
# cibadmin (ip=192.0.2.10 cidr_netmask=24 nic=na0 network_namespace=<ns>, a 10 s monitor), seen
# Started in crm_mon's XML with no failed action (nor after its first monitor), the address on na0 in the namespace and not
# in the host's namespace, then target-role=Stopped: seen Stopped, the address gone.
# Uses the cluster of tests/pacemaker/cluster.sh (starts it if needed, and then stops it).
# Cleans up (resource, namespace) on every exit. Needs root. Skips only while ipaddr2 builds no
# binary (a placeholder); once it does, it must be installed in OCF_AGENT_DIR.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
source "$here/../conformance/common.sh"
source "$here/common.sh"
WAIT=${PCMK_RESOURCE_TIMEOUT:-60}

agent=ipaddr2
if ! bash "$repo/tests/conformance/list-agents.sh" | grep -x "$agent" >/dev/null; then
    echo "SKIP $agent in Pacemaker: agents/$agent builds no binary yet"
    exit 0
fi
[ "$(id -u)" -eq 0 ] || { echo "FAIL $agent in Pacemaker: needs root"; exit 1; }
[ -x "$OCF_AGENT_DIR/$agent" ] || {
    echo "FAIL $agent in Pacemaker: $OCF_AGENT_DIR/$agent is not installed (install the .deb first)"
    exit 1
}

ns=oa-pcmk-$agent-$$
id=native-vip-$$
vip=192.0.2.10

role() { resource_attr "$id" role; }
# Not `grep -q`: under pipefail its early exit can kill `ip` (which writes line by line) with
# SIGPIPE, and the pipeline fails although the address is there (4% of runs, measured).
vip_in_ns() { ip -n "$ns" -o addr show dev na0 | grep " $vip/24 " >/dev/null; }
vip_on_host() { ip -o addr show | grep " $vip/" >/dev/null; }

cleanup() { tear_down_vip "$id" "$ns"; }
trap cleanup EXIT

# Wait up to $WAIT s for role $1; on failure show why.
wait_role() {
    local want=$1 t=$SECONDS
    while [ "$(role)" != "$want" ]; do
        if [ -n "$(failures "${id}_")" ] || [ $((SECONDS - t)) -ge "$WAIT" ]; then
            echo "FAIL $agent in Pacemaker: $id is '$(role)', not $want (after $((SECONDS - t))s)"
            show_why "$id"
            exit 1
        fi
        sleep 0.5
    done
}

take_cluster
make_test_net "$ns"
create_vip "$id" "$OCF_PROVIDER" "$agent" "$vip" "$ns"

wait_role Started
vip_in_ns || { echo "FAIL $agent in Pacemaker: Started, but $vip/24 is not on na0 in $ns"; ip -n "$ns" addr; exit 1; }
! vip_on_host || { echo "FAIL $agent in Pacemaker: $vip is in the host's namespace"; exit 1; }
# The first recurring monitor runs right after start: give it a moment, then no failure.
sleep 2
[ -z "$(failures "${id}_")" ] || { echo "FAIL $agent in Pacemaker: failed actions after start: $(failures "${id}_")"; exit 1; }
echo "PASS $agent in Pacemaker: $id Started, $vip/24 on na0 in netns $ns only"

crm_resource --resource "$id" --meta --set-parameter target-role --parameter-value Stopped >/dev/null
wait_role Stopped
! vip_in_ns || { echo "FAIL $agent in Pacemaker: Stopped, but $vip is still on na0 in $ns"; exit 1; }
echo "PASS $agent in Pacemaker: $id Stopped, $vip removed"
