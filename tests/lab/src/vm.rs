//! The two QEMU virtual machines: software emulation (vm-lab.md), a cluster link between the
//! two QEMU processes on 127.0.0.1 (`-netdev dgram`), management through QEMU user networking
//! with `restrict=on` and one forwarded ssh port on 127.0.0.1, a 256 MiB DRBD disk as /dev/vdb.

use crate::image::Image;
use crate::paths::Paths;
use crate::step::{Context, Error, Result, awaiting};
use crate::sys::{Output, mins, run_ok, run_with, secs};
use std::fs;
use std::io::Write;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

pub const NODES: [&str; 2] = ["node1", "node2"];

/// Ports on 127.0.0.1: ssh forwards and the cluster link's two UDP ends. `LAB_PORT_BASE`
/// moves them all (default 10220).
fn port_base() -> u16 {
    std::env::var("LAB_PORT_BASE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10220)
}

/// 1 for node1, 2 for node2.
pub fn index(node: &str) -> Result<u16> {
    match node {
        "node1" => Ok(1),
        "node2" => Ok(2),
        _ => Err(Error(format!(
            "no node {node:?} (the nodes are node1 and node2)"
        ))),
    }
}

pub fn other(node: &str) -> &'static str {
    if node == "node1" { "node2" } else { "node1" }
}

fn file(paths: &Paths, node: &str, suffix: &str) -> PathBuf {
    paths.run.join(format!("{node}{suffix}"))
}

fn pid(paths: &Paths, node: &str) -> Option<u32> {
    let pid: u32 = fs::read_to_string(file(paths, node, ".pid"))
        .ok()?
        .trim()
        .parse()
        .ok()?;
    let cmdline = fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    // Only a QEMU we started for this node counts (the pid may have been reused).
    String::from_utf8_lossy(&cmdline)
        .contains(&format!("guest={node}"))
        .then_some(pid)
}

pub fn running(paths: &Paths, node: &str) -> bool {
    pid(paths, node).is_some()
}

/// Boots `node` from its overlay (created from the image when missing).
pub fn launch(paths: &Paths, image: &Image, node: &str) -> Result<()> {
    let i = index(node)?;
    if running(paths, node) {
        return Err(Error(format!("{node} is already running")));
    }
    fs::create_dir_all(&paths.run)?;
    let overlay = file(paths, node, ".qcow2");
    if !overlay.exists() {
        run_ok(
            Command::new("qemu-img")
                .args(["create", "-q", "-f", "qcow2", "-F", "qcow2", "-b"])
                .arg(image.disk())
                .arg(&overlay),
            mins(1),
        )?;
    }
    let drbd = file(paths, node, "-drbd.qcow2");
    if !drbd.exists() {
        run_ok(
            Command::new("qemu-img")
                .args(["create", "-q", "-f", "qcow2"])
                .arg(&drbd)
                .arg("256M"),
            mins(1),
        )?;
    }
    let base = port_base();
    let (ssh, local, remote) = (base + i, base + 10 + i, base + 10 + (3 - i));
    let log = fs::File::create(file(paths, node, ".qemu.log"))?;
    let mut qemu = Command::new("qemu-system-x86_64");
    qemu.args([
        "-name",
        &format!("guest={node}"),
        "-accel",
        "tcg",
        "-cpu",
        "max",
        "-smp",
        "1",
        "-m",
        "768",
    ])
    .args(["-nodefaults", "-display", "none", "-daemonize", "-pidfile"])
    .arg(file(paths, node, ".pid"))
    .arg("-kernel")
    .arg(image.kernel())
    .arg("-initrd")
    .arg(image.initrd())
    .args([
        "-append",
        &format!("root=/dev/vda rw console=ttyS0 net.ifnames=0 quiet systemd.hostname={node}"),
    ])
    .arg("-drive")
    .arg(format!("file={},if=virtio,format=qcow2", overlay.display()))
    .arg("-drive")
    .arg(format!("file={},if=virtio,format=qcow2", drbd.display()))
    .arg("-netdev")
    .arg(format!(
        "user,id=mgmt,restrict=on,hostfwd=tcp:127.0.0.1:{ssh}-:22"
    ))
    .args([
        "-device",
        &format!("virtio-net-pci,netdev=mgmt,mac=52:54:00:00:00:0{i}"),
    ])
    .arg("-netdev")
    .arg(format!(
        "dgram,id=cluster,local.type=inet,local.host=127.0.0.1,local.port={local},\
             remote.type=inet,remote.host=127.0.0.1,remote.port={remote}"
    ))
    .args([
        "-device",
        &format!("virtio-net-pci,netdev=cluster,mac=52:54:00:00:01:0{i}"),
    ])
    .args(fenced_devices(paths))
    .arg("-chardev")
    .arg(format!(
        "file,id=console,path={},append=on",
        file(paths, node, ".console.log").display()
    ))
    .args(["-serial", "chardev:console"])
    .arg("-monitor")
    .arg(format!(
        "unix:{},server=on,wait=off",
        file(paths, node, ".monitor").display()
    ))
    .stdin(Stdio::null())
    .stdout(log.try_clone()?)
    .stderr(log);
    let status = qemu
        .status()
        .context(|| format!("cannot start QEMU for {node}"))?;
    if !status.success() {
        let log = fs::read_to_string(file(paths, node, ".qemu.log")).unwrap_or_default();
        return Err(Error(format!("QEMU for {node} exited {status}: {log}")));
    }
    Ok(())
}

