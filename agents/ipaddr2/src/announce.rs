//! Announcing the address: gratuitous ARP (IPv4) or unsolicited neighbour advertisements
//! (IPv6). The first is sent before start returns; with `arp_bg` the rest come from a
//! background copy of this binary (`ipaddr2 --announce ...`, its own process group, stdout and
//! stderr closed) whose pid is kept in a file that stop uses to end it.
//!
//! Speed: the kernel waits for an RCU grace period whenever a packet socket is closed (see
//! `arp_announce::PacketSocket`), 5 to 20 ms. So start sends its first frame on a send-only
//! socket and hands that socket to the announcer as its stdin: the last close, and its wait,
//! happen in the announcer. And stop waits for the announcer only until it has begun to exit
//! (it can never send again from then on), not for its socket's release.

use arp_announce::{ArpOp, ETH_P_ARP, ETH_P_IPV6, PacketSocket, packet};
use std::ffi::OsString;
use std::io::Write;
use std::net::IpAddr;
use std::os::fd::AsFd;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The `argv[1]` of the background announcer.
pub const ANNOUNCE_ARG: &str = "--announce";

/// What to send, and where.
#[derive(Debug, Clone)]
pub struct Announcement {
    pub ifindex: u32,
    pub mac: [u8; 6],
    pub ip: IpAddr,
    pub reply: bool,
}

impl Announcement {
    fn frame(&self) -> Vec<u8> {
        match self.ip {
            IpAddr::V4(ip) => {
                let op = if self.reply {
                    ArpOp::Reply
                } else {
                    ArpOp::Request
                };
                packet::arp_announcement(self.mac, ip, op).to_vec()
            }
            IpAddr::V6(ip) => packet::unsolicited_na(self.mac, ip).to_vec(),
        }
    }

    fn socket(&self) -> std::io::Result<PacketSocket> {
        PacketSocket::sender(self.ifindex, self.ethertype())
    }

    fn ethertype(&self) -> u16 {
        if self.ip.is_ipv4() {
            ETH_P_ARP
        } else {
            ETH_P_IPV6
        }
    }

    /// Send `count` frames `interval` apart in this process, never past `until`.
    pub fn send(&self, count: u32, interval: Duration, until: Instant) -> std::io::Result<u32> {
        let socket = self.socket()?;
        arp_announce::send_repeatedly(&socket, &self.frame(), count, interval, until)
    }

    /// `count` more frames on `socket` after the one just sent: the first `interval` from
    /// now, none past `until`.
    fn send_rest(
        &self,
        socket: &PacketSocket,
        count: u32,
        interval: Duration,
        until: Instant,
    ) -> std::io::Result<u32> {
        if count == 0 || Instant::now() + interval > until {
            return Ok(0);
        }
        std::thread::sleep(interval);
        arp_announce::send_repeatedly(socket, &self.frame(), count, interval, until)
    }

    /// Send one frame now, then leave `count` more, `interval` apart, to a background
    /// announcer that inherits the socket and whose pid is recorded in `pid_path`.
    ///
    /// The pid file is created first (see `PidFile`). When it cannot be, or the pid
    /// cannot be written into it, no announcer is left running untracked (stop could never
    /// end it): every announcement still due is sent here, in the foreground, never past
    /// `until`; the address is up and only the announcements' timing changes, so that is
    /// better than failing a start whose address works.
    pub fn send_then_background(
        &self,
        count: u32,
        interval: Duration,
        pid_path: &Path,
        until: Instant,
    ) -> Result<Announced, BackgroundError> {
        let pid_file = match PidFile::create(pid_path) {
            Ok(f) => f,
            Err(why) => {
                let sent = self.send(count + 1, interval, until);
                return Ok(Announced::Foreground {
                    sent: sent.map_err(BackgroundError::Send)?,
                    why: why.to_string(),
                });
            }
        };
        let socket = self.socket().map_err(BackgroundError::Send)?;
        if let Err(e) = socket.send(&self.frame()) {
            pid_file.remove();
            return Err(BackgroundError::Send(e));
        }
        // The announcer gets a duplicate; ours is kept only until the pid is recorded.
        let theirs = socket
            .as_fd()
            .try_clone_to_owned()
            .map_err(BackgroundError::Spawn)?;
        let mut child = match spawn_background(self, count, interval, pid_path, theirs) {
            Ok(c) => c,
            Err(e) => {
                pid_file.remove();
                return Err(BackgroundError::Spawn(e));
            }
        };
        match pid_file.record(child.id()) {
            Ok(()) => Ok(Announced::Background),
            Err(why) => {
                // It sleeps one interval before its first frame: end it before it sends.
                let _ = child.kill();
                let _ = child.wait();
                let sent = self.send_rest(&socket, count, interval, until);
                Ok(Announced::Foreground {
                    sent: 1 + sent.map_err(BackgroundError::Send)?,
                    why: why.to_string(),
                })
            }
        }
    }
}

