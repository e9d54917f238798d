//! State files are never written through a planted symlink (root only), with the real
//! binaries: ipaddr2's announcer pid file (and the announcer stays tracked, so stop ends
//! it), apache-clone's pid files (cleared before httpd starts, never trusted when planted
//! later), and gfs2-fs's depth-20 status file. (drbd-dualprimary's
//! score cache, procs' pid-file reader and `procs::StateDir` are covered by their own unit
//! tests; see FAULTS.md.)
#![allow(clippy::unwrap_used)] // test helpers: a failed setup step is a panic

use bad_input_matrix::{Outcome, Run, Scratch, apache_conf};
use ocf_testkit::{Netns, require_program, require_root};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const VICTIM: &str = "victim\n";

/// A scratch directory as a state directory must be: root's, mode 0755.
fn state_dir(tag: &str) -> Scratch {
    let dir = Scratch::new(tag);
    std::fs::set_permissions(&dir.0, std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

/// A regular file, root's, not writable by group or others.
fn assert_safe_file(path: &Path) {
    let meta = std::fs::symlink_metadata(path).unwrap();
    assert!(
        meta.file_type().is_file(),
        "{} is not a regular file",
        path.display()
    );
    assert_eq!(meta.uid(), 0, "{} not owned by root", path.display());
    assert_eq!(
        meta.mode() & 0o022,
        0,
        "{} writable by others",
        path.display()
    );
}

/// The pids whose command line mentions `needle` (as one argument), and are still running.
fn running_with_arg(needle: &Path) -> Vec<i32> {
    let needle = needle.as_os_str().as_encoded_bytes();
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| c.split(|b| *b == 0).any(|a| a == needle))
        })
        .filter(|pid| alive(*pid))
        .collect()
}

/// Exists, is not a zombie and has not begun to exit (PF_EXITING).
fn alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        let Some((_, rest)) = stat.rsplit_once(')') else {
            return false;
        };
        let f: Vec<&str> = rest.split_whitespace().collect();
        let exiting = f
            .get(6)
            .and_then(|x| x.parse::<u64>().ok())
            .is_some_and(|flags| flags & 0x4 != 0);
        !f.first().is_none_or(|s| s.starts_with(['Z', 'X'])) && !exiting
    })
}

fn ipaddr2_ns(tag: &str) -> Netns {
    let ns = Netns::new(tag);
    ns.ip(&["link", "add", "v0", "type", "veth", "peer", "name", "v0p"]);
    ns.ip(&["addr", "add", "192.0.2.1/24", "dev", "v0"]);
    ns.ip(&["link", "set", "v0p", "up"]);
    ns.ip(&["link", "set", "v0", "up"]);
    ns
}

fn ipaddr2(ns: &Netns, rsctmp: &str, action: &str, count: &str, interval: &str) -> Outcome {
    Run::new("ipaddr2", action)
        .netns(ns.name())
        .env("HA_RSCTMP", rsctmp)
        .params([
            ("ip", "192.0.2.10"),
            ("nic", "v0"),
            ("cidr_netmask", "24"),
            ("arp_bg", "true"),
            ("arp_count", count),
            ("arp_interval", interval),
        ])
        .run()
}

#[test]
fn ipaddr2_announcer_pid_file_is_not_written_through_a_symlink_and_stays_tracked() {
    if !require_root("state_files") {
        return;
    }
    let ns = ipaddr2_ns("mx-state");
    let dir = state_dir("state");
    let victim = dir.path("victim");
    std::fs::write(&victim, VICTIM).unwrap();
    let pid_file = dir.path("ipaddr2-announce-192.0.2.10.pid");
    std::os::unix::fs::symlink(&victim, &pid_file).unwrap();
    // 20 announcements 500 ms apart: the announcer is still running when we look.
    let start = ipaddr2(&ns, dir.str(), "start", "20", "500");
    assert_eq!(start.code, 0, "start: {}", start.stderr);
    assert!(!start.panicked(), "{}", start.stderr);
    assert_eq!(
        std::fs::read_to_string(&victim).unwrap(),
        VICTIM,
        "start wrote through the symlink: {}",
        start.stderr
    );
    assert_safe_file(&pid_file);
    let pid: i32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .lines()
        .next()
        .unwrap_or_default()
        .parse()
        .expect("a pid in the pid file");
    assert!(alive(pid), "the announcer {pid} runs");
    assert_eq!(
        running_with_arg(&pid_file),
        [pid],
        "the one announcer running is the one the pid file names"
    );
    let stop = ipaddr2(&ns, dir.str(), "stop", "20", "500");
    assert_eq!(stop.code, 0, "stop: {}", stop.stderr);
    assert!(!alive(pid), "stop left the announcer {pid} running");
    assert!(running_with_arg(&pid_file).is_empty());
    assert!(
        std::fs::symlink_metadata(&pid_file).is_err(),
        "pid file removed"
    );
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), VICTIM);
}

