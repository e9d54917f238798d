#!/bin/sh
# ocf-tester for dlm-controld-wrapper. Run it as root on a lab node (two-node QEMU lab) where
# Pacemaker runs, dlm-controld is installed, and the cluster's own dlm clone is not active on
# this node (`pcs resource disable dlm-clone`, or ban it from the node): ocf-tester starts and
# stops dlm_controld itself, directly, several times.
#
#   agents/dlm-controld-wrapper/tests/ocf-tester.sh /path/to/dlm-controld-wrapper
#
# Exits with ocf-tester's status (1 also when the node is not ready for the test, 77 on a
# host without DLM).
set -u

agent=${1:?usage: $0 /path/to/dlm-controld-wrapper}
name=dlm-controld-wrapper

fail() { echo "ocf-tester.sh: $*" >&2; exit 1; }
# Exit 77 tells tests/conformance/ocf-tester.sh "lab-only: not on this host".
not_here() { echo "SKIP dlm-controld-wrapper ocf-tester: $* (run it on a lab node)" >&2; exit 77; }

[ "$(id -u)" = 0 ] || fail "needs root (ocf-tester runs real actions)"
[ -x "$agent" ] || fail "$agent is not an executable"
command -v ocf-tester >/dev/null || fail "ocf-tester is missing (package resource-agents)"
[ -d /sys/kernel/config/dlm ] || modprobe -q dlm 2>/dev/null ||
    not_here "this kernel has no DLM"
command -v dlm_controld >/dev/null || [ -x /usr/sbin/dlm_controld ] ||
    not_here "dlm_controld is missing (package dlm-controld)"
cibadmin --query --scope crm_config >/dev/null 2>&1 ||
    fail "no running Pacemaker here: the agent reads the fencing setting from the CIB"
if pgrep -x dlm_controld >/dev/null; then
    fail "dlm_controld already runs on this node (the cluster's dlm clone?); disable it first"
fi
if [ -n "$(ls /sys/kernel/dlm 2>/dev/null)" ]; then
    fail "DLM lockspaces exist (a mounted GFS2?): $(ls /sys/kernel/dlm | tr '\n' ' ')"
fi

# ocf-tester first runs meta-data as user nobody: the agent and its directory must be
# readable and executable by everyone.
dir=$(mktemp -d) || fail "mktemp failed"
chmod 755 "$dir"
install -m 755 "$agent" "$dir/$name"

cleanup() {
    # Leave no daemon behind, whatever happened.
    OCF_ROOT=/usr/lib/ocf OCF_RESOURCE_INSTANCE=dlm-test OCF_RESKEY_CRM_meta_timeout=100000 \
        "$dir/$name" stop >/dev/null 2>&1
    rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# The lab runs without STONITH, as the tutorial does: allow it (ignored when fencing is on).
ocf-tester -v -n dlm-test \
    -o args="-s 0" \
    -o allow_fencing_disabled=true \
    "$dir/$name"
rc=$?
echo "ocf-tester exited $rc"
exit $rc
