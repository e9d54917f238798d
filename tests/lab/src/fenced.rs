//! `--profile fenced` (issue 14, tests/lab/FENCED.md): what the README recommends for
//! production, on Debian's own packages. SBD on a disk both machines share with QEMU's
//! i6300esb watchdog (fence_sbd, a static delay so that exactly one node wins a fence race),
//! dlm_controld's and DRBD's own fencing, interleaved clones, stickiness, and no order that
//! restarts every Apache when the VirtualIP moves.

use crate::paths::Paths;
use crate::step::{Error, Result};
use crate::sys::mins;
use crate::vm::{self, SBD_DEVICE};

/// sbd's watchdog timeout, written in its header and /etc/default/sbd: its 5 s default is
/// too short for a machine under software emulation (FENCED.md 5).
const SBD_WATCHDOG_SECONDS: u32 = 20;

/// sbd's msgwait: how long a poison pill's sender waits before it reports the victim gone
/// (twice the watchdog timeout, as sbd's manual asks).
const SBD_MSGWAIT_SECONDS: u32 = 2 * SBD_WATCHDOG_SECONDS;

/// How long fencing node1 waits (pcmk_delay_base), so that node1 wins a race. A node shot
/// by SBD's poison pill does not reset at once: sbd syncs first, and with DRBD's I/O frozen
/// (both Primaries freeze when the link goes) the sync hangs until sbd's own watchdog
/// resets the machine, up to its timeout (20 s) later; meanwhile the victim still fences.
/// Measured (lab, 2026-12-02) with 15 s: node2 read its pill 4 s after both fencers began,
/// hung in the sync, and at 15 s fenced node1 too. So: the watchdog timeout (20 s), the
/// time to write the pill under load, and a margin.
pub const NODE1_FENCE_DELAY_SECONDS: u32 = 40;

/// The longest a survivor waits for its peer's fencing: corosync's token and consensus
/// (5 + 6 s), node1's fence delay (node1 is the one fenced last) and sbd's msgwait, before
/// fence_sbd reports the peer gone.
pub const LONGEST_FENCE_WAIT_SECONDS: u32 = 5 + 6 + NODE1_FENCE_DELAY_SECONDS + SBD_MSGWAIT_SECONDS;

/// How long sbd waits at boot before it starts, and with it corosync and Pacemaker: the
/// longest a survivor may still be fencing this node. A node that rejoins before that fence
/// completes hears that it was fenced and its Pacemaker stops for good (fence-reaction
/// "stop"). Bookworm's guests booted back in 37 s, under msgwait (40 s), and a second fence,
/// delayed 40 s, reached node1 after it had rejoined (2026-12-03, check 11): so not "yes"
/// (msgwait alone) but token + consensus + fence delay + msgwait, as sbd's own notes size it.
pub const SBD_START_DELAY_SECONDS: u32 = LONGEST_FENCE_WAIT_SECONDS;

/// What a wait for a node's return adds with fencing on: sbd's start delay at its boot.
pub fn rejoin_allowance(fencing: bool) -> std::time::Duration {
    std::time::Duration::from_secs(if fencing {
        u64::from(SBD_START_DELAY_SECONDS)
    } else {
        0
    })
}

/// sbd.service's start timeout: the delay is slept before sbd forks, inside systemd's start
/// timeout (90 s by default, under the delay), plus a minute for sbd's own start.
const SBD_START_TIMEOUT_SECONDS: u32 = SBD_START_DELAY_SECONDS + 60;

/// sbd's settings on both nodes (FENCED.md 1.3-1.4).
fn sbd_defaults() -> String {
    format!(
        "SBD_DEVICE={SBD_DEVICE}\n\
         SBD_PACEMAKER=yes\n\
         SBD_STARTMODE=always\n\
         SBD_DELAY_START={SBD_START_DELAY_SECONDS}\n\
         SBD_WATCHDOG_DEV=/dev/watchdog\n\
         SBD_WATCHDOG_TIMEOUT={SBD_WATCHDOG_SECONDS}\n\
         SBD_TIMEOUT_ACTION=noflush,reboot\n\
         SBD_OPTS=\n"
    )
}

