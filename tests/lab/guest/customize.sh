#!/bin/sh
# Customizes the guest root filesystem "$1" (run on the host, like an mmdebstrap customize hook).
# $2: the guest/ directory; $3: the ssh public key; $4: a directory of the lab's own guest
# tools (lab-boundary), installed in /usr/local/sbin; $5: a .deb of our agents (or "-").
set -eu
root=$1 guest=$2 pubkey=$3 tools=$4 deb=$5

# Management (eth by MAC 52:54:00:00:00:0N): DHCP from QEMU user networking.
# Cluster link (52:54:00:00:01:0N): the tutorial's addresses, 10.1.1.101 and .102.
mkdir -p "$root/etc/systemd/network"
cp "$guest"/network/*.network "$root/etc/systemd/network/"
ln -sf /lib/systemd/system/systemd-networkd.service "$root/etc/systemd/system/multi-user.target.wants/systemd-networkd.service"
cp "$guest/hosts" "$root/etc/hosts"
echo lab > "$root/etc/hostname"

# root over ssh with the lab's key only.
mkdir -p -m 700 "$root/root/.ssh"
install -m 600 "$pubkey" "$root/root/.ssh/authorized_keys"
printf 'PermitRootLogin prohibit-password\nUseDNS no\n' > "$root/etc/ssh/sshd_config.d/lab.conf"

# The test decides what starts (vm-lab.md): nothing of the cluster at boot until the lab
# enables it, no timers, no pcsd (pcs works without it here).
# sbd too: its package enables it as required by corosync, and without the fenced profile's
# disk and settings it would fail and take corosync with it.
for unit in corosync pacemaker dlm drbd apache2 apache-htcacheclean pcsd pcsd-ruby sbd sbd_remote \
    apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer fstrim.timer dpkg-db-backup.timer \
    systemd-tmpfiles-clean.timer man-db.timer; do
  case $unit in *.*) name=$unit ;; *) name=$unit.service ;; esac
  find "$root/etc/systemd/system" -name "$name" -type l -delete
done
# Mask only what must never run in the lab.
for unit in pcsd.service pcsd-ruby.service apt-daily.timer apt-daily-upgrade.timer man-db.timer \
    e2scrub_all.timer fstrim.timer dpkg-db-backup.timer; do
  ln -sf /dev/null "$root/etc/systemd/system/$unit"
done

# The fenced profile's watchdog (QEMU's i6300esb, present only in that profile), loaded
# before sbd starts rather than when udev's coldplug gets to it.
echo i6300esb > "$root/etc/modules-load.d/lab-watchdog.conf"

# dlm-controld does not create /etc/dlm (vm-lab.md).
mkdir -p "$root/etc/dlm"

# DRBD: the tutorial's wwwdata on /dev/drbd1, dual-primary allowed, no phoning home; and
# labtest (/dev/drbd2 on a loop device), never in Pacemaker, for the agent's own tests.
cp "$guest/drbd/wwwdata.res" "$guest/drbd/labtest.res" "$root/etc/drbd.d/"

# wwwdata's backing disk: /dev/vdb behind a linear device-mapper table, made at every boot
# before the cluster starts; the disk-failure check switches it to `error`.
cat > "$root/etc/systemd/system/lab-wwwdisk.service" <<'EOF'
[Unit]
Description=The lab's DRBD backing disk, /dev/vdb behind a device-mapper table
Wants=dev-vdb.device
After=dev-vdb.device
Before=pacemaker.service

[Service]
Type=oneshot
RemainAfterExit=yes
# Without waiting for udev (25 s at boot under emulation, most of it udev's coldplug): the
# node under /dev/mapper is made here, udev's symlinks come when they come.
ExecStart=/bin/sh -c 'dmsetup create --noudevsync wwwdisk --table "0 $(blockdev --getsz /dev/vdb) linear /dev/vdb 0" && dmsetup mknodes wwwdisk'

[Install]
WantedBy=multi-user.target
EOF
ln -sf /etc/systemd/system/lab-wwwdisk.service "$root/etc/systemd/system/multi-user.target.wants/lab-wwwdisk.service"

# Guest-side helpers of the checks.
install -m 755 "$guest/probe.sh" "$root/usr/local/sbin/lab-probe"
install -m 755 "$guest/pcs-batch.py" "$root/usr/local/sbin/lab-pcs"
# pcs imported once per boot (lab-pcsd), each pcs command forked from it: importing pcs costs
# 20-45 s a process under emulation. /usr/local/sbin/pcs comes first in root's PATH and is
# /usr/sbin/pcs itself until lab-pcsd is ready.
install -m 755 "$guest/pcs-zygote.py" "$root/usr/local/sbin/lab-pcsd"
install -m 755 "$guest/pcs-client.py" "$root/usr/local/sbin/pcs"
cat > "$root/etc/systemd/system/lab-pcsd.service" <<'EOF'
[Unit]
Description=lab: pcs imported once, each pcs command forked from it (/run/lab-pcs.sock)

[Service]
ExecStart=/usr/local/sbin/lab-pcsd
Nice=5

[Install]
WantedBy=multi-user.target
EOF
ln -sf /etc/systemd/system/lab-pcsd.service "$root/etc/systemd/system/multi-user.target.wants/lab-pcsd.service"
install -m 755 "$guest/bench.py" "$root/usr/local/sbin/lab-bench"
# The agents' own ocf-tester harnesses, run on a node by the DLM and DRBD checks.
mkdir -p "$root/usr/local/share/lab"
install -m 755 "$guest/../../../agents/dlm-controld-wrapper/tests/ocf-tester.sh" "$root/usr/local/share/lab/dlm-ocf-tester.sh"
install -m 755 "$guest/../../../agents/drbd-dualprimary/tests/ocf-tester.sh" "$root/usr/local/share/lab/drbd-ocf-tester.sh"

# Our agents: our Debian package, installed as an administrator would; dpkg refuses it when
# a dependency is missing on this release, and then the image is not built.
mkdir -p "$root/usr/lib/ocf/resource.d/native"
if [ "$deb" != "-" ]; then
  cp "$deb" "$root/tmp/agents.deb"
  chroot "$root" dpkg -i /tmp/agents.deb
  rm -f "$root/tmp/agents.deb"
  status=$(chroot "$root" dpkg-query -W -f '${Status}' native-agents)
  [ "$status" = "install ok installed" ] || { echo "native-agents: $status" >&2; exit 1; }
fi
for bin in "$tools"/*; do
  [ -f "$bin" ] || continue
  install -m 755 "$bin" "$root/usr/local/sbin/$(basename "$bin")"
done

# Keep the journal of every boot: the checks read Pacemaker's operations across reboots.
mkdir -p "$root/var/log/journal"