/// How [`Announcement::send_then_background`] went.
#[derive(Debug)]
pub enum Announced {
    /// The first frame was sent; the rest come from a tracked background announcer.
    Background,
    /// No announcer could be tracked (`why`): `sent` frames were sent in the foreground.
    Foreground { sent: u32, why: String },
}

/// Why [`Announcement::send_then_background`] failed.
#[derive(Debug)]
pub enum BackgroundError {
    /// The first frame could not be sent.
    Send(std::io::Error),
    /// It was sent, but the background announcer could not be started.
    Spawn(std::io::Error),
}

/// The pid file of the background announcer of `ip` (in `namespace`) in the state directory
/// `dir` (`ocf::Env::state_dir`: $HA_RSCTMP, as IPaddr2's send_arp pid file).
pub fn pid_file(dir: &Path, ip: IpAddr, namespace: Option<&str>) -> PathBuf {
    let ns = namespace.map(|n| format!("{n}-")).unwrap_or_default();
    dir.join(format!("ipaddr2-announce-{ns}{ip}.pid"))
}

/// The announcer's pid file while it is being created: its directory is opened without
/// following symlinks and must be root's and not writable by others
/// ([`procs::StateDir`]); whatever was at the name is unlinked, and the file is created
/// `O_CREAT|O_EXCL|O_NOFOLLOW`, mode 0644, before the announcer starts. It records the
/// announcer's pid and start time ([`procs::Identity::pid_file_text`]).
struct PidFile {
    dir: procs::StateDir,
    name: OsString,
    file: std::fs::File,
}

/// Why no announcer could be tracked.
#[derive(Debug, thiserror::Error)]
enum Untracked {
    #[error("{0} is not a file path")]
    NotAFile(PathBuf),
    #[error(transparent)]
    StateDir(#[from] procs::Error),
    #[error("the announcer (pid {0}) exited at once")]
    Exited(u32),
    #[error("writing {path}: {}", crate::host::io_text(source))]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl PidFile {
    fn create(path: &Path) -> Result<PidFile, Untracked> {
        let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
            return Err(Untracked::NotAFile(path.to_owned()));
        };
        let dir = procs::StateDir::open(dir)?;
        let file = dir.create_file(name, 0o644, nix::fcntl::OFlag::empty())?;
        Ok(PidFile {
            dir,
            name: name.to_owned(),
            file,
        })
    }

    /// Record the process `pid` by its identity (pid and start time).
    fn record(self, pid: u32) -> Result<(), Untracked> {
        let id = i32::try_from(pid).ok().and_then(procs::Identity::of);
        let Some(id) = id else {
            self.remove();
            return Err(Untracked::Exited(pid));
        };
        self.write(&id)
    }

    fn write(mut self, id: &procs::Identity) -> Result<(), Untracked> {
        let text = id.pid_file_text();
        let written = self
            .file
            .write_all(text.as_bytes())
            .and_then(|()| self.file.flush());
        written.map_err(|source| {
            self.remove();
            Untracked::Write {
                path: self.dir.path().join(&self.name),
                source,
            }
        })
    }

    fn remove(&self) {
        let _ = self.dir.remove(&self.name);
    }
}

/// Start the background announcer for `count` more frames, the first one `interval` from
/// now, sending on `socket` (its stdin).
fn spawn_background(
    a: &Announcement,
    count: u32,
    interval: Duration,
    pid_path: &Path,
    socket: std::os::fd::OwnedFd,
) -> std::io::Result<std::process::Child> {
    let mac = arp_announce::format_mac(&a.mac);
    Command::new("/proc/self/exe")
        .arg0("ipaddr2")
        .arg(ANNOUNCE_ARG)
        .arg(a.ifindex.to_string())
        .arg(a.ip.to_string())
        .arg(mac)
        .arg(count.to_string())
        .arg(interval.as_millis().to_string())
        .arg(if a.reply { "reply" } else { "request" })
        .arg(pid_path)
        .stdin(Stdio::from(socket))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
}