/// DRBD's fencing for wwwdata (FENCED.md 2), added to its resource file (not to the common
/// section, which would give it to labtest too, the agent tests' resource that Pacemaker
/// never manages): a Primary that loses its peer freezes I/O and asks Pacemaker to fence
/// it; I/O resumes once the peer is fenced.
const DRBD_FENCING: &str = "sed -i \
    -e 's|^  disk {$|  disk {\\n    fencing resource-and-stonith;|' \
    -e 's|^  net {$|  handlers {\\n    fence-peer \"/usr/lib/drbd/crm-fence-peer.sh --role=Promoted --timeout=120 --dc-timeout=130 --suicide-on-failure-if-primary\";\\n    unfence-peer \"/usr/lib/drbd/crm-unfence-peer.sh\";\\n    after-resync-target \"/usr/lib/drbd/crm-unfence-peer.sh\";\\n  }\\n  net {|' \
    /etc/drbd.d/wwwdata.res";

/// Debian 13's two breaks between its DRBD and DLM packages and Pacemaker 3.0, mended on the
/// node only where found, each a deviation (`repairs`):
/// - drbd-utils 9.22's crm-fence-peer.sh reads `in_ccm`/`crmd` of the peer's node_state as
///   true/false and online/offline; since Pacemaker 2.1.7 they are timestamps, 0 when down. It
///   never sees the peer fenced and keeps DRBD's I/O frozen until its --timeout or the peer's
///   return (measured: 117 s). drbd-utils 9.28 reads both forms; the same reading is added
///   where the script parses them.
/// - dlm-controld 4.3.0's dlm_stonith opens libstonithd.so.26, the name Pacemaker 3.0.0's
///   header still gave; the library is libstonithd.so.56 (Pacemaker 3.0.1 corrected the
///   header). Every DLM fencing request fails (-ELIBACC) and DLM never learns that Pacemaker
///   fenced the node, so GFS2 stays frozen until the node returns. The old name is made a
///   link to the library (the two functions dlm_stonith calls kept their signatures).
const TRIXIE_REPAIRS: &str = r#"
cfp=/usr/lib/drbd/crm-fence-peer.sh
if ! grep -q 'case $in_ccm in 0)' $cfp && ! grep -q 'in_ccm =~' $cfp; then
  cat > /run/lab-cfp.sed <<'LAB_EOF'
/# if it is not enabled, no point in waiting for it\./i\
	case $in_ccm in 0) in_ccm=false ;; [1-9]*) in_ccm=true ;; esac\
	case $crmd in 0) crmd=offline ;; [1-9]*) crmd=online ;; esac
LAB_EOF
  sed -i -f /run/lab-cfp.sed $cfp && grep -q 'case $in_ccm in 0)' $cfp && echo repaired:crm-fence-peer
fi
lib=/usr/lib/x86_64-linux-gnu
wants=$(grep -ao 'libstonithd\.so\.[0-9]*' /usr/sbin/dlm_stonith | head -1)
if [ -n "$wants" ] && [ ! -e $lib/$wants ]; then
  have=$(cd $lib && ls | grep -E '^libstonithd\.so\.[0-9]+$' | head -1)
  [ -n "$have" ] && ln -s $have $lib/$wants && echo repaired:libstonithd:$wants:$have
fi
true
"#;