fn ssh_command(paths: &Paths, node: &str) -> Result<Command> {
    let port = port_base() + index(node)?;
    let mut c = Command::new("ssh");
    c.arg("-i")
        .arg(&paths.key)
        .args(["-p", &port.to_string()])
        .args([
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-o",
            "LogLevel=ERROR",
        ])
        .args([
            "-o",
            "BatchMode=yes",
            "-o",
            "ConnectTimeout=10",
            "-o",
            "ServerAliveInterval=5",
        ])
        .args(["-o", "ServerAliveCountMax=4", "root@127.0.0.1"]);
    Ok(c)
}

/// Runs `script` with the node's shell, as ssh does; its exit code is in the output.
pub fn ssh(paths: &Paths, node: &str, script: &str, timeout: Duration) -> Result<Output> {
    let mut c = ssh_command(paths, node)?;
    c.arg(script);
    run_with(&mut c, None, timeout).context(|| format!("ssh {node}"))
}

/// Like `ssh` but fails, with the output's tail, unless the script exits 0.
pub fn ssh_ok(paths: &Paths, node: &str, script: &str, timeout: Duration) -> Result<String> {
    let out = ssh(paths, node, script, timeout)?;
    if out.code != 0 {
        let short: String = script.chars().take(160).collect();
        return Err(Error(format!(
            "on {node}: `{short}` exited {}:\n{}",
            out.code,
            out.tail()
        )));
    }
    Ok(out.stdout)
}

/// The interactive form for `lab ssh`: stdio passed through, the exit code returned.
pub fn ssh_passthrough(paths: &Paths, node: &str, words: &[String]) -> Result<i32> {
    let mut c = ssh_command(paths, node)?;
    c.arg(words.join(" "));
    let status = c.status().context(|| format!("ssh {node}"))?;
    Ok(status.code().unwrap_or(255))
}

/// Waits until `node` answers ssh.
pub fn wait_ssh(paths: &Paths, node: &str, timeout: Duration) -> Result<()> {
    let _w = awaiting(format!("{node} answering ssh"));
    let deadline = Instant::now() + timeout;
    loop {
        if let Ok(out) = ssh(paths, node, "true", secs(20))
            && out.code == 0
        {
            return Ok(());
        }
        if !running(paths, node) {
            return Err(Error(format!(
                "{node}'s QEMU is gone (see {})",
                file(paths, node, ".console.log").display()
            )));
        }
        if Instant::now() >= deadline {
            return Err(Error(format!(
                "{node} did not answer ssh within {} s (see {})",
                timeout.as_secs(),
                file(paths, node, ".console.log").display()
            )));
        }
        sleep(Duration::from_secs(1));
    }
}

