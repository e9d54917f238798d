//! A cgroup v2 of our own around Pacemaker's daemons, to read the CPU time they and every
//! process they fork spend (`cpu.stat`'s `usage_usec` counts the cgroup and its descendants,
//! exited processes included). The harness starts Pacemaker by hand, not under systemd, so no
//! unit's cgroup exists to read: we make `native-agents-scale-PID/` at the root of the cgroup2
//! mount with one leaf per group of daemons and move their processes in. `cpu.stat` needs no
//! controller enabled, so this works on a hybrid host (cgroup2 at /sys/fs/cgroup/unified, the
//! controllers on v1) as on a pure cgroup2 one. Dropped, it moves whatever is still inside
//! back where it came from and removes the directories.

use std::path::{Path, PathBuf};
use std::time::Duration;

/// The mount point of the cgroup2 hierarchy in a `/proc/self/mountinfo` text.
pub fn cgroup2_mount(mountinfo: &str) -> Option<PathBuf> {
    mountinfo.lines().find_map(|line| {
        // Fields: id parent major:minor root mountpoint options [optional...] - fstype source opts
        let (before, after) = line.split_once(" - ")?;
        let fstype = after.split(' ').next()?;
        let mountpoint = before.split(' ').nth(4)?;
        (fstype == "cgroup2").then(|| PathBuf::from(unescape_mountinfo(mountpoint)))
    })
}

