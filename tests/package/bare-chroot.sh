#!/bin/bash
# tests/package/bare-install.sh in a bare Debian built for the purpose, when no lab guest is at
# hand: `mmdebstrap --variant=minbase` of RELEASE (Essential packages and apt, nothing else),
# /proc, /sys and /dev bind-mounted, the .deb and the script copied in, the script run there
# as root. Not part of tests/run.sh (a chroot per release costs minutes of downloads).
#   bash tests/package/bare-chroot.sh RELEASE DEB [DIR]
# RELEASE is a Debian suite (trixie, bookworm); DIR defaults to target/bare/RELEASE and is
# rebuilt from scratch. The mirror is the host's: the first URI of its apt sources.
# Added to minbase, as the script's own tools and not the package's: e2fsprogs and mount
# (mkfs.ext4 and losetup for gfs2-fs's loop device). A policy-rc.d refuses every service
# start, so the packages apt pulls (pacemaker, apache2...) start no daemon on the host.
# The mounts are undone however the run ends; the exit code is the script's.
set -euo pipefail
[ $# -ge 2 ] && [ -f "$2" ] || { echo "usage: $0 RELEASE native-agents_VERSION_ARCH.deb [DIR]" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "$0: run as root (mmdebstrap, mount, chroot)" >&2; exit 2; }
release=$1
deb=$(realpath "$2")
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
dir=$(realpath -m "${3:-$repo/target/bare/$release}")

# The host's mirror, from deb822 sources or a one-line sources.list, never written here.
mirror=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '/^URIs:/ { print $2; exit }')
[ -n "$mirror" ] || mirror=$(grep -hs '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list |
    awk '{ for (i = 2; i <= NF; i++) if ($i !~ /^\[/ && $i !~ /\]$/) { print $i; exit } }')
[ -n "$mirror" ] || { echo "$0: no apt source on this host to take a mirror from" >&2; exit 2; }

mounted=()
cleanup() {
    local i
    for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
        umount "${mounted[i]}" || umount -l "${mounted[i]}" || true
    done
}
trap cleanup EXIT

rm -rf "$dir"
mkdir -p "$(dirname "$dir")"
echo "== mmdebstrap --variant=minbase $release into $dir" >&2
mmdebstrap --variant=minbase --include=e2fsprogs,mount "$release" "$dir" \
    "deb $mirror $release main" >&2
printf '#!/bin/sh\nexit 101\n' >"$dir/usr/sbin/policy-rc.d"
chmod 755 "$dir/usr/sbin/policy-rc.d"
cp "$deb" "$repo/tests/package/bare-install.sh" "$dir/root/"
for fs in proc sys dev; do
    mount --bind "/$fs" "$dir/$fs"
    mounted+=("$dir/$fs")
done
# mmdebstrap leaves no package lists behind; an administrator's first step is the same.
chroot "$dir" apt-get update -q >&2
rc=0
chroot "$dir" /bin/bash /root/bare-install.sh "/root/$(basename "$deb")" || rc=$?
exit "$rc"
