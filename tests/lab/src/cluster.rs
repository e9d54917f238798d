//! `lab up`: boot both nodes, form the cluster, rebuild the previous exercise's starting point,
//! then replay the tutorial's own pcs commands (batched with `pcs -f` and `cib-push` as the
//! tutorial does), with only the fixes an administrator must make, each one recorded.

use crate::agents::{self, Choice, Mode};
use crate::breaks::Break;
use crate::crm;
use crate::fenced;
use crate::image::{self, Image};
use crate::paths::Paths;
use crate::pcs::Pcs;
use crate::setup::{Profile, Setup};
use crate::step::{Error, Result, say, step};
use crate::sys::{mins, run_ok, secs};
use crate::vm::{self, NODES};
use std::fs;
use std::path::PathBuf;
use std::process::Command;
use std::thread;

/// What `up` built: the agents chosen, what the guests run and every deviation from the
/// tutorial.
pub struct Up {
    pub choice: Choice,
    pub versions: Vec<(String, String)>,
    pub deviations: Vec<String>,
}

/// Runs `script` on node1 and node2 at the same time.
fn on_both(paths: &Paths, script: &str) -> Result<()> {
    thread::scope(|s| {
        let handles: Vec<_> = NODES
            .iter()
            .map(|n| s.spawn(move || vm::ssh_ok(paths, n, script, mins(5)).map(|_| ())))
            .collect();
        handles
            .into_iter()
            .try_for_each(|h| h.join().map_err(|_| Error("ssh thread panicked".into()))?)
    })
}

/// A script that runs pcs command lines through lab-pcs (guest/pcs-batch.py): pcs's own entry
/// point once per line, in one Python process, stopping at the first failure.
fn pcs_script(cmds: &[String]) -> String {
    format!(
        "cd /root && lab-pcs <<'LAB_EOF'\n{}\nLAB_EOF",
        cmds.join("\n")
    )
}

fn boot(paths: &Paths, image: &Image, profile: Profile) -> Result<()> {
    vm::down(paths)?;
    fs::create_dir_all(&paths.run)?;
    if profile.fencing() {
        vm::create_sbd_disk(paths)?;
    }
    fs::write(paths.run.join("image"), image.dir.display().to_string())?;
    for node in NODES {
        // A fresh console per `up`; `lab start` appends to it.
        let console = vm::console_log(paths, node);
        if console.exists() {
            fs::remove_file(console)?;
        }
        vm::launch(paths, image, node)?;
    }
    for node in NODES {
        vm::wait_ssh(paths, node, mins(5))?;
    }
    Ok(())
}

/// corosync.conf written by pcs without pcsd (vm-lab.md), copied to node2; corosync and
/// pacemaker started and enabled at boot on both, so that a killed node rejoins by itself when booted again.
fn form(paths: &Paths) -> Result<()> {
    vm::ssh_ok(
        paths,
        "node1",
        "pcs cluster setup mycluster node1 addr=10.1.1.101 node2 addr=10.1.1.102 \
         transport knet crypto cipher=none hash=none totem token=5000 \
         --corosync_conf /etc/corosync/corosync.conf --overwrite",
        mins(2),
    )?;
    let conf = vm::ssh_ok(paths, "node1", "cat /etc/corosync/corosync.conf", secs(30))?;
    vm::ssh_ok(
        paths,
        "node2",
        &format!("cat > /etc/corosync/corosync.conf <<'LAB_EOF'\n{conf}LAB_EOF"),
        secs(30),
    )?;
    // What `pcs cluster start` + `pcs cluster enable` do on each node, without paying a pcs
    // start-up (8-20 s under emulation) on both.
    on_both(paths, "systemctl enable -q --now corosync pacemaker")?;
    crm::wait(paths, "node1", "both nodes online", mins(3), |s| {
        s.online.len() == 2
    })?;
    Ok(())
}