/// Runs one command on `node`'s QEMU monitor (HMP, at target/lab/run/<node>.monitor) and
/// returns what the monitor printed after it.
pub fn monitor(paths: &Paths, node: &str, command: &str) -> Result<String> {
    let path = file(paths, node, ".monitor");
    let mut s = UnixStream::connect(&path).context(|| format!("{}", path.display()))?;
    s.set_read_timeout(Some(Duration::from_millis(500)))?;
    s.write_all(format!("{command}\n").as_bytes())?;
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = Instant::now() + Duration::from_secs(5);
    // The banner, the echo and the answer come as they come: read until a quiet half second
    // after the command's echo, or five seconds.
    while Instant::now() < deadline {
        match std::io::Read::read(&mut s, &mut buf) {
            Ok(0) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                if String::from_utf8_lossy(&out).contains(command) {
                    break;
                }
            }
            Err(e) => return Err(Error(format!("{}: {e}", path.display()))),
        }
    }
    let text = String::from_utf8_lossy(&out);
    Ok(text
        .rsplit_once(command)
        .map_or(text.as_ref(), |(_, after)| after)
        .replace("(qemu)", "")
        .trim()
        .to_owned())
}

/// Hard power-off: QEMU's monitor `quit`, then SIGKILL of that QEMU if it lingers.
pub fn kill(paths: &Paths, node: &str) -> Result<()> {
    let Some(pid) = pid(paths, node) else {
        return Ok(());
    };
    if let Ok(mut s) = UnixStream::connect(file(paths, node, ".monitor")) {
        let _ = s.write_all(b"quit\n");
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while running(paths, node) {
        if Instant::now() >= deadline {
            run_ok(
                Command::new("kill").args(["-KILL", &pid.to_string()]),
                secs(5),
            )?;
            sleep(Duration::from_millis(200));
            break;
        }
        sleep(Duration::from_millis(50));
    }
    let _ = fs::remove_file(file(paths, node, ".pid"));
    Ok(())
}

/// Ends both VMs and removes their overlays, DRBD disks and the SBD disk (console logs stay).
pub fn down(paths: &Paths) -> Result<()> {
    for node in NODES {
        kill(paths, node)?;
        for suffix in [".qcow2", "-drbd.qcow2", ".monitor"] {
            let f = file(paths, node, suffix);
            if f.exists() {
                fs::remove_file(&f)?;
            }
        }
    }
    let sbd = sbd_disk(paths);
    if sbd.exists() {
        fs::remove_file(sbd)?;
    }
    Ok(())
}

/// The fenced profile's SBD disk: one raw file both QEMUs open (tests/lab/FENCED.md 1.1).
/// Its presence is what makes `launch` give a machine the disk and a watchdog, so that a
/// node booted again (`lab start`) gets them too.
pub fn sbd_disk(paths: &Paths) -> PathBuf {
    paths.run.join("sbd.raw")
}

/// The guest's name of the SBD disk: the third virtio disk, after the root and DRBD's.
/// A kernel name, not a udev link: sbd starts before udev's coldplug ends under emulation.
pub const SBD_DEVICE: &str = "/dev/vdc";

/// Creates the SBD disk (16 MiB, raw: a qcow2 file caches metadata per process).
pub fn create_sbd_disk(paths: &Paths) -> Result<()> {
    fs::create_dir_all(&paths.run)?;
    run_ok(
        Command::new("qemu-img")
            .args(["create", "-q", "-f", "raw"])
            .arg(sbd_disk(paths))
            .arg("16M"),
        mins(1),
    )?;
    Ok(())
}

/// The SBD disk, shared (`share-rw`: both QEMUs write it, uncached) and an i6300esb watchdog
/// that resets the machine, when the run is fenced.
fn fenced_devices(paths: &Paths) -> Vec<String> {
    let sbd = sbd_disk(paths);
    if !sbd.exists() {
        return Vec::new();
    }
    vec![
        "-drive".into(),
        format!(
            "file={},if=none,id=sbd,format=raw,cache=none",
            sbd.display()
        ),
        // Fixed PCI slots after the `if=virtio` disks (QEMU creates those after every
        // `-device`, slots 6 and 7 here): the guest names virtio disks in slot order, and a
        // lower slot made the SBD disk /dev/vda, the root the kernel is told to mount.
        "-device".into(),
        "virtio-blk-pci,drive=sbd,share-rw=on,serial=lab-sbd,addr=0x10".into(),
        "-device".into(),
        "i6300esb,addr=0x11".into(),
        "-action".into(),
        "watchdog=reset".into(),
    ]
}

/// The console log of `node`.
pub fn console_log(paths: &Paths, node: &str) -> PathBuf {
    file(paths, node, ".console.log")
}