/// Before the cluster forms, on each node: sbd's settings, the watchdog, sbd enabled (it
/// starts with corosync, which requires it), DRBD's fencing. Checked, not assumed.
pub fn prepare_node_script() -> String {
    format!(
        "cat > /etc/default/sbd <<'LAB_EOF'\n{}LAB_EOF\n\
         grep -q resource-and-stonith /etc/drbd.d/wwwdata.res || {DRBD_FENCING}; \
         modprobe i6300esb && test -c /dev/watchdog && test -b {SBD_DEVICE} && \
         drbdadm dump wwwdata | grep -q 'fencing *resource-and-stonith' && \
         drbdadm dump wwwdata | grep -q 'fence-peer .*crm-fence-peer.sh' && \
         mkdir -p /etc/systemd/system/sbd.service.d && \
         printf '[Service]\\nTimeoutStartSec={SBD_START_TIMEOUT_SECONDS}\\n' \
         > /etc/systemd/system/sbd.service.d/start-delay.conf && systemctl daemon-reload && \
         systemctl enable -q sbd && {{\n{TRIXIE_REPAIRS}}}",
        sbd_defaults()
    )
}

/// What `prepare_node_script` mended (its "repaired:" lines), as deviations.
pub fn repairs(output: &str) -> Vec<String> {
    let mut found = Vec::new();
    if output.contains("repaired:crm-fence-peer") {
        found.push(
            "fenced profile, Debian 13: /usr/lib/drbd/crm-fence-peer.sh (drbd-utils 9.22) given the reading of \
             node_state's in_ccm and crmd as timestamps (0: down) that drbd-utils 9.28 has: Pacemaker 3 writes \
             them so, and the script never saw the peer fenced; DRBD's I/O on the survivor stayed frozen until \
             the fenced node came back (117 s in the lab)"
                .to_owned(),
        );
    }
    if let Some(line) = output
        .lines()
        .find(|l| l.starts_with("repaired:libstonithd:"))
    {
        let mut parts = line.trim().split(':').skip(2);
        let (wants, have) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        found.push(format!(
            "fenced profile, Debian 13: {wants} made a link to {have}: dlm-controld 4.3.0's dlm_stonith opens \
             {wants}, the name Pacemaker 3.0.0's header gave (3.0.1 corrected it), so every DLM fencing \
             request failed and GFS2 on the survivor stayed frozen until the fenced node came back"
        ));
    }
    found
}

/// sbd's header on the shared disk, written once (node1): its watchdog timeout and msgwait.
pub fn create_header(paths: &Paths) -> Result<()> {
    let dump = vm::ssh_ok(
        paths,
        "node1",
        &format!(
            "sbd -d {SBD_DEVICE} -1 {SBD_WATCHDOG_SECONDS} -4 {SBD_MSGWAIT_SECONDS} create >/dev/null && \
             sbd -d {SBD_DEVICE} dump"
        ),
        mins(2),
    )?;
    let msgwait = dump
        .lines()
        .find(|l| l.starts_with("Timeout (msgwait)"))
        .and_then(|l| l.rsplit(':').next())
        .map(str::trim);
    if msgwait != Some(SBD_MSGWAIT_SECONDS.to_string().as_str()) {
        return Err(Error(format!("sbd's header is not what was asked: {dump}")));
    }
    Ok(())
}

/// The previous exercise's cluster properties and fence device in the fenced profile,
/// instead of `stonith-enabled=false` (pcs -f lines on the file `cfg`).
pub fn base_lines(cfg: &str) -> Vec<String> {
    let f = format!("pcs -f {cfg}");
    vec![
        format!("{f} property set stonith-enabled=true stonith-timeout=90s"),
        // pcmk_delay_base's keys are targets: fencing node1 waits, node2 not, so node1 wins
        // a race. power_timeout above msgwait, or fence_sbd reports failure too early. Its
        // start and monitor read the shared disk through `sbd list`: on a slow emulated day
        // both took more than the default 20 s (a failed action; a start that held up the
        // VirtualIP's 21 s after a failover).
        format!(
            "{f} stonith create sbd-fence fence_sbd devices={SBD_DEVICE} pcmk_host_list=\"node1 node2\" \
             pcmk_delay_base=\"{}\" power_timeout=50 op start timeout=60s op monitor interval=60s timeout=60s",
            delay_map()
        ),
        format!("{f} resource defaults update resource-stickiness=100"),
    ]
}

/// pcmk_delay_base's map: node1 fenced only after NODE1_FENCE_DELAY_SECONDS.
pub fn delay_map() -> String {
    format!("node1:{NODE1_FENCE_DELAY_SECONDS}s;node2:0s")
}