/// The previous exercise (IP Failover + Apache2 + DRBD, active-passive with ext4), which the
/// tutorial starts from: its `pcs -f` batch, made on node2 from an empty CIB (`pcs -f` needs
/// no running cluster), while node1 forms the cluster and DRBD gets its metadata and ext4.
/// Returns the deviations its set-up made (the fenced profile's repairs).
fn previous(
    paths: &Paths,
    choice: &Choice,
    spell: &mut Pcs,
    profile: Profile,
) -> Result<Vec<String>> {
    // Both backing disks are blank, so the initial sync is skipped (DRBD's documented
    // --clear-bitmap new-current-uuid); under emulation it would take minutes.
    let drbd_node1 = "drbdadm -- --force create-md wwwdata && drbdadm up wwwdata && \
        for i in $(seq 240); do grep -q cs:Connected /proc/drbd && break; sleep 0.5; done && \
        drbdadm -- --clear-bitmap new-current-uuid wwwdata && \
        drbdadm primary wwwdata && mkfs.ext4 -q /dev/drbd1 && mount /dev/drbd1 /mnt && \
        echo '<h1>Prueba con DRBD</h1>' > /mnt/index.html && umount /mnt && drbdadm secondary wwwdata";
    let f = "pcs -f base_cfg";
    let fencing = if profile.fencing() {
        fenced::base_lines("base_cfg")
    } else {
        vec![format!("{f} property set stonith-enabled=false")]
    };
    let batch = "cd /root && cibadmin --empty > base_cfg && ".to_owned()
        + &pcs_script(&spell.lines(&[
            fencing,
            vec![format!(
                "{f} resource create VirtualIP {} ip=10.1.1.100 cidr_netmask=24 op monitor interval=30s",
                choice.agent("VirtualIP")
            ),
            format!(
                "{f} resource create WebSite {} configfile=/etc/apache2/apache2.conf \
             statusurl=http://localhost/server-status op monitor interval=1min",
                choice.agent("WebSite")
            ),
            format!("{f} constraint colocation add WebSite with VirtualIP INFINITY"),
            format!("{f} constraint order VirtualIP then WebSite"),
            format!(
                "{f} resource create WebData {} drbd_resource=wwwdata op monitor interval=60s",
                choice.agent("WebData")
            ),
            format!(
                "{f} resource promotable WebData promoted-max=1 promoted-node-max=1 clone-max=2 clone-node-max=1 notify=true"
            ),
            format!(
                "{f} resource create WebFS {} device=/dev/drbd1 directory=/var/www/html fstype=ext4",
                choice.agent("WebFS")
            ),
            format!("{f} constraint colocation add WebFS with Promoted WebData-clone INFINITY"),
            format!("{f} constraint order promote WebData-clone then start WebFS"),
            format!("{f} constraint colocation add WebSite with WebFS INFINITY"),
            format!("{f} constraint order WebFS then WebSite"),
        ]]
        .concat()));
    // DRBD's fencing (fenced profile) is in its configuration before DRBD comes up.
    let mut repairs = Vec::new();
    if profile.fencing() {
        step(
            "fenced profile: sbd, watchdog, DRBD fencing on both nodes; sbd's header",
            || {
                let mut said = String::new();
                for n in NODES {
                    said += &vm::ssh_ok(paths, n, &fenced::prepare_node_script(), mins(2))?;
                }
                repairs = fenced::repairs(&said);
                for r in &repairs {
                    say(r);
                }
                fenced::create_header(paths)
            },
        )?;
    }
    thread::scope(|s| {
        let cluster = s.spawn(|| step("corosync + pacemaker: both nodes online", || form(paths)));
        let drbd = s.spawn(|| {
            step(
                "DRBD wwwdata: metadata, connected, ext4 with index.html",
                || {
                    vm::ssh_ok(
                        paths,
                        "node2",
                        "drbdadm -- --force create-md wwwdata && drbdadm up wwwdata",
                        mins(2),
                    )?;
                    vm::ssh_ok(paths, "node1", drbd_node1, mins(3)).map(|_| ())
                },
            )
        });
        let pcs = step("previous exercise's pcs -f batch (on node2)", || {
            vm::ssh_ok(paths, "node2", &batch, mins(10))
        });
        let join = |h: thread::ScopedJoinHandle<'_, Result<_>>| {
            h.join().map_err(|_| Error("thread panicked".into()))?
        };
        let cluster = join(cluster);
        let drbd = join(drbd);
        cluster.and(drbd).and(pcs.map(|_| ()))
    })?;
    // DRBD is handed to Pacemaker stopped (a deviation): a probe that finds a resource
    // running leaves a last_failure record that no cleanup removes, and Pacemaker clears it in
    // the transition of the first changed WebData setting, aborting the reload there and
    // promoting the instance again, which restarts WebFS and WebSite (check 18; README).
    step(
        "DRBD wwwdata down on both nodes, for Pacemaker to start",
        || {
            for n in NODES {
                vm::ssh_ok(paths, n, "drbdadm down wwwdata", mins(1))?;
            }
            Ok(())
        },
    )?;
    step("previous exercise pushed and running", || {
        vm::ssh_ok(
            paths,
            "node2",
            "cd /root && pcs cluster cib-push base_cfg --config",
            mins(2),
        )?;
        crm::wait(
            paths,
            "node1",
            "the previous exercise running (WebSite started)",
            mins(5),
            |s| {
                s.nodes("WebSite", "Started").len() == 1
                    && s.nodes("WebData", "Promoted").len() == 1
            },
        )
    })?;
    Ok(repairs)
}