#[test]
fn ipaddr2_with_an_unsafe_state_dir_leaves_no_untracked_announcer() {
    if !require_root("state_files") {
        return;
    }
    let ns = ipaddr2_ns("mx-state2");
    let dir = state_dir("state-open");
    let open = dir.path("open");
    std::fs::create_dir(&open).unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
    let pid_file = open.join("ipaddr2-announce-192.0.2.10.pid");
    let start = ipaddr2(&ns, open.to_str().unwrap(), "start", "4", "100");
    assert_eq!(start.code, 0, "start: {}", start.stderr);
    assert!(
        start.stderr.contains("foreground") && start.stderr.contains("writable"),
        "the log says why the announcements were not left to the background: {}",
        start.stderr
    );
    assert!(
        running_with_arg(&pid_file).is_empty(),
        "untracked announcer"
    );
    assert!(std::fs::symlink_metadata(&pid_file).is_err());
    let stop = ipaddr2(&ns, open.to_str().unwrap(), "stop", "4", "100");
    assert_eq!(stop.code, 0, "stop: {}", stop.stderr);
}

/// Unmounts (lazily) whatever is mounted at the path when dropped.
struct Unmount(PathBuf);

impl Drop for Unmount {
    fn drop(&mut self) {
        while nix::mount::umount2(&self.0, nix::mount::MntFlags::MNT_DETACH).is_ok() {}
    }
}

#[test]
fn gfs2_status_file_is_not_written_through_a_symlink() {
    if !require_root("state_files") {
        return;
    }
    let dir = state_dir("gfs2-status");
    let mnt = dir.path("mnt");
    std::fs::create_dir(&mnt).unwrap();
    let _unmount = Unmount(mnt.clone());
    let victim = dir.path("victim");
    std::fs::write(&victim, VICTIM).unwrap();
    let elsewhere = dir.path("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    // A tmpfs: the monitor at depth 20 writes the status file into it.
    let run = |action: &str, depth: &str| {
        Run::new("gfs2-fs", action)
            .meta("on_node", "node1")
            .env("OCF_CHECK_LEVEL", depth)
            .params([
                ("device", "tmpfs"),
                ("fstype", "tmpfs"),
                ("directory", mnt.to_str().unwrap()),
            ])
            .run()
    };
    let start = run("start", "0");
    assert_eq!(start.code, 0, "start: {}", start.stderr);
    let status_dir = mnt.join(".Filesystem_status");
    let status = status_dir.join("matrix_node1");
    std::fs::create_dir(&status_dir).unwrap();
    std::os::unix::fs::symlink(&victim, &status).unwrap();
    let monitor = run("monitor", "20");
    assert_eq!(monitor.code, 0, "monitor 20: {}", monitor.stderr);
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), VICTIM);
    assert_safe_file(&status);
    assert!(std::fs::read(&status).unwrap().starts_with(b"matrix\n"));
    // A symlink in place of the status directory is moved aside, never followed, and the
    // check goes on in a directory of the agent's own.
    std::fs::remove_dir_all(&status_dir).unwrap();
    std::os::unix::fs::symlink(&elsewhere, &status_dir).unwrap();
    let monitor = run("monitor", "20");
    assert_eq!(monitor.code, 0, "monitor 20: {}", monitor.stderr);
    assert!(monitor.stderr.contains("moved aside"), "{}", monitor.stderr);
    assert!(std::fs::symlink_metadata(&status_dir).unwrap().is_dir());
    assert_safe_file(&status);
    assert!(std::fs::read_dir(&elsewhere).unwrap().next().is_none());
    let stop = run("stop", "0");
    assert_eq!(stop.code, 0, "stop: {}", stop.stderr);
    assert!(std::fs::read_dir(&elsewhere).unwrap().next().is_none());
    assert!(
        !std::fs::read_to_string("/proc/self/mountinfo")
            .unwrap()
            .contains(mnt.to_str().unwrap()),
        "stop unmounted"
    );
}

/// An apache-clone fixture: a namespace, a scratch directory with a configuration on
/// 127.0.0.1:`port` (`extra` appended) and a state directory (HA_RSCTMP) of `mode`.
struct Www {
    ns: Netns,
    dir: Scratch,
    conf: PathBuf,
    rsctmp: PathBuf,
    port: u16,
}

