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
use std::fs::OpenOptions;
use std::io::{Read, Write};
use std::net::IpAddr;
use std::os::fd::AsFd;
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

/// The argv[1] of the background announcer.
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

    /// Send one frame now, then leave `count` more, `interval` apart, to a background
    /// announcer that inherits the socket and whose pid is recorded in `pid_path`.
    ///
    /// The pid file is created first (see [`PidFile`]). When it cannot be, or the pid
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
                    why,
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
                let sent = send_rest(&socket, &self.frame(), count, interval, until);
                Ok(Announced::Foreground {
                    sent: 1 + sent.map_err(BackgroundError::Send)?,
                    why,
                })
            }
        }
    }
}

/// `count` more frames on `socket` after the one just sent: the first `interval` from now,
/// none past `until`.
fn send_rest(
    socket: &PacketSocket,
    frame: &[u8],
    count: u32,
    interval: Duration,
    until: Instant,
) -> std::io::Result<u32> {
    if count == 0 || Instant::now() + interval > until {
        return Ok(0);
    }
    std::thread::sleep(interval);
    arp_announce::send_repeatedly(socket, frame, count, interval, until)
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

/// The pid file of the background announcer of `ip` (in `namespace`): under $HA_RSCTMP, as
/// IPaddr2's send_arp pid file, default /run/resource-agents.
pub fn pid_file(ip: IpAddr, namespace: Option<&str>) -> PathBuf {
    let dir = std::env::var_os("HA_RSCTMP")
        .filter(|d| !d.is_empty())
        .map_or_else(|| PathBuf::from("/run/resource-agents"), PathBuf::from);
    let ns = namespace.map(|n| format!("{n}-")).unwrap_or_default();
    dir.join(format!("ipaddr2-announce-{ns}{ip}.pid"))
}

/// The announcer's pid file while it is being created: its directory is opened without
/// following symlinks and must be root's and not writable by others
/// ([`procs::StateDir`]); whatever was at the name is unlinked, and the file is created
/// `O_CREAT|O_EXCL|O_NOFOLLOW`, mode 0644, before the announcer starts.
struct PidFile {
    dir: procs::StateDir,
    name: OsString,
    file: std::fs::File,
}

impl PidFile {
    fn create(path: &Path) -> Result<PidFile, String> {
        let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
            return Err(format!("{} is not a file path", path.display()));
        };
        let dir = procs::StateDir::open(dir).map_err(|e| e.to_string())?;
        let file = dir
            .create_file(name, 0o644, nix::fcntl::OFlag::empty())
            .map_err(|e| e.to_string())?;
        Ok(PidFile {
            dir,
            name: name.to_owned(),
            file,
        })
    }

    fn record(mut self, pid: u32) -> Result<(), String> {
        let written = writeln!(self.file, "{pid}").and_then(|()| self.file.flush());
        written.map_err(|e| {
            self.remove();
            format!(
                "writing {}: {e}",
                self.dir.path().join(&self.name).display()
            )
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

fn read_pid(path: &Path) -> Option<i32> {
    let mut f = OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NOFOLLOW)
        .open(path)
        .ok()?;
    let mut text = String::new();
    f.read_to_string(&mut text).ok()?;
    text.trim().parse().ok().filter(|p| *p > 1)
}

/// True when `pid` is our background announcer for this pid file.
fn is_our_announcer(pid: i32, pid_path: &Path) -> bool {
    if !is_alive(pid) {
        return false;
    }
    let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
        return false;
    };
    let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
    args.get(1).copied() == Some(ANNOUNCE_ARG.as_bytes())
        && args.get(8).copied() == Some(pid_path.as_os_str().as_encoded_bytes())
}

/// True while `pid` exists and is not a zombie (an orphan's zombie may linger when the
/// init of a container does not reap it).
fn is_alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        stat.rsplit_once(')')
            .is_some_and(|(_, rest)| !rest.trim_start().starts_with(['Z', 'X']))
    })
}

/// PF_EXITING in the flags of /proc/PID/stat (include/linux/sched.h): the task is in
/// do_exit() and will never run user code again.
const PF_EXITING: u64 = 0x4;

/// True while `pid` may still run user code: it exists, is not a zombie, and has not begun
/// to exit. An exiting announcer may spend a few more milliseconds in the kernel releasing
/// its packet socket (an RCU grace period), but it cannot send anything any more.
fn may_still_send(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        let Some((_, rest)) = stat.rsplit_once(')') else {
            return false;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let zombie = fields.first().is_none_or(|s| s.starts_with(['Z', 'X']));
        // Fields after the command: state ppid pgrp session tty_nr tpgid flags ...
        let exiting = fields
            .get(6)
            .and_then(|f| f.parse::<u64>().ok())
            .is_some_and(|flags| flags & PF_EXITING != 0);
        !zombie && !exiting
    })
}

/// How often stop looks whether the signalled announcer has begun to exit.
const EXIT_POLL: Duration = Duration::from_micros(250);

