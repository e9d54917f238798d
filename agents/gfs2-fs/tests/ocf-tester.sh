#!/bin/sh
# ocf-tester conformance run of gfs2-fs on an ext4 loop device.
# Usage: ocf-tester.sh /path/to/gfs2-fs   (as root; everything made here is removed on exit)
set -eu
agent=$(readlink -f "${1:?usage: $0 AGENT-BINARY}")
tmp=$(mktemp -d /tmp/gfs2-fs-ocf-tester.XXXXXX)
dev=""
cleanup() {
	if grep -q " $tmp/mnt " /proc/self/mountinfo; then umount "$tmp/mnt" || true; fi
	[ -n "$dev" ] && losetup -d "$dev" || true
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
truncate -s 64M "$tmp/fs.img"
dev=$(losetup --find --show "$tmp/fs.img")
mkfs.ext4 -q -F "$dev"
# ocf-tester validates meta-data against the DTD named in the DOCTYPE.
set +e
ocf-tester -n gfs2-fs \
	-o device="$dev" -o directory="$tmp/mnt" -o fstype=ext4 \
	"$agent"
rc=$?
set -e
exit $rc
