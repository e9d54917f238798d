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
WAIT=${PCMK_RESOURCE_TIMEOUT:-60}

agent=ipaddr2
if ! bash "$repo/tests/conformance/list-agents.sh" | grep -qx "$agent"; then
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
started_cluster=no

crm_mon_xml() { crm_mon -1 --output-as=xml 2>/dev/null; }
role() { crm_mon_xml | xmllint --xpath "string(//resources//resource[@id='$id']/@role)" - 2>/dev/null || true; }
failures() {
    crm_mon_xml | xmllint --xpath "//failures/failure[starts-with(@op_key, '${id}_')]" - 2>/dev/null || true
}
vip_in_ns() { ip -n "$ns" -o addr show dev na0 | grep -q " $vip/24 "; }
vip_on_host() { ip -o addr show | grep -q " $vip/"; }

cleanup() {
    cibadmin --delete -o resources --xml-text "<primitive id=\"$id\"/>" >/dev/null 2>&1 || true
    local t=$SECONDS
    while [ -n "$(role)" ] && [ $((SECONDS - t)) -lt "$WAIT" ]; do sleep 0.5; done
    ip netns del "$ns" 2>/dev/null || true
    [ "$started_cluster" = no ] || bash "$here/cluster.sh" stop || true
}
trap cleanup EXIT

# Wait up to $WAIT s for role $1; on failure show why.
wait_role() {
    local want=$1 t=$SECONDS
    while [ "$(role)" != "$want" ]; do
        if [ -n "$(failures)" ] || [ $((SECONDS - t)) -ge "$WAIT" ]; then
            echo "FAIL $agent in Pacemaker: $id is '$(role)', not $want (after $((SECONDS - t))s)"
            echo "    failed actions: $(failures)"
            crm_mon -1 | sed 's/^/    /'
            tail -n 20 "$harness_dir/pacemaker.log" | sed 's/^/    /'
            exit 1
        fi
        sleep 0.5
    done
}

# One test at a time on the one cluster (ocf_testkit::pacemaker takes the same lock).
harness_dir=${PCMK_HARNESS_DIR:-$repo/target/pacemaker}
mkdir -p "$harness_dir"
exec 9>"$harness_dir/turn.lock"
flock 9
if ! bash "$here/cluster.sh" status >/dev/null; then
    started_cluster=yes
    bash "$here/cluster.sh" start
fi

ip netns add "$ns"
ip -n "$ns" link set lo up
ip -n "$ns" link add na0 type veth peer name na1
ip -n "$ns" link set na0 up
ip -n "$ns" link set na1 up
ip -n "$ns" addr add 192.0.2.1/24 dev na0

cibadmin --create -o resources --xml-text "
<primitive id=\"$id\" class=\"ocf\" provider=\"$OCF_PROVIDER\" type=\"$agent\">
  <instance_attributes id=\"$id-params\">
    <nvpair id=\"$id-ip\" name=\"ip\" value=\"$vip\"/>
    <nvpair id=\"$id-cidr\" name=\"cidr_netmask\" value=\"24\"/>
    <nvpair id=\"$id-nic\" name=\"nic\" value=\"na0\"/>
    <nvpair id=\"$id-ns\" name=\"network_namespace\" value=\"$ns\"/>
  </instance_attributes>
  <operations>
    <op id=\"$id-monitor\" name=\"monitor\" interval=\"10s\" timeout=\"20s\"/>
  </operations>
</primitive>"

wait_role Started
vip_in_ns || { echo "FAIL $agent in Pacemaker: Started, but $vip/24 is not on na0 in $ns"; ip -n "$ns" addr; exit 1; }
! vip_on_host || { echo "FAIL $agent in Pacemaker: $vip is in the host's namespace"; exit 1; }
# The first recurring monitor runs right after start: give it a moment, then no failure.
sleep 2
[ -z "$(failures)" ] || { echo "FAIL $agent in Pacemaker: failed actions after start: $(failures)"; exit 1; }
echo "PASS $agent in Pacemaker: $id Started, $vip/24 on na0 in netns $ns only"

crm_resource --resource "$id" --meta --set-parameter target-role --parameter-value Stopped >/dev/null
wait_role Stopped
! vip_in_ns || { echo "FAIL $agent in Pacemaker: Stopped, but $vip is still on na0 in $ns"; exit 1; }
echo "PASS $agent in Pacemaker: $id Stopped, $vip removed"