impl Www {
    fn new(tag: &str, port: u16, extra: &str, mode: u32) -> Www {
        let ns = Netns::new(&format!("mx-{tag}"));
        let dir = state_dir(tag);
        let conf = apache_conf(&dir, port, extra);
        let rsctmp = dir.path("rsctmp");
        std::fs::create_dir(&rsctmp).unwrap();
        std::fs::set_permissions(&rsctmp, std::fs::Permissions::from_mode(mode)).unwrap();
        Www {
            ns,
            dir,
            conf,
            rsctmp,
            port,
        }
    }

    fn run(&self, action: &str) -> Outcome {
        let status = format!("http://127.0.0.1:{}/server-status", self.port);
        Run::new("apache-clone", action)
            .netns(self.ns.name())
            .env("HA_RSCTMP", self.rsctmp.to_str().unwrap())
            .params([
                ("configfile", self.conf.to_str().unwrap()),
                ("httpd", "/usr/sbin/apache2"),
                ("envfiles", ""),
                ("statusurl", status.as_str()),
            ])
            .run()
    }
}

/// The main httpd of `conf` as its pid file names it, checked to be an apache2 process.
fn httpd_pid(pid_file: &Path) -> i32 {
    let pid: i32 = std::fs::read_to_string(pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
    assert_eq!(
        comm.trim(),
        "apache2",
        "pid {pid} of {}",
        pid_file.display()
    );
    pid
}

fn wait_gone(pid: i32) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    while alive(pid) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    !alive(pid)
}

/// What apache-clone does about its pid files, not what httpd does with them: the agent
/// clears a symlink planted at its own pid file before httpd starts (httpd refuses to
/// start on a link to a file that holds no pid, AH00058: the agent is what makes this
/// start succeed), refuses a state directory others can write, and never takes its pid
/// from a symlink later: monitor and stop find the real httpd, stop exits 0 with httpd
/// gone, and the process the planted link names is left alone.
#[test]
fn apache_pid_files_planted_as_symlinks_are_cleared_and_never_trusted() {
    if !require_root("state_files") || !require_program("state_files", "apache2") {
        return;
    }
    // No PidFile directive: the agent passes its own, $HA_RSCTMP/apache2-<instance>.pid.
    let www = Www::new("state-www", 18081, "", 0o755);
    let victim = www.dir.path("victim");
    std::fs::write(&victim, VICTIM).unwrap();
    let pid_file = www.rsctmp.join("apache2-matrix.pid");
    std::os::unix::fs::symlink(&victim, &pid_file).unwrap();
    let run = |action: &str| www.run(action);
    let start = run("start");
    let stop_later = scopeguard(|| {
        let _ = run("stop");
    });
    assert_eq!(
        start.code, 0,
        "start over a planted symlink: {}",
        start.stderr
    );
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), VICTIM);
    assert_safe_file(&pid_file);
    let httpd = httpd_pid(&pid_file);
    // Now the pid file is replaced by a link to another process's pid: a decoy that must
    // survive, while monitor and stop still find the real httpd.
    let mut decoy = std::process::Command::new("sleep")
        .arg("60")
        .spawn()
        .unwrap();
    let decoy_pid = www.dir.path("decoy.pid");
    std::fs::write(&decoy_pid, format!("{}\n", decoy.id())).unwrap();
    std::fs::remove_file(&pid_file).unwrap();
    std::os::unix::fs::symlink(&decoy_pid, &pid_file).unwrap();
    let monitor = run("monitor");
    assert_eq!(monitor.code, 0, "monitor: {}", monitor.stderr);
    let stop = run("stop");
    drop(stop_later);
    let decoy_alive = alive(i32::try_from(decoy.id()).unwrap());
    let _ = decoy.kill();
    let _ = decoy.wait();
    assert_eq!(stop.code, 0, "stop: {}", stop.stderr);
    assert!(
        wait_gone(httpd),
        "stop exited 0 and left httpd {httpd} running"
    );
    assert!(
        decoy_alive,
        "stop signalled the process a planted pid file named"
    );
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), VICTIM);
    let probe = run("monitor");
    assert_eq!(probe.code, 7, "after stop: {}", probe.stderr);
}