/// The background announcer recorded in `pid_path`, if it still runs: the process the file
/// names by pid and start time, executing this very binary, run by this user, in announcer
/// mode for this pid file. The file is read as [`procs::SmallFile`] says (a FIFO, a
/// symlink, a hard link or another user's file planted there is refused, never blocked on).
fn our_announcer(pid_path: &Path) -> Option<procs::Captured> {
    let record = match procs::read_pid_record(pid_path) {
        Ok(record) => record?,
        Err(e) => {
            log::warn!("ignoring the announcer pid file: {e}");
            return None;
        }
    };
    let Some(id) = record.identity() else {
        log::warn!(
            "{} names pid {} without its start time: not signalled",
            pid_path.display(),
            record.pid
        );
        return None;
    };
    let procfs = procs::ProcFs::system();
    let found = procfs.capture(id.pid).ok().flatten()?;
    let ours = std::env::current_exe().is_ok_and(|exe| {
        procs::Expect::any()
            .program(&exe)
            .same_user()
            .matches(&found, &procfs)
    });
    let args = procfs.cmdline(id.pid);
    let announcer_of_this_file = args.get(1).is_some_and(|a| a == ANNOUNCE_ARG)
        && args.get(8).is_some_and(|a| a == pid_path.as_os_str());
    (found.id == id && ours && announcer_of_this_file).then_some(found)
}

/// True while the process `id` may still run user code: it runs and has not begun to exit.
/// An exiting announcer may spend a few more milliseconds in the kernel releasing its packet
/// socket (an RCU grace period), but it cannot send anything any more.
fn may_still_send(id: procs::Identity) -> bool {
    procs::Process::read(id.pid)
        .ok()
        .flatten()
        .is_some_and(|p| p.identity() == id && p.is_running() && !p.is_exiting())
}

/// How often stop looks whether the signalled announcer has begun to exit.
const EXIT_POLL: Duration = Duration::from_micros(250);

/// End the background announcer recorded in `pid_path`, if it still runs (waiting at most
/// until `until` for it to be unable to send), and remove the pid file. Never signals a
/// process that is not ours.
pub fn stop_background(pid_path: &Path, until: Instant) {
    if let Some(announcer) = our_announcer(pid_path) {
        match announcer.signal(procs::Signal::SIGTERM) {
            Ok(true) => {
                log::info!("stopped the background announcer (pid {})", announcer.pid());
                while may_still_send(announcer.id) && Instant::now() < until {
                    std::thread::sleep(EXIT_POLL);
                }
            }
            Ok(false) => {}
            Err(e) => log::warn!("{e}"),
        }
    }
    let _ = std::fs::remove_file(pid_path);
}

/// The most announcements, and the longest interval, `arp_count` and `arp_interval` allow.
const MAX_COUNT: u32 = 1000;
const MAX_INTERVAL_MS: u64 = 60_000;

/// The announcer's arguments, checked: it is this binary's own mode, but its command line
/// is readable and writable by whoever can run the binary, so nothing in it is trusted.
fn parse_background_args(args: &[String]) -> Option<(Announcement, u32, Duration, PathBuf)> {
    let [ifindex, ip, mac, count, interval, op, pid_path] = args else {
        return None;
    };
    let mut mac_bytes = [0u8; 6];
    let mut parts = mac.split(':');
    for b in &mut mac_bytes {
        *b = u8::from_str_radix(parts.next()?, 16).ok()?;
    }
    if parts.next().is_some() {
        return None;
    }
    let a = Announcement {
        ifindex: ifindex.parse().ok()?,
        ip: ip.parse().ok()?,
        mac: mac_bytes,
        reply: match op.as_str() {
            "reply" => true,
            "request" => false,
            _ => return None,
        },
    };
    let count = count.parse().ok().filter(|c| *c <= MAX_COUNT)?;
    let interval = interval
        .parse()
        .ok()
        .filter(|ms| (1..=MAX_INTERVAL_MS).contains(ms))
        .map(Duration::from_millis)?;
    let pid_path = PathBuf::from(pid_path);
    if !pid_path.is_absolute() {
        return None;
    }
    Some((a, count, interval, pid_path))
}