/// Replays the tutorial. Returns the deviations made.
fn tutorial(
    paths: &Paths,
    choice: &Choice,
    spell: &mut Pcs,
    profile: Profile,
) -> Result<Vec<String>> {
    let mut pcs = |cmds: &[String]| -> Result<()> {
        vm::ssh_ok(paths, "node1", &pcs_script(&spell.lines(cmds)), mins(10)).map(|_| ())
    };
    let mut dev = Vec::new();
    let shell_dlm = !choice.is_native("dlm");
    step("tutorial: DLM cloned (pcs -f dlm_cfg)", || {
        // With fencing on (fenced profile) dlm needs neither: it fences through Pacemaker.
        let unfenced = !profile.fencing();
        let create = format!(
            "pcs -f dlm_cfg resource create dlm {}{}{} op monitor interval=60s",
            choice.agent("dlm"),
            if unfenced {
                " allow_stonith_disabled=true"
            } else {
                ""
            },
            if unfenced && !shell_dlm {
                " args=\"-s 0 --enable_fencing 0\""
            } else {
                ""
            }
        );
        if unfenced {
            dev.push(format!(
                "dlm ({}): allow_stonith_disabled=true added, else it refuses to start with STONITH off",
                choice.agent("dlm"),
            ));
        }
        if unfenced && !shell_dlm {
            dev.push(
                "dlm (ours): args=\"-s 0 --enable_fencing 0\", the administrator's choice that dlm.conf's \
                 enable_fencing=0 is for the shell agents: a lost node is trusted to be dead, so GFS2 on a survivor \
                 stays writable without STONITH, at the risk of two writers after a network split (the agent logs it)"
                    .into(),
            );
        }
        if unfenced && shell_dlm {
            on_both(paths, "echo enable_fencing=0 > /etc/dlm/dlm.conf")?;
            dev.push(
                "/etc/dlm/dlm.conf enable_fencing=0 on both nodes: with dlm_controld's own fencing on and no \
                 STONITH, GFS2 on a survivor blocks until the lost node returns"
                    .into(),
            );
        }
        pcs(&[
            "pcs cluster cib dlm_cfg".into(),
            create,
            "pcs -f dlm_cfg resource clone dlm clone-max=2 clone-node-max=1".into(),
            "pcs cluster cib-push dlm_cfg --config".into(),
        ])?;
        crm::wait(paths, "node1", "dlm started on both nodes", mins(3), |s| {
            s.is("dlm", "Started", &NODES)
        })
    })?;
    step("tutorial: WebFS disabled, mkfs.gfs2, index.html", || {
        pcs(&["pcs resource disable WebFS".into()])?;
        let s = crm::wait(paths, "node1", "WebFS and WebSite stopped", mins(3), |s| {
            s.nodes("WebFS", "Started").is_empty() && s.nodes("WebSite", "Started").is_empty()
        })?;
        let promoted = s.nodes("WebData", "Promoted");
        let node = promoted.first().ok_or("WebData is Promoted nowhere")?;
        // On the shell agents (`--port`, trixie) mkfs.gfs2 once found /dev/drbd1 busy right
        // after Filesystem's stop; the administrator would try again: so does the replay,
        // for at most 30 s, showing what held the device each time.
        let out = vm::ssh_ok(
            paths,
            node,
            "for i in $(seq 30); do \
               mkfs.gfs2 -O -p lock_dlm -j 2 -t mycluster:web /dev/drbd1 2>/tmp/mkfs.err && break; \
               echo \"mkfs.gfs2 try $i: $(cat /tmp/mkfs.err); mounted in: $(grep -l ' /dev/drbd1 ' \
                 /proc/[0-9]*/mountinfo 2>/dev/null | head -3 | tr '\\n' ' '); holders: \
                 $(ls /sys/block/drbd1/holders | tr '\\n' ' '); users: $(fuser -v /dev/drbd1 2>&1 | tr '\\n' ' ')\"; \
               [ \"$i\" -lt 30 ] || exit 1; sleep 1; \
             done && mount /dev/drbd1 /mnt && \
             echo '<h1>Prueba con GFS2</h1>' >> /mnt/index.html && umount /mnt",
            mins(3),
        )?;
        for line in out.lines().filter(|l| l.starts_with("mkfs.gfs2 try")) {
            say(line);
        }
        Ok(())
    })?;
    dev.push("mkfs.gfs2 -O: without it mkfs.gfs2 asks for confirmation over the previous exercise's ext4".into());
    step(
        "tutorial: WebFS fstype=gfs2, colocated with and ordered after dlm",
        || {
            pcs(&[
                "pcs resource update WebFS fstype=gfs2".into(),
                "pcs constraint colocation add WebFS with dlm-clone INFINITY".into(),
                "pcs constraint order dlm-clone then WebFS".into(),
            ])
        },
    )?;
    step(
        "tutorial: WebFS cloned, WebData promoted-max=2 (pcs -f active_cfg), WebFS enabled",
        || {
            pcs(&[
                "pcs cluster cib active_cfg".into(),
                "pcs -f active_cfg resource clone WebFS".into(),
                "pcs -f active_cfg constraint".into(),
                "pcs -f active_cfg resource update WebData-clone promoted-max=2".into(),
                "pcs -f active_cfg resource update WebData op monitor interval=29s role=Promoted"
                    .into(),
                "pcs -f active_cfg resource op add WebData monitor interval=31s role=Unpromoted"
                    .into(),
                "pcs cluster cib-push active_cfg --config".into(),
                "pcs resource enable WebFS".into(),
            ])?;
            crm::wait(
                paths,
                "node1",
                "WebData Promoted and WebFS started on both nodes",
                mins(5),
                |s| s.is("WebData", "Promoted", &NODES) && s.is("WebFS", "Started", &NODES),
            )
        },
    )?;
    dev.push(
        "WebData: `op monitor interval=60s` replaced by role-specific monitors (29s Promoted, 31s Unpromoted): \
         a monitor without a role leaves Promoted instances unmonitored"
            .into(),
    );
    step(
        "tutorial: WebSite cloned (pcs -f active_cfg), colocation with VirtualIP deleted",
        || {
            pcs(&[
                "pcs cluster cib active_cfg".into(),
                "pcs -f active_cfg resource clone WebSite".into(),
                "pcs cluster cib-push active_cfg --config".into(),
                "pcs constraint colocation delete WebSite-clone VirtualIP".into(),
            ])?;
            crm::wait(
                paths,
                "node1",
                "active-active: everything started on both nodes",
                mins(5),
                |s| s.active_active(&NODES),
            )
        },
    )?;
    Ok(dev)
}

