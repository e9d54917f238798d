#!/bin/bash
# On a bare Debian machine (a fresh lab guest, before our package): does the .deb pull what it
# needs, and does each agent then answer validate-all with 0 or name what is missing (5)?
#   bash tests/package/bare-install.sh /path/to/native-agents_<version>_<arch>.deb
# Run as root on the guest itself, not on a development machine: it installs the package with
# `apt-get install` (Recommends included, as an administrator gets them) and leaves it there.
# Prints what apt pulled, then one PASS/FAIL line per agent with its exit code and reason;
# exit 1 when any failed. The agents are those the package installed; each gets the smallest
# configuration a resource of it has (the loopback address for ipaddr2, Debian's apache2.conf,
# an ext4 loop device for gfs2-fs, a promotable clone's meta-attributes for drbd-dualprimary).
set -euo pipefail
[ $# -eq 1 ] && [ -f "$1" ] || { echo "usage: $0 native-agents_VERSION_ARCH.deb" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "$0: run as root on the guest" >&2; exit 2; }
deb=$(realpath "$1")
agent_dir=/usr/lib/ocf/resource.d/native

echo "== apt-get install $deb"
before=$(dpkg-query -W -f='${Package}\n' | sort)
DEBIAN_FRONTEND=noninteractive apt-get install -y "$deb"
after=$(dpkg-query -W -f='${Package}\n' | sort)
echo "== packages pulled in: $(comm -13 <(echo "$before") <(echo "$after") | paste -sd' ')"
failed=0
for needed in native-agents pacemaker-cli-utils; do
    dpkg-query -W -f='${Status}' "$needed" 2>/dev/null | grep 'ok installed' >/dev/null ||
        { echo "FAIL $needed is not installed"; failed=1; }
done

# The same loop device for gfs2-fs whatever happens; removed at the end.
image=$(mktemp /tmp/bare-install-fs.XXXXXX)
loop=
cleanup() {
    [ -z "$loop" ] || losetup -d "$loop" 2>/dev/null || true
    rm -f "$image"
}
trap cleanup EXIT
truncate -s 64M "$image"
mkfs.ext4 -q -F "$image"
loop=$(losetup --find --show "$image")

# validate-all of agent $1 with the OCF_RESKEY_* settings that follow.
validate() {
    local agent=$1 rc=0 reason
    shift
    local params=()
    local kv
    for kv in "$@"; do params+=("OCF_RESKEY_$kv"); done
    out=$(env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin OCF_ROOT=/usr/lib/ocf \
        OCF_RESOURCE_INSTANCE=bare-check OCF_RESKEY_CRM_meta_timeout=20000 HA_LOGFACILITY=none \
        "${params[@]}" "$agent_dir/$agent" validate-all 2>&1) || rc=$?
    reason=$(sed -n 's/^ocf-exit-reason://p' <<<"$out" | tail -n 1)
    case $rc in
    0) echo "PASS $agent: validate-all 0" ;;
    5)
        if [ -n "$reason" ]; then
            echo "PASS $agent: validate-all 5, naming what is missing: $reason"
        else
            echo "FAIL $agent: validate-all 5 without a reason"
            failed=1
        fi
        ;;
    *)
        echo "FAIL $agent: validate-all $rc (neither 0 nor 5): ${reason:-no reason}"
        sed 's/^/    /' <<<"$out"
        failed=1
        ;;
    esac
}

for agent in $(ls "$agent_dir"); do
    case $agent in
    ipaddr2) validate ipaddr2 ip=127.0.0.3 ;;
    apache-clone) validate apache-clone configfile=/etc/apache2/apache2.conf ;;
    gfs2-fs) validate gfs2-fs device="$loop" directory=/mnt/bare-check fstype=ext4 ;;
    dlm-controld-wrapper) validate dlm-controld-wrapper ;;
    drbd-dualprimary)
        validate drbd-dualprimary drbd_resource=r0 CRM_meta_clone=0 CRM_meta_clone_max=2 \
            CRM_meta_clone_node_max=1 CRM_meta_notify=true CRM_meta_promotable=true \
            CRM_meta_promoted_max=2 CRM_meta_promoted_node_max=1
        ;;
    *)
        echo "FAIL $agent: this script gives no configuration for it (add one)"
        failed=1
        ;;
    esac
done
exit "$failed"
