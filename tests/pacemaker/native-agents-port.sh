#!/bin/bash
# native-agents-port (issue 18) on a real one-node Pacemaker, with the package installed:
#   bash tests/pacemaker/native-agents-port.sh        (PORT_TOOL=path tries another build)
# A primitive on ocf:heartbeat:IPaddr2 (192.0.2.20/24 on na0 in a test network namespace,
# tests/pacemaker/common.sh), seen Started. Then, each step on that resource only (--resource):
#   1. --apply before this node published its version: refused with the reason, the resources
#      section and maintenance-mode unchanged;
#   2. --publish, then the dry run: exit 0, the plan and the CIB diff, nothing changed;
#   3. --apply: the resource Started on ocf:native:ipaddr2, no failed action, maintenance-mode
#      unset again;
#   4. --apply --back: Started on ocf:heartbeat:IPaddr2 again, the same.
# Across 3 and 4: `ip monitor address` in the namespace never sees the address deleted (the
# watcher is shown to see a deletion at the end), and Pacemaker's log names no start, stop,
# promote or demote of the resource (tests/pacemaker/port.sh shows the same log naming the stop
# and start of a plain agent change). Uses tests/pacemaker/cluster.sh's cluster (starts it if
# needed, and then stops it); callers on a shared machine hold /work/locks/pacemaker.lock.
# Cleans up on every exit. Root.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
source "$here/../conformance/common.sh"
source "$here/common.sh"
WAIT=${PCMK_RESOURCE_TIMEOUT:-60}
tool=${PORT_TOOL:-$SBIN_DIR/native-agents-port}

die() {
    echo "FAIL native-agents-port: $*"
    exit 1
}
[ "$(id -u)" -eq 0 ] || die "needs root"
[ -x "$tool" ] || die "no $tool (install the .deb first, or set PORT_TOOL)"
[ -x "$OCF_AGENT_DIR/ipaddr2" ] || die "no $OCF_AGENT_DIR/ipaddr2 (install the .deb first)"
[ -x /usr/lib/ocf/resource.d/heartbeat/IPaddr2 ] || die "no ocf:heartbeat:IPaddr2 (Debian package resource-agents)"

ns=na-port-$$
id=na-port-vip-$$
vip=192.0.2.20
node=$(uname -n)
work=$(mktemp -d /tmp/na-port.XXXXXX)
watcher=

maintenance() { crm_attribute --type crm_config --name maintenance-mode --query --quiet 2>/dev/null || true; }
copies_of_vip() { ip -n "$ns" -o addr show dev na0 | grep -c " $vip/24 " || true; }

cleanup() {
    [ -z "$watcher" ] || kill "$watcher" 2>/dev/null || true
    [ "$(maintenance)" != true ] || crm_attribute --type crm_config --name maintenance-mode --delete >/dev/null 2>&1 || true
    crm_attribute --type nodes --node "$node" --name native-agents-version --delete >/dev/null 2>&1 || true
    # Stopped before it is deleted: Pacemaker stops a deleted resource with the parameters of
    # its last start, and a ported (refreshed) resource has had no start (README).
    crm_resource --resource "$id" --meta --set-parameter target-role --parameter-value Stopped >/dev/null 2>&1 || true
    crm_resource --wait --timeout="${WAIT}s" >/dev/null 2>&1 || true
    tear_down_vip "$id" "$ns"
    rm -rf "$work"
}
trap cleanup EXIT

# Run the tool: $1 is the exit code wanted, the rest its arguments. Its output is kept in
# $work/out and shown indented.
run_tool() {
    local want=$1 rc=0
    shift
    "$tool" --timeout "$WAIT" "$@" >"$work/out" 2>&1 || rc=$?
    sed 's/^/    | /' "$work/out"
    [ "$rc" -eq "$want" ] || die "native-agents-port $* exited $rc, not $want"
}
said() { grep -qF -- "$1" "$work/out" || die "native-agents-port did not say: $1"; }

# Started on agent $1, no failed action, the address on na0 once, maintenance-mode unset.
check_running_on() {
    [ "$(resource_attr "$id" resource_agent)" = "$1" ] ||
        die "$id runs on '$(resource_attr "$id" resource_agent)', not $1"
    [ "$(resource_attr "$id" role)" = Started ] || die "$id is '$(resource_attr "$id" role)', not Started"
    [ -z "$(failures "${id}_")" ] || die "failed actions: $(failures "${id}_")"
    [ "$(copies_of_vip)" = 1 ] || die "$vip/24 is on na0 $(copies_of_vip) times, not once"
    [ -z "$(maintenance)" ] || die "maintenance-mode is '$(maintenance)' after the port"
}