/// After the tutorial: its clones interleaved (each instance waits only for its own node's
/// instance of what it follows), the order that restarts every Apache when the VirtualIP
/// moves deleted.
pub fn after_tutorial_lines() -> Vec<String> {
    let f = "pcs -f fenced_cfg";
    let mut lines = vec!["pcs cluster cib fenced_cfg".to_owned()];
    for clone in ["dlm-clone", "WebData-clone", "WebFS-clone", "WebSite-clone"] {
        lines.push(format!("{f} resource meta {clone} interleave=true"));
    }
    lines.push(format!(
        "{f} constraint delete order-VirtualIP-WebSite-mandatory"
    ));
    lines.push("pcs cluster cib-push fenced_cfg --config".to_owned());
    lines
}

/// What the fenced profile changes in the tutorial, for report.json.
pub fn deviations() -> Vec<String> {
    vec![
        format!(
            "fenced profile: SBD on a 16 MiB raw disk both QEMUs share ({SBD_DEVICE}, share-rw, cache=none), \
             QEMU's i6300esb watchdog resetting the machine, sbd watchdog {SBD_WATCHDOG_SECONDS} s / msgwait {SBD_MSGWAIT_SECONDS} s (its 5 s default \
             is too short under emulation); sbd's start delayed {SBD_START_DELAY_SECONDS} s at boot (corosync's token and \
             consensus, node1's fence delay, msgwait), sbd.service's start timeout {SBD_START_TIMEOUT_SECONDS} s: a fenced node \
             that rejoined before its fencing completed stopped its Pacemaker for good"
        ),
        format!(
            "fenced profile: stonith-enabled=true, stonith-timeout=90s, fence_sbd device sbd-fence with \
             pcmk_delay_base {} (exactly one node wins a fence race: node1; {NODE1_FENCE_DELAY_SECONDS} s because a node shot by the \
             poison pill hangs in sbd's sync on frozen DRBD I/O until its watchdog resets it, up to \
             {SBD_WATCHDOG_SECONDS} s, and \
             can fence meanwhile: with 15 s both nodes were fenced), power_timeout=50, its start's and \
             monitor's timeout 60 s (`sbd list` on the shared disk overran the default 20 s under emulation)",
            delay_map()
        ),
        "fenced profile: DRBD fencing resource-and-stonith with crm-fence-peer.sh --role=Promoted (I/O \
         frozen on a Primary that loses its peer until the peer is fenced), crm-unfence-peer.sh after resync"
            .into(),
        "fenced profile: dlm created without allow_stonith_disabled and with dlm_controld's own fencing on"
            .into(),
        "fenced profile: every clone interleave=true, resource-stickiness=100, the order VirtualIP then \
         WebSite-clone deleted (the tutorial deletes only the colocation, so each move of the VirtualIP \
         restarts every Apache)"
            .into(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_node_script_writes_sbd_settings_naming_the_shared_disk() {
        let s = prepare_node_script();
        assert!(s.contains(&format!("SBD_DEVICE={SBD_DEVICE}\n")));
        assert!(s.contains("systemctl enable -q sbd"));
    }

    #[test]
    fn each_repair_the_node_reports_becomes_a_deviation_naming_what_was_linked() {
        let said =
            "repaired:crm-fence-peer\nrepaired:libstonithd:libstonithd.so.26:libstonithd.so.56\n";
        let found = repairs(said);
        assert_eq!(found.len(), 2);
        assert!(found[1].contains("libstonithd.so.26 made a link to libstonithd.so.56"));
        assert!(
            repairs("").is_empty(),
            "bookworm, or a fixed trixie: nothing mended"
        );
    }

    #[test]
    fn node1_wins_a_fence_race() {
        let lines = base_lines("base_cfg").join("\n");
        assert!(lines.contains("pcmk_delay_base=\"node1:40s;node2:0s\""));
        assert!(lines.contains("stonith-enabled=true"));
    }
}