/// Builds lab-boundary (src/bin), the guest tool of check 16.
fn build_tools(paths: &Paths) -> Result<Vec<PathBuf>> {
    let bins = ["lab-boundary", "lab-load"];
    let mut cargo = Command::new("cargo");
    cargo
        .args(["build", "--release", "--locked", "--quiet", "-p", "lab"])
        .current_dir(&paths.root);
    for b in bins {
        cargo.args(["--bin", b]);
    }
    run_ok(&mut cargo, mins(20))?;
    Ok(bins
        .iter()
        .map(|b| paths.target.join("release").join(b))
        .collect())
}

/// What the guests run, and what our package depends on there.
fn versions(paths: &Paths) -> Result<Vec<(String, String)>> {
    let out = vm::ssh_ok(
        paths,
        "node1",
        ". /etc/os-release; echo \"debian=$PRETTY_NAME ($(cat /etc/debian_version))\"; echo \"kernel=$(uname -r)\"; \
         echo \"drbd module=$(modinfo -F version drbd)\"; \
         dpkg-query -W -f '${Package}=${Version}\\n' pacemaker corosync pcs drbd-utils dlm-controld gfs2-utils \
           resource-agents apache2 2>/dev/null; \
         if d=$(dpkg-query -W -f '${Version}' native-agents 2>/dev/null); then \
           echo \"native-agents=$d\"; dep=$(dpkg-query -W -f '${Depends}' native-agents); echo \"native-agents Depends=$dep\"; \
           for p in $(echo \"$dep\" | tr ',' '\\n' | sed 's/|.*//; s/(.*//'); do \
             echo \"native-agents needs $p=$(dpkg-query -W -f '${Version} ${Status}' $p)\"; done; fi",
        mins(1),
    )?;
    Ok(out
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect())
}

