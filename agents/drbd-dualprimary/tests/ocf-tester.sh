#!/bin/sh
# ocf-tester for drbd-dualprimary, on a lab node only: it needs a DRBD resource that is
# configured in /etc/drbd.conf (default name r0, or $DRBD_RESOURCE), has UpToDate data, and is
# NOT managed by Pacemaker right now (put the cluster in maintenance or stop it on this node):
# ocf-tester starts, promotes, demotes and stops the resource itself.
#   usage: ocf-tester.sh /path/to/drbd-dualprimary
set -u
agent=${1:?usage: $0 /path/to/drbd-dualprimary}
res=${DRBD_RESOURCE:-r0}

# Outside the lab this is exit 77, which tests/conformance/ocf-tester.sh reports as lab-only
# (and allows in CI for this agent only).
skip() { echo "SKIP drbd-dualprimary ocf-tester: $*"; exit 77; }
command -v drbdadm >/dev/null || skip "drbdadm not installed (run this on a lab node)"
drbdadm sh-dev "$res" >/dev/null 2>&1 || skip "no DRBD resource $res configured here"

# Remember whether the resource was up, to leave it as found.
was_up=no
drbdadm status "$res" >/dev/null 2>&1 && was_up=yes

ocf-tester -n drbd-dualprimary-test \
    -o drbd_resource="$res" \
    -o CRM_meta_clone_max=2 -o CRM_meta_clone_node_max=1 \
    -o CRM_meta_promoted_max=2 -o CRM_meta_promoted_node_max=1 \
    -o CRM_meta_notify=true \
    "$agent"
rc=$?

if [ "$was_up" = yes ]; then
    drbdadm up "$res" 2>/dev/null || drbdadm adjust "$res"
fi
rm -f /run/drbd-dualprimary/drbd-dualprimary-test.score
exit $rc
