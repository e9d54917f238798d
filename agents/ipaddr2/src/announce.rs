//! Announcing the address: gratuitous ARP (IPv4) or unsolicited neighbour advertisements
//! (IPv6). The first is sent before start returns; with `arp_bg` the rest come from a
//! background copy of this binary (`ipaddr2 --announce ...`, its own process group, stdio
//! closed) whose pid is kept in a file that stop uses to end it.

use arp_announce::{ArpOp, ETH_P_ARP, ETH_P_IPV6, PacketSocket, packet};
use std::ffi::OsString;
use std::fs::OpenOptions;
use std::io::{Read, Write};
use std::net::IpAddr;
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
        let ethertype = if self.ip.is_ipv4() {
            ETH_P_ARP
        } else {
            ETH_P_IPV6
        };
        PacketSocket::open(self.ifindex, ethertype)
    }

    /// Send `count` frames `interval` apart in this process, never past `until`.
    pub fn send(&self, count: u32, interval: Duration, until: Instant) -> std::io::Result<u32> {
        let socket = self.socket()?;
        arp_announce::send_repeatedly(&socket, &self.frame(), count, interval, until)
    }
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

/// Start the background announcer for `count` more frames, the first one `interval` from
/// now, and record its pid.
pub fn spawn_background(
    a: &Announcement,
    count: u32,
    interval: Duration,
    pid_path: &Path,
) -> std::io::Result<()> {
    if let Some(dir) = pid_path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mac = arp_announce::format_mac(&a.mac);
    let child = Command::new("/proc/self/exe")
        .arg0("ipaddr2")
        .arg(ANNOUNCE_ARG)
        .arg(a.ifindex.to_string())
        .arg(a.ip.to_string())
        .arg(mac)
        .arg(count.to_string())
        .arg(interval.as_millis().to_string())
        .arg(if a.reply { "reply" } else { "request" })
        .arg(pid_path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()?;
    write_pid(pid_path, child.id())
}

fn write_pid(path: &Path, pid: u32) -> std::io::Result<()> {
    // O_NOFOLLOW: a symlink planted at the path is an error, never a write elsewhere.
    let mut f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o644)
        .custom_flags(nix::libc::O_NOFOLLOW)
        .open(path)?;
    writeln!(f, "{pid}")
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

/// End the background announcer recorded in `pid_path`, if it still runs (waiting for it at
/// most until `until`), and remove the pid file. Never signals a process that is not ours.
pub fn stop_background(pid_path: &Path, until: Instant) {
    if let Some(pid) = read_pid(pid_path)
        && is_our_announcer(pid, pid_path)
    {
        let pid = nix::unistd::Pid::from_raw(pid);
        if nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).is_ok() {
            log::info!("stopped the background announcer (pid {pid})");
            while is_alive(pid.as_raw()) && Instant::now() < until {
                std::thread::sleep(Duration::from_millis(10));
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
    std::thread::sleep(interval);
    let until = Instant::now() + interval * count + Duration::from_secs(1);
    let result = a.send(count, interval, until);
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

    #[test]
    fn pid_file_refuses_symlinks_and_round_trips() {
        let dir = std::env::temp_dir().join(format!("ipaddr2-pid-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let target = dir.join("target");
        let link = dir.join("link.pid");
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert!(write_pid(&link, 1234).is_err());
        assert!(!target.exists(), "nothing written through the symlink");
        assert_eq!(read_pid(&link), None);
        let plain = dir.join("plain.pid");
        write_pid(&plain, 1234).unwrap();
        assert_eq!(read_pid(&plain), Some(1234));
        assert!(!is_our_announcer(1, &plain), "pid 1 is not our announcer");
        std::fs::remove_dir_all(&dir).unwrap();
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