/// Every resource runs the agent the mode demands (crm_mon's view): native mode never runs a
/// shell agent in our place.
fn verify_agents(paths: &Paths, setup: &Setup) -> Result<()> {
    let s = crm::state(paths, "node1")?;
    let wrong = agents::mismatches(setup.boot_mode(), &s.agents());
    if wrong.is_empty() {
        Ok(())
    } else {
        Err(Error(wrong.join("; ")))
    }
}

/// The agents (and the lab's guest tool) and the image built from them.
pub fn prepare(paths: &Paths, setup: &Setup, without: &[&str]) -> Result<(Choice, Image)> {
    let mut choice = step(&format!("choose agents ({})", setup.mode.name()), || {
        agents::choose(paths, setup.mode, setup.deb.as_deref(), without)
    })?;
    if setup.port {
        choice.boot_on_shell();
    }
    choice
        .tools
        .extend(step("build lab-boundary and lab-load", || {
            build_tools(paths)
        })?);
    let image = step(&format!("guest image ({})", setup.release.suite()), || {
        image::build(paths, setup.release, &choice)
    })?;
    Ok((choice, image))
}

/// `lab up`.
pub fn up(paths: &Paths, setup: &Setup) -> Result<Up> {
    say(&format!("lab: {}", setup.describe()));
    let without: &[&str] = if setup.broken(Break::NoGfs2Agent) {
        &["gfs2-fs"]
    } else {
        &[]
    };
    let (choice, image) = prepare(paths, setup, without)?;
    step("boot node1 and node2 to ssh", || {
        boot(paths, &image, setup.profile)
    })?;
    setup.save(paths)?;
    let versions = step("what the guests run", || {
        let v = versions(paths)?;
        let pacemaker = v
            .iter()
            .find(|(k, _)| k == "pacemaker")
            .map_or("", |(_, v)| v.as_str());
        let major = setup.release.pacemaker_major();
        if !pacemaker.starts_with(&format!("{major}.")) {
            return Err(Error(format!(
                "{} should run Pacemaker {major}, the guest has {pacemaker:?}",
                setup.release.suite()
            )));
        }
        Ok(v)
    })?;
    for (k, v) in &versions {
        say(&format!("  {k}: {v}"));
    }
    let mut spell = Pcs::new(setup.release);
    let repairs = previous(paths, &choice, &mut spell, setup.profile)?;
    let mut deviations = vec![
        "every pcs command runs pcs's own entry point (pcs.app.main) with its command line in a process forked \
         from lab-pcsd, which imported pcs once at boot (the guest's /usr/local/sbin/pcs, first in root's PATH, \
         is /usr/sbin/pcs itself until then), because importing pcs costs 20-45 s per process under software \
         emulation (17 s of it building the dataclasses of pcs.common.reports.messages); a batch of command \
         lines runs through lab-pcs, one such pcs per line (before lab-pcsd is ready: all in one process)"
            .to_owned(),
        "starting point rebuilt by the lab: the previous exercise (VirtualIP, WebSite, WebData promotable, \
         WebFS ext4, their constraints; DRBD resource wwwdata on /dev/drbd1), its pcs -f batch started from \
         `cibadmin --empty` so that it runs while the cluster forms"
            .to_owned(),
        "check 3 replays the tutorial's `pcs resource move VirtualIP nodo2` as `pcs resource move-with-constraint`, \
         what `move` did in the tutorial's pcs 0.10 (pcs 0.11 renamed it; its new `move` also waits for the cluster \
         to settle twice, over 4 min under emulation), and clears the constraint once the cluster has settled \
         (crm_resource --clear, what pcs runs)"
            .to_owned(),
        "DRBD resource file has `allow-two-primaries yes` (needed by promoted-max=2; the tutorial does not show it) \
         and a fixed resync rate; the initial sync of the two blank disks is skipped (--clear-bitmap new-current-uuid)"
            .to_owned(),
        "DRBD wwwdata is brought down on both nodes (`drbdadm down wwwdata`) before the previous exercise's \
         CIB is pushed, so that Pacemaker starts it: the tutorial hands it over up, Pacemaker's probes find it \
         running and record that as a last_failure that `pcs resource cleanup` does not remove, and the first \
         changed WebData setting then promotes it again after its reload, restarting WebFS and WebSite on both \
         nodes (check 18 met it on node1; README, \"drbd-dualprimary declares OCF 1.0\")"
            .to_owned(),
    ];
    deviations.extend(tutorial(paths, &choice, &mut spell, setup.profile)?);
    if setup.profile.fencing() {
        step(
            "fenced profile: clones interleaved, order VirtualIP then WebSite deleted",
            || {
                vm::ssh_ok(
                    paths,
                    "node1",
                    &pcs_script(&spell.lines(&fenced::after_tutorial_lines())),
                    mins(10),
                )?;
                crm::wait(paths, "node1", "active-active again", mins(5), |s| {
                    s.active_active(&NODES)
                })
                .map(|_| ())
            },
        )?;
        deviations.extend(fenced::deviations());
        deviations.extend(repairs);
    }
    deviations.extend(spell.deviations);
    // The shell agents overrun Pacemaker's default 20 s on the emulated machines (issue 18
    // with --port; with --agents heartbeat a VirtualIP monitor timed out on a slow day and
    // the rejoin never settled), so whenever they run the cluster they get 60 s: this favours
    // them in every comparison, never ours.
    if setup.boot_mode() == Mode::Heartbeat {
        step(
            "shell agents: monitors without a timeout get 60 s (op defaults)",
            || {
                vm::ssh_ok(
                    paths,
                    "node1",
                    "pcs resource op defaults update timeout=60s",
                    mins(5),
                )
                .map(|_| ())
            },
        )?;
        deviations.push(
            "shell agents: `pcs resource op defaults update timeout=60s`. The tutorial's monitors carry no \
             timeout (Pacemaker's default, 20 s); on the emulated machines the shell agents overran it: with \
             --port linbit drbd's monitor took over 20 s once on node1 after the way back (its usual 3-5 s \
             there), and with --agents heartbeat on a slow day IPaddr2's monitor timed out on node2 after a \
             rejoin; each time Pacemaker recovered the resource, restarting GFS2 and Apache on both nodes \
             (the tutorial's clones have no interleave). Ours get the tutorial's 20 s. With --port the \
             timeouts stay as they are through every port"
                .to_owned(),
        );
    }
    step(
        &format!("every resource on the {} agents", setup.boot_mode().name()),
        || verify_agents(paths, setup),
    )?;
    Ok(Up {
        choice,
        versions,
        deviations,
    })
}

/// `lab start NODE`: boot it again; pacemaker (enabled at boot) makes it rejoin.
pub fn start_node(paths: &Paths, node: &str) -> Result<()> {
    let image = image::current(paths)?;
    vm::launch(paths, &image, node)?;
    vm::wait_ssh(paths, node, mins(5))?;
    // A bound, not a pause: sbd's start delay only where the fenced profile set it.
    let bound = mins(3) + fenced::rejoin_allowance(true);
    crm::wait(paths, node, "both nodes online", bound, |s| {
        s.online.len() == 2
    })?;
    Ok(())
}