take_cluster
make_test_net "$ns"
create_vip "$id" heartbeat IPaddr2 "$vip" "$ns"
t=$SECONDS
until [ "$(resource_attr "$id" role)" = Started ]; do
    [ $((SECONDS - t)) -lt "$WAIT" ] || { show_why "$id"; die "$id not Started on IPaddr2 after ${WAIT}s"; }
    sleep 0.5
done
crm_resource --wait --timeout="${WAIT}s" >/dev/null || die "the cluster did not settle after the start"
check_running_on ocf:heartbeat:IPaddr2
pass "set-up: $id Started on ocf:heartbeat:IPaddr2, $vip/24 on na0 in $ns"

# 1. A refusal changes nothing.
before=$(cibadmin --query --scope resources)
crm_attribute --type nodes --node "$node" --name native-agents-version --delete >/dev/null 2>&1 || true
run_tool 1 --apply --resource "$id"
said "REFUSED, nothing changed"
said "node $node publishes no native-agents version"
[ "$(cibadmin --query --scope resources)" = "$before" ] || die "the resources section changed after a refusal"
[ -z "$(maintenance)" ] || die "maintenance-mode is '$(maintenance)' after a refusal"
pass "--apply on a node that published no version: refused with the reason, nothing changed"

# 2. Publish, and the dry run.
run_tool 0 --publish
[ "$(crm_attribute --type nodes --node "$node" --name native-agents-version --query --quiet)" = \
    "$("$tool" --version | sed 's/^native-agents-port //')" ] || die "--publish did not record this build's version"
run_tool 0 --resource "$id"
said "$id: ocf:heartbeat:IPaddr2 -> ocf:native:ipaddr2"
said "dry run: nothing changed"
grep -qE "^\+ +<primitive id=\"$id\" class=\"ocf\" provider=\"native\" type=\"ipaddr2\">$" "$work/out" ||
    die "the dry run's diff does not show the new agent"
[ "$(cibadmin --query --scope resources)" = "$before" ] || die "the resources section changed in a dry run"
[ -z "$(maintenance)" ] || die "maintenance-mode is '$(maintenance)' after a dry run"
pass "--publish, then the dry run (the default): the plan and the CIB diff, nothing changed"

# 3 and 4 under watch.
ip -n "$ns" monitor address >"$work/addr.events" 2>&1 &
watcher=$!
mark=$(($(wc -l <"$harness_dir/pacemaker.log") + 1))
sleep 0.5

run_tool 0 --apply --resource "$id"
said "no start, stop, promote or demote ran"
check_running_on ocf:native:ipaddr2
pass "--apply: $id Started on ocf:native:ipaddr2, no failed action, maintenance-mode unset"

run_tool 0 --apply --back --resource "$id"
said "no start, stop, promote or demote ran"
check_running_on ocf:heartbeat:IPaddr2
pass "--apply --back: $id Started on ocf:heartbeat:IPaddr2 again, no failed action"

# The watcher sees a deletion when there is one: a scratch address added and deleted.
ip -n "$ns" addr add 192.0.2.99/24 dev na1
ip -n "$ns" addr del 192.0.2.99/24 dev na1
t=$SECONDS
until grep -q "Deleted.*192\.0\.2\.99/" "$work/addr.events"; do
    [ $((SECONDS - t)) -lt 10 ] || die "ip monitor address saw no deletion of a scratch address: it watches nothing"
    sleep 0.2
done
kill "$watcher" 2>/dev/null || true
watcher=
if grep "Deleted.* $vip/" "$work/addr.events"; then
    fail "$vip/24 was deleted from na0 during the port"
else
    pass "ip monitor address: $vip/24 never deleted from na0 through --apply and --back"
fi
acted=$(tail -n +"$mark" "$harness_dir/pacemaker.log" |
    grep -E "${id}_(start|stop|promote|demote|migrate_to|migrate_from)_0" || true)
if [ -n "$acted" ]; then
    fail "Pacemaker started or stopped $id during the port: $acted"
else
    probes=$(tail -n +"$mark" "$harness_dir/pacemaker.log" | grep -cE "${id}_monitor_0" || true)
    pass "pacemaker.log: no start, stop, promote or demote of $id through --apply and --back ($probes lines of its probes)"
fi
summary