/// mountinfo writes space, tab, newline and backslash in paths as `\ooo` octal escapes.
fn unescape_mountinfo(field: &str) -> String {
    let mut out = Vec::with_capacity(field.len());
    let bytes = field.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes
            .get(i + 1..i + 4)
            .filter(|d| bytes[i] == b'\\' && d.iter().all(|b| (b'0'..=b'7').contains(b)));
        if let Some(d) = octal {
            out.push((d[0] - b'0') * 64 + (d[1] - b'0') * 8 + (d[2] - b'0'));
            i += 4;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// What `cpu.stat` says, the three always-present fields (cgroup v2 core, no controller needed).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CpuStat {
    pub usage: Duration,
    pub user: Duration,
    pub system: Duration,
}

impl CpuStat {
    /// Parse `cpu.stat` (`key value` lines in microseconds; unknown keys are skipped).
    pub fn parse(text: &str) -> Result<CpuStat, String> {
        let mut found = [None; 3];
        for line in text.lines() {
            let Some((key, value)) = line.split_once(' ') else {
                continue;
            };
            let slot = match key {
                "usage_usec" => 0,
                "user_usec" => 1,
                "system_usec" => 2,
                _ => continue,
            };
            let usec: u64 = value
                .trim()
                .parse()
                .map_err(|e| format!("cpu.stat: {key} {value:?}: {e}"))?;
            found[slot] = Some(Duration::from_micros(usec));
        }
        match found {
            [Some(usage), Some(user), Some(system)] => Ok(CpuStat {
                usage,
                user,
                system,
            }),
            _ => Err(format!(
                "cpu.stat without usage_usec, user_usec and system_usec: {text:?}"
            )),
        }
    }

    /// The CPU spent between `earlier` and `self` (counters only grow; a smaller value is 0).
    pub fn since(self, earlier: CpuStat) -> CpuStat {
        CpuStat {
            usage: self.usage.saturating_sub(earlier.usage),
            user: self.user.saturating_sub(earlier.user),
            system: self.system.saturating_sub(earlier.system),
        }
    }
}

/// The process's cgroup v2 path from a `/proc/PID/cgroup` text (the `0::/path` line).
pub fn v2_path(proc_cgroup: &str) -> Option<&str> {
    proc_cgroup.lines().find_map(|l| l.strip_prefix("0::"))
}

/// Our cgroup and its leaves (one per group of daemons).
pub struct Cgroups {
    mount: PathBuf,
    top: PathBuf,
    leaves: Vec<String>,
    /// Where each process we moved came from, to put it back.
    moved: Vec<(i32, PathBuf)>,
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

impl Cgroups {
    /// Make `native-agents-scale-PID/<leaf>` for each leaf under the cgroup2 mount.
    pub fn new(leaves: &[&str]) -> Result<Cgroups, String> {
        let info = std::fs::read_to_string("/proc/self/mountinfo")
            .map_err(|e| format!("/proc/self/mountinfo: {e}"))?;
        let mount = cgroup2_mount(&info).ok_or(
            "no cgroup2 hierarchy is mounted here: the executor's CPU time is read from a cgroup v2",
        )?;
        let top = mount.join(format!("native-agents-scale-{}", std::process::id()));
        let cgroups = Cgroups {
            mount,
            top,
            leaves: leaves.iter().map(|l| (*l).to_owned()).collect(),
            moved: Vec::new(),
        };
        for dir in
            std::iter::once(cgroups.top.clone()).chain(leaves.iter().map(|l| cgroups.top.join(l)))
        {
            std::fs::create_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        Ok(cgroups)
    }

    pub fn top(&self) -> &Path {
        &self.top
    }

    /// Move process `pid` (all its threads) into `leaf`; it goes back when we are dropped.
    pub fn adopt(&mut self, leaf: &str, pid: i32) -> Result<(), String> {
        let proc_cgroup = format!("/proc/{pid}/cgroup");
        let text =
            std::fs::read_to_string(&proc_cgroup).map_err(|e| format!("{proc_cgroup}: {e}"))?;
        let from = v2_path(&text)
            .ok_or_else(|| format!("{proc_cgroup}: no cgroup v2 line"))?
            .trim_start_matches('/');
        write(&self.top.join(leaf).join("cgroup.procs"), &pid.to_string())?;
        self.moved.push((pid, self.mount.join(from)));
        Ok(())
    }

    /// `cpu.stat` of `leaf`, or of the whole group when `leaf` is `None`.
    pub fn cpu(&self, leaf: Option<&str>) -> Result<CpuStat, String> {
        let path = leaf
            .map_or_else(|| self.top.clone(), |l| self.top.join(l))
            .join("cpu.stat");
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        CpuStat::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }
}

impl Drop for Cgroups {
    fn drop(&mut self) {
        // Anything still inside (a daemon of a cluster we did not stop, a process it forked)
        // goes back to where the daemon came from, or to the root.
        for leaf in &self.leaves {
            let procs = self.top.join(leaf).join("cgroup.procs");
            for pid in std::fs::read_to_string(&procs).unwrap_or_default().lines() {
                let home = pid
                    .parse::<i32>()
                    .ok()
                    .and_then(|p| self.moved.iter().find(|(m, _)| *m == p))
                    .map_or_else(|| self.mount.clone(), |(_, from)| from.clone());
                if write(&home.join("cgroup.procs"), pid).is_err() {
                    let _ = write(&self.mount.join("cgroup.procs"), pid);
                }
            }
        }
        for leaf in &self.leaves {
            let _ = std::fs::remove_dir(self.top.join(leaf));
        }
        let _ = std::fs::remove_dir(&self.top);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_cgroup2_on_a_hybrid_host_and_on_a_pure_one() {
        // This host's layout: v1 controllers, cgroup2 at /sys/fs/cgroup/unified.
        let hybrid = "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n\
            33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n\
            41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
        assert_eq!(
            cgroup2_mount(hybrid),
            Some(PathBuf::from("/sys/fs/cgroup/unified"))
        );
        // systemd's unified layout, with an optional field (shared:N) before the separator.
        let pure = "30 24 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate\n";
        assert_eq!(cgroup2_mount(pure), Some(PathBuf::from("/sys/fs/cgroup")));
        let none = "33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n";
        assert_eq!(cgroup2_mount(none), None);
        let escaped = "41 31 0:38 / /mnt/cg\\040two rw - cgroup2 cgroup2 rw\n";
        assert_eq!(cgroup2_mount(escaped), Some(PathBuf::from("/mnt/cg two")));
    }

    #[test]
    fn reads_cpu_stat_with_or_without_the_cpu_controller() {
        // Without the cpu controller (this host): the core's four lines.
        let core = "usage_usec 324747\nuser_usec 205666\nsystem_usec 119080\nnice_usec 0\n";
        assert_eq!(
            CpuStat::parse(core),
            Ok(CpuStat {
                usage: Duration::from_micros(324_747),
                user: Duration::from_micros(205_666),
                system: Duration::from_micros(119_080),
            })
        );
        // With it: throttling lines follow and are skipped.
        let full = "usage_usec 10\nuser_usec 6\nsystem_usec 4\ncore_sched.force_idle_usec 0\n\
                    nr_periods 0\nnr_throttled 0\nthrottled_usec 0\nnr_bursts 0\nburst_usec 0\n";
        assert_eq!(
            CpuStat::parse(full).map(|s| s.usage),
            Ok(Duration::from_micros(10))
        );
    }

    #[test]
    fn a_cpu_stat_without_its_fields_or_with_garbage_is_an_error() {
        assert!(CpuStat::parse("").is_err());
        assert!(CpuStat::parse("usage_usec 1\nuser_usec 1\n").is_err());
        assert!(CpuStat::parse("usage_usec x\nuser_usec 1\nsystem_usec 1\n").is_err());
    }

    #[test]
    fn a_delta_never_goes_below_zero() {
        let at = |u| CpuStat {
            usage: Duration::from_micros(u),
            user: Duration::from_micros(u),
            system: Duration::ZERO,
        };
        assert_eq!(at(150).since(at(100)).usage, Duration::from_micros(50));
        assert_eq!(at(100).since(at(150)).usage, Duration::ZERO);
    }

    #[test]
    fn reads_the_v2_line_of_proc_cgroup() {
        let text = "9:name=systemd:/\n4:memory:/process_api/ff0e\n1:cpu:/\n0::/scale-probe\n";
        assert_eq!(v2_path(text), Some("/scale-probe"));
        assert_eq!(v2_path("4:memory:/x\n"), None);
    }
}