/// A state directory others can write (a planted file could be swapped under the agent):
/// start is refused with the reason, and no httpd is left running.
#[test]
fn apache_refuses_a_state_directory_others_can_write() {
    if !require_root("state_files") || !require_program("state_files", "apache2") {
        return;
    }
    let www = Www::new("state-www2", 18082, "", 0o777);
    let run = |action: &str| www.run(action);
    let start = run("start");
    let stop_later = scopeguard(|| {
        let _ = run("stop");
    });
    assert_ne!(start.code, 0, "start in a world-writable state directory");
    assert!(
        start
            .reason()
            .is_some_and(|r| r.contains("unsafe pid file")),
        "{:?}",
        start.reason()
    );
    assert!(
        running_with_arg(&www.conf).is_empty(),
        "no httpd runs after the refusal"
    );
    drop(stop_later);
}

/// The administrator's own PidFile planted as a symlink: the agent removes the link (and
/// says so) rather than let httpd's write follow it.
#[test]
fn apache_removes_a_symlink_at_the_configured_pid_file() {
    if !require_root("state_files") || !require_program("state_files", "apache2") {
        return;
    }
    // The PidFile directive names conf-run/httpd.pid below the ServerRoot.
    let www = Www::new("state-www3", 18083, "PidFile conf-run/httpd.pid\n", 0o755);
    let run_dir = www.dir.path("conf-run");
    std::fs::create_dir(&run_dir).unwrap();
    std::fs::set_permissions(&run_dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let pid_file = run_dir.join("httpd.pid");
    let victim = www.dir.path("victim");
    std::fs::write(&victim, VICTIM).unwrap();
    std::os::unix::fs::symlink(&victim, &pid_file).unwrap();
    let run = |action: &str| www.run(action);
    let start = run("start");
    let stop_later = scopeguard(|| {
        let _ = run("stop");
    });
    assert_eq!(start.code, 0, "start: {}", start.stderr);
    assert!(
        start
            .stderr
            .contains(&format!("removing {}", pid_file.display())),
        "{}",
        start.stderr
    );
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), VICTIM);
    let httpd = httpd_pid(&pid_file);
    let stop = run("stop");
    drop(stop_later);
    assert_eq!(stop.code, 0, "stop: {}", stop.stderr);
    assert!(wait_gone(httpd), "stop left httpd {httpd} running");
}

/// Issue 17: the administrator's PidFile in a directory a local user owns (www-data's in
/// life, `nobody` here). Whatever the user puts at the name (a link to a root-owned file,
/// planted here as a hard link, which the symlink check did not see), httpd running as
/// root would truncate and write it. The agent gives httpd its own pid file instead and
/// leaves the user's directory alone. Seen failing before the fix: the agent handed httpd
/// the planted name (here httpd then refused the non-pid content, AH00058, and start
/// failed; a planted file holding a number is overwritten).
#[test]
fn apache_never_hands_httpd_a_pid_file_in_a_users_directory() {
    if !require_root("state_files") || !require_program("state_files", "apache2") {
        return;
    }
    let www = Www::new("state-www4", 18084, "PidFile user-run/httpd.pid\n", 0o755);
    let run_dir = www.dir.path("user-run");
    std::fs::create_dir(&run_dir).unwrap();
    std::os::unix::fs::chown(&run_dir, Some(65534), Some(65534)).unwrap();
    let victim = www.dir.path("victim");
    std::fs::write(&victim, VICTIM).unwrap();
    std::fs::hard_link(&victim, run_dir.join("httpd.pid")).unwrap();
    let run = |action: &str| www.run(action);
    let start = run("start");
    let stop_later = scopeguard(|| {
        let _ = run("stop");
    });
    assert_eq!(start.code, 0, "start: {}", start.stderr);
    assert!(
        start.stderr.contains("is not in a safe directory"),
        "{}",
        start.stderr
    );
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), VICTIM);
    let httpd = httpd_pid(&www.rsctmp.join("apache2-matrix.pid"));
    let monitor = run("monitor");
    assert_eq!(monitor.code, 0, "monitor: {}", monitor.stderr);
    let stop = run("stop");
    drop(stop_later);
    assert_eq!(stop.code, 0, "stop: {}", stop.stderr);
    assert!(wait_gone(httpd), "stop left httpd {httpd} running");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), VICTIM);
    assert!(
        run_dir.join("httpd.pid").exists(),
        "nothing is unlinked in the user's directory"
    );
}

/// Runs `f` when dropped (also when an assertion fails first).
fn scopeguard(f: impl FnOnce()) -> impl Drop {
    struct Guard<F: FnOnce()>(Option<F>);
    impl<F: FnOnce()> Drop for Guard<F> {
        fn drop(&mut self) {
            if let Some(f) = self.0.take() {
                f();
            }
        }
    }
    Guard(Some(f))
}