/// The background announcer, `ipaddr2 --announce IFINDEX IP MAC COUNT INTERVAL_MS
/// request|reply PIDFILE`: a mode of this binary that only `start` runs (see the module
/// doc), through `ocf::run` like an action (`ocf::Agent::helper`), so its panics and errors
/// are logged to syslog. It sleeps one interval, sends COUNT frames, and removes its pid file
/// if that still names it. Bounded: it ends after COUNT x INTERVAL.
pub fn background_main(args: &[String]) -> ocf::Result<ocf::Status> {
    let Some((a, count, interval, pid_path)) = parse_background_args(args) else {
        return Err(ocf::Error::args(format!(
            "{ANNOUNCE_ARG}: expected IFINDEX IP MAC COUNT(<={MAX_COUNT}) \
             INTERVAL_MS(1..={MAX_INTERVAL_MS}) request|reply /PIDFILE"
        )));
    };
    // The socket start sent the first frame on, when start passed it (see the module doc).
    let inherited = std::io::stdin()
        .as_fd()
        .try_clone_to_owned()
        .and_then(|fd| PacketSocket::sender_from_fd(fd, a.ifindex, a.ethertype()));
    std::thread::sleep(interval);
    let until = Instant::now() + interval * count + Duration::from_secs(1);
    let result = match inherited {
        Ok(socket) => arp_announce::send_repeatedly(&socket, &a.frame(), count, interval, until),
        Err(_) => a.send(count, interval, until),
    };
    if procs::read_pid_file(&pid_path).ok().flatten() == i32::try_from(std::process::id()).ok() {
        let _ = std::fs::remove_file(&pid_path);
    }
    result.map(|_| ocf::Status::Success).map_err(|e| {
        let name = nix::net::if_::if_indextoname(a.ifindex).map_or_else(
            |_| format!("interface {}", a.ifindex),
            |n| n.to_string_lossy().into_owned(),
        );
        ocf::Error::generic(format!(
            "announcing {} on {name}: {}",
            a.ip,
            crate::host::io_text(&e)
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    /// The arguments start gives a background announcer.
    const GOOD_ARGS: [&str; 7] = [
        "4",
        "192.0.2.10",
        "02:00:00:aa:bb:cc",
        "4",
        "200",
        "reply",
        "/run/x.pid",
    ];

    fn owned(args: &[&str]) -> Vec<String> {
        args.iter().map(|a| (*a).to_owned()).collect()
    }

    #[test]
    fn background_arguments_round_trip() {
        let args = owned(&GOOD_ARGS);
        let (a, count, interval, path) = parse_background_args(&args).unwrap();
        assert_eq!(a.ifindex, 4);
        assert_eq!(a.mac, [2, 0, 0, 0xaa, 0xbb, 0xcc]);
        assert!(a.reply);
        assert_eq!((count, interval), (4, Duration::from_millis(200)));
        assert_eq!(path, PathBuf::from("/run/x.pid"));
        assert!(parse_background_args(&args[..6]).is_none());
    }

    /// Issue 17: crafted arguments to the hidden mode made it panic (an overflowing
    /// COUNT x INTERVAL). Every argument is bounded now, and a refusal is an error.
    #[test]
    fn crafted_background_arguments_are_refused_not_panicked_on() {
        for (i, bad) in [
            (3, "4294967295"),
            (4, "18446744073709551615"),
            (4, "0"),
            (2, "02:00:00:aa:bb:cc:dd"),
            (5, "sideways"),
            (6, "relative.pid"),
            (1, "not-an-ip"),
        ] {
            let mut args = owned(&GOOD_ARGS);
            args[i] = bad.to_owned();
            assert!(parse_background_args(&args).is_none(), "{bad}");
            let e = background_main(&args).unwrap_err();
            assert_eq!(e.status(), ocf::Status::ErrArgs);
        }
    }

    fn scratch(tag: &str) -> PathBuf {
        ocf_testkit::scratch_dir(&format!("ipaddr2-pid-{tag}"))
    }

    #[test]
    fn pid_file_replaces_a_planted_symlink_and_round_trips() {
        let dir = scratch("link");
        let target = dir.join("target");
        std::fs::write(&target, "victim\n").unwrap();
        let link = dir.join("link.pid");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert!(
            procs::read_pid_file(&link).is_err(),
            "a symlink is never read"
        );
        let id = procs::Identity {
            pid: 1234,
            start_time: 99,
        };
        PidFile::create(&link).unwrap().write(&id).unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "victim\n");
        let meta = std::fs::symlink_metadata(&link).unwrap();
        assert!(meta.file_type().is_file(), "the symlink was unlinked");
        assert_eq!(meta.permissions().mode() & 0o777, 0o644);
        assert_eq!(meta.uid(), nix::unistd::geteuid().as_raw());
        let record = procs::read_pid_record(&link).unwrap().unwrap();
        assert_eq!(record.identity(), Some(id));
        std::fs::write(&link, "1\n").unwrap();
        assert!(our_announcer(&link).is_none(), "pid 1 is not our announcer");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn pid_file_refuses_an_unsafe_directory() {
        let dir = scratch("unsafe");
        let open = dir.join("open");
        std::fs::create_dir(&open).unwrap();
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
        let why = PidFile::create(&open.join("a.pid")).err().unwrap();
        assert!(
            why.to_string().contains("writable by group or others"),
            "{why}"
        );
        std::fs::create_dir(dir.join("real")).unwrap();
        std::os::unix::fs::symlink(dir.join("real"), dir.join("sym")).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o1777)).unwrap();
        let why = PidFile::create(&dir.join("sym/a.pid")).err().unwrap();
        assert!(why.to_string().contains("symlink"), "{why}");
        assert!(!dir.join("real/a.pid").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_running_process_may_still_send_a_missing_one_not() {
        let me = procs::Identity::of(i32::try_from(std::process::id()).unwrap()).unwrap();
        assert!(may_still_send(me), "this test process is running");
        let reused = procs::Identity {
            start_time: me.start_time + 1,
            ..me
        };
        assert!(!may_still_send(reused), "another process");
        assert!(!may_still_send(procs::Identity {
            pid: i32::MAX,
            start_time: 1
        }));
    }

    #[test]
    fn a_fifo_at_the_pid_file_does_not_block_stop() {
        // Issue 17: a FIFO at the pid file's name (HA_RSCTMP writable by a user) blocked
        // open(2) in start and stop until they were killed.
        let dir = scratch("fifo");
        let path = dir.join("ipaddr2-announce-192.0.2.10.pid");
        nix::unistd::mkfifo(&path, nix::sys::stat::Mode::from_bits_truncate(0o644)).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let p = path.clone();
        std::thread::spawn(move || {
            stop_background(&p, Instant::now() + Duration::from_secs(1));
            let _ = tx.send(());
        });
        rx.recv_timeout(Duration::from_secs(2))
            .expect("stop blocked on the FIFO");
        assert!(
            std::fs::symlink_metadata(&path).is_err(),
            "the FIFO is removed"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn only_the_recorded_announcer_is_signalled() {
        // A process named in the pid file by pid and start time, but running another
        // binary (here sleep), or a start time that is not the process's: never signalled.
        let dir = scratch("ident");
        let path = dir.join("ipaddr2-announce-192.0.2.11.pid");
        let mut sleeper = Command::new("sleep").arg("30").spawn().unwrap();
        let id = procs::Identity::of(i32::try_from(sleeper.id()).unwrap()).unwrap();
        let other = procs::Identity {
            start_time: id.start_time + 1,
            ..id
        };
        for recorded in [id, other] {
            std::fs::write(&path, recorded.pid_file_text()).unwrap();
            assert!(our_announcer(&path).is_none());
            stop_background(&path, Instant::now() + Duration::from_millis(100));
            let soon = Instant::now() + Duration::from_millis(200);
            assert!(
                !procs::wait_gone(&[id], soon, Duration::from_millis(5)),
                "{recorded:?}: sleep was signalled"
            );
        }
        sleeper.kill().unwrap();
        sleeper.wait().unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn pid_file_names() {
        let ip: IpAddr = "2001:db8::1".parse().unwrap();
        let p = pid_file(Path::new("/run/resource-agents"), ip, Some("blue"));
        assert!(
            p.ends_with("ipaddr2-announce-blue-2001:db8::1.pid"),
            "{p:?}"
        );
    }
}
