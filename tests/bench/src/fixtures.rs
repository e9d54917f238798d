//! The resources both agents of a pair manage, made once per agent kind and removed on drop
//! (even when the bench fails): a network namespace with a veth pair, a generated httpd
//! configuration on 127.0.0.41, an ext4 image on a loop device, a stand-in dlm daemon path.
//! Nothing here touches the host's own interfaces, routes or mounts.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// Run a set-up command; its failure is the bench's failure.
pub fn run(program: &str, args: &[&str]) -> Result<String, String> {
    let out = Command::new(program)
        .args(args)
        .output()
        .map_err(|e| format!("set-up: {program} {}: {e}", args.join(" ")))?;
    if !out.status.success() {
        return Err(format!(
            "set-up: {program} {} failed ({}): {}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// A namespace `bench-ip-PID` holding `v0` (192.0.2.1/24, up), whose veth peer `v0p` lives in a
/// second namespace so the gratuitous ARPs leave through a real link.
pub struct NetnsPair {
    pub name: String,
    peer: String,
}

impl NetnsPair {
    pub fn new() -> Result<NetnsPair, String> {
        let name = format!("bench-ip-{}", std::process::id());
        let pair = NetnsPair {
            peer: format!("{name}-p"),
            name,
        };
        pair.remove();
        run("ip", &["netns", "add", &pair.name])?;
        run("ip", &["netns", "add", &pair.peer])?;
        let ns = pair.name.as_str();
        run("ip", &["-n", ns, "link", "set", "lo", "up"])?;
        run(
            "ip",
            &[
                "-n", ns, "link", "add", "v0", "type", "veth", "peer", "name", "v0p", "netns",
                &pair.peer,
            ],
        )?;
        run("ip", &["-n", ns, "link", "set", "v0", "up"])?;
        run("ip", &["-n", &pair.peer, "link", "set", "v0p", "up"])?;
        run(
            "ip",
            &["-n", ns, "addr", "add", "192.0.2.1/24", "dev", "v0"],
        )?;
        Ok(pair)
    }

    fn remove(&self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .output();
        let _ = Command::new("ip")
            .args(["netns", "del", &self.peer])
            .output();
    }
}

impl Drop for NetnsPair {
    fn drop(&mut self) {
        self.remove();
    }
}

/// A private httpd: its config, document root, pid file and logs under one directory,
/// listening on 127.0.0.41:8041 with mod_status at /server-status.
pub struct ApacheSite {
    pub dir: PathBuf,
    pub config: PathBuf,
    pub pidfile: PathBuf,
    pub status_url: String,
}

impl ApacheSite {
    pub fn new(work: &Path) -> Result<ApacheSite, String> {
        let dir = work.join("apache");
        let _ = std::fs::remove_dir_all(&dir);
        for sub in ["htdocs", "run"] {
            std::fs::create_dir_all(dir.join(sub))
                .map_err(|e| format!("set-up: {}: {e}", dir.display()))?;
        }
        let modules = Path::new("/usr/lib/apache2/modules");
        if !modules.join("mod_status.so").exists() {
            return Err(
                "set-up: no /usr/lib/apache2/modules/mod_status.so (apt-get install apache2)"
                    .into(),
            );
        }
        let d = dir.display();
        let m = modules.display();
        let site = ApacheSite {
            config: dir.join("httpd.conf"),
            pidfile: dir.join("httpd.pid"),
            status_url: "http://127.0.0.41:8041/server-status".into(),
            dir: dir.clone(),
        };
        let conf = format!(
            "ServerRoot {d}\nServerName bench\nListen 127.0.0.41:8041\nPidFile {pid}\n\
             LoadModule mpm_event_module {m}/mod_mpm_event.so\n\
             LoadModule authz_core_module {m}/mod_authz_core.so\n\
             LoadModule authz_host_module {m}/mod_authz_host.so\n\
             LoadModule status_module {m}/mod_status.so\n\
             ErrorLog {d}/error.log\nDefaultRuntimeDir {d}/run\nMutex file:{d}/run default\n\
             DocumentRoot {d}/htdocs\n\
             <Location /server-status>\n  SetHandler server-status\n  Require local\n</Location>\n",
            pid = site.pidfile.display()
        );
        let write = |p: PathBuf, s: &str| {
            std::fs::write(&p, s).map_err(|e| format!("set-up: {}: {e}", p.display()))
        };
        write(site.config.clone(), &conf)?;
        write(
            dir.join("htdocs/index.html"),
            "<html><body>bench</body></html>\n",
        )?;
        Ok(site)
    }

    /// The main httpd pid from the pid file, if that process is alive.
    pub fn pid(&self) -> Option<i32> {
        let pid: i32 = std::fs::read_to_string(&self.pidfile)
            .ok()?
            .trim()
            .parse()
            .ok()?;
        Path::new(&format!("/proc/{pid}")).exists().then_some(pid)
    }
}

impl Drop for ApacheSite {
    fn drop(&mut self) {
        // Whatever a failed run left running: TERM, then KILL after 5 s.
        if let Some(pid) = self.pid() {
            let pid = nix::unistd::Pid::from_raw(pid);
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
            let until = Instant::now() + Duration::from_secs(5);
            while Instant::now() < until && self.pid().is_some() {
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A 64 MiB ext4 image on a loop device, and an empty mount point beside it.
pub struct LoopExt4 {
    dir: PathBuf,
    pub device: String,
    pub mountpoint: PathBuf,
}

impl LoopExt4 {
    pub fn new(work: &Path) -> Result<LoopExt4, String> {
        let dir = work.join("fs");
        let _ = std::fs::remove_dir_all(&dir);
        let mountpoint = dir.join("mnt");
        std::fs::create_dir_all(&mountpoint)
            .map_err(|e| format!("set-up: {}: {e}", mountpoint.display()))?;
        let image = dir.join("ext4.img");
        std::fs::File::create(&image)
            .and_then(|f| f.set_len(64 << 20))
            .map_err(|e| format!("set-up: {}: {e}", image.display()))?;
        let image = image.to_string_lossy().into_owned();
        run("mkfs.ext4", &["-q", "-F", &image])?;
        let device = run("losetup", &["--find", "--show", &image])?
            .trim()
            .to_owned();
        Ok(LoopExt4 {
            dir,
            device,
            mountpoint,
        })
    }
}

impl Drop for LoopExt4 {
    fn drop(&mut self) {
        // Only our own mount point, and only if something is mounted there.
        let mounted = std::fs::read_to_string("/proc/self/mountinfo").is_ok_and(|t| {
            let want = self.mountpoint.to_string_lossy();
            t.lines()
                .any(|l| l.split(' ').nth(4) == Some(want.as_ref()))
        });
        if mounted {
            let _ = nix::mount::umount2(&self.mountpoint, nix::mount::MntFlags::MNT_DETACH);
        }
        let _ = Command::new("losetup").args(["-d", &self.device]).output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// An executable that stands in for dlm_controld (the real one is not installed here and must
/// not run outside the lab): both agents find the daemon, and find it not running.
pub struct DaemonStandIn {
    dir: PathBuf,
    pub path: PathBuf,
}

impl DaemonStandIn {
    pub fn new(work: &Path) -> Result<DaemonStandIn, String> {
        use std::os::unix::fs::PermissionsExt;
        let dir = work.join("dlm");
        std::fs::create_dir_all(&dir).map_err(|e| format!("set-up: {}: {e}", dir.display()))?;
        let path = dir.join("bench-dlmd");
        std::fs::write(&path, "#!/bin/sh\nexit 1\n")
            .and_then(|()| std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)))
            .map_err(|e| format!("set-up: {}: {e}", path.display()))?;
        Ok(DaemonStandIn { dir, path })
    }
}

impl Drop for DaemonStandIn {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A DRBD configuration in Debian's layout (drbd.conf including `drbd.d/*.res`) defining
/// resource `bench` with allow-two-primaries, for validate-all to read: no device behind it.
pub struct DrbdConf {
    dir: PathBuf,
    pub path: PathBuf,
}

impl DrbdConf {
    pub fn new(work: &Path) -> Result<DrbdConf, String> {
        let dir = work.join("drbd");
        let res = dir.join("drbd.d");
        std::fs::create_dir_all(&res).map_err(|e| format!("set-up: {}: {e}", res.display()))?;
        let path = dir.join("drbd.conf");
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
        std::fs::write(&path, "include \"drbd.d/*.res\";\n")
            .and_then(|()| {
                std::fs::write(
                    res.join("bench.res"),
                    format!(
                        "resource bench {{\n  device /dev/drbd99;\n  disk /dev/bench-none;\n  \
                         meta-disk internal;\n  net {{ allow-two-primaries yes; }}\n  \
                         on {} {{ address 192.0.2.1:7789; }}\n  on bench-peer {{ address 192.0.2.2:7789; }}\n}}\n",
                        host.trim()
                    ),
                )
            })
            .map_err(|e| format!("set-up: {}: {e}", path.display()))?;
        Ok(DrbdConf { dir, path })
    }
}

impl Drop for DrbdConf {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