/// End the background announcer recorded in `pid_path`, if it still runs (waiting at most
/// until `until` for it to be unable to send), and remove the pid file. Never signals a
/// process that is not ours.
pub fn stop_background(pid_path: &Path, until: Instant) {
    if let Some(pid) = read_pid(pid_path)
        && is_our_announcer(pid, pid_path)
    {
        let pid = nix::unistd::Pid::from_raw(pid);
        if nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).is_ok() {
            log::info!("stopped the background announcer (pid {pid})");
            while may_still_send(pid.as_raw()) && Instant::now() < until {
                std::thread::sleep(EXIT_POLL);
            }
        }
    }
    let _ = std::fs::remove_file(pid_path);
}

fn parse_background_args(args: &[OsString]) -> Option<(Announcement, u32, Duration, PathBuf)> {
    let text: Vec<&str> = args.iter().map(|a| a.to_str()).collect::<Option<_>>()?;
    let [ifindex, ip, mac, count, interval, op, pid_path] = text.as_slice() else {
        return None;
    };
    let mut mac_bytes = [0u8; 6];
    let mut parts = mac.split(':');
    for b in &mut mac_bytes {
        *b = u8::from_str_radix(parts.next()?, 16).ok()?;
    }
    let a = Announcement {
        ifindex: ifindex.parse().ok()?,
        ip: ip.parse().ok()?,
        mac: mac_bytes,
        reply: *op == "reply",
    };
    let interval = Duration::from_millis(interval.parse().ok()?);
    Some((a, count.parse().ok()?, interval, PathBuf::from(pid_path)))
}

/// The background announcer's main: `ipaddr2 --announce IFINDEX IP MAC COUNT INTERVAL_MS
/// request|reply PIDFILE`. It sleeps one interval, sends COUNT frames, and removes its pid
/// file if that still names it. Bounded: it ends after COUNT x INTERVAL.
pub fn background_main(args: &[OsString]) -> ExitCode {
    let Some((a, count, interval, pid_path)) = parse_background_args(args) else {
        return ExitCode::from(2);
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
    if read_pid(&pid_path) == i32::try_from(std::process::id()).ok() {
        let _ = std::fs::remove_file(&pid_path);
    }
    if result.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    #[test]
    fn background_arguments_round_trip() {
        let args: Vec<OsString> = [
            "4",
            "192.0.2.10",
            "02:00:00:aa:bb:cc",
            "4",
            "200",
            "reply",
            "/run/x.pid",
        ]
        .iter()
        .map(OsString::from)
        .collect();
        let (a, count, interval, path) = parse_background_args(&args).unwrap();
        assert_eq!(a.ifindex, 4);
        assert_eq!(a.mac, [2, 0, 0, 0xaa, 0xbb, 0xcc]);
        assert!(a.reply);
        assert_eq!((count, interval), (4, Duration::from_millis(200)));
        assert_eq!(path, PathBuf::from("/run/x.pid"));
        assert!(parse_background_args(&args[..6]).is_none());
    }

    fn scratch(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("ipaddr2-pid-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        dir
    }

    #[test]
    fn pid_file_replaces_a_planted_symlink_and_round_trips() {
        let dir = scratch("link");
        let target = dir.join("target");
        std::fs::write(&target, "victim\n").unwrap();
        let link = dir.join("link.pid");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert_eq!(read_pid(&link), None, "a symlink is never read");
        PidFile::create(&link).unwrap().record(1234).unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "victim\n");
        let meta = std::fs::symlink_metadata(&link).unwrap();
        assert!(meta.file_type().is_file(), "the symlink was unlinked");
        assert_eq!(meta.permissions().mode() & 0o777, 0o644);
        assert_eq!(meta.uid(), nix::unistd::geteuid().as_raw());
        assert_eq!(read_pid(&link), Some(1234));
        assert!(!is_our_announcer(1, &link), "pid 1 is not our announcer");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn pid_file_refuses_an_unsafe_directory() {
        let dir = scratch("unsafe");
        let open = dir.join("open");
        std::fs::create_dir(&open).unwrap();
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
        let why = PidFile::create(&open.join("a.pid")).err().unwrap();
        assert!(why.contains("writable by group or others"), "{why}");
        std::fs::create_dir(dir.join("real")).unwrap();
        std::os::unix::fs::symlink(dir.join("real"), dir.join("sym")).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o1777)).unwrap();
        let why = PidFile::create(&dir.join("sym/a.pid")).err().unwrap();
        assert!(why.contains("symlink"), "{why}");
        assert!(!dir.join("real/a.pid").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_running_process_may_still_send_a_missing_one_not() {
        let me = i32::try_from(std::process::id()).unwrap();
        assert!(may_still_send(me), "this test process is running");
        assert!(!may_still_send(i32::MAX), "no such pid");
    }

    #[test]
    fn pid_file_names() {
        let ip: IpAddr = "2001:db8::1".parse().unwrap();
        let p = pid_file(ip, Some("blue"));
        assert!(
            p.ends_with("ipaddr2-announce-blue-2001:db8::1.pid"),
            "{p:?}"
        );
    }
}
