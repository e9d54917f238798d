//! Where and when the bench ran, and the floor: what one exec of an empty static binary costs
//! on this machine (and, for the shell agents, bash sourcing ocf-shellfuncs).

use std::path::{Path, PathBuf};
use std::process::Command;

#[derive(Debug, Clone)]
pub struct Machine {
    pub date: String,
    pub nproc: usize,
    pub model: String,
    pub kernel: String,
    pub loadavg: String,
    pub git: String,
}

fn first_line(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).output().ok()?;
    out.status.success().then(|| {
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .next()
            .unwrap_or("")
            .trim()
            .to_owned()
    })
}

impl Machine {
    pub fn read(repo: &Path) -> Machine {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let model = cpuinfo
            .lines()
            .find_map(|l| {
                l.strip_prefix("model name")?
                    .split_once(':')
                    .map(|(_, m)| m.trim().to_owned())
            })
            .unwrap_or_else(|| "unknown".into());
        let read = |p: &str| {
            std::fs::read_to_string(p).map_or_else(|_| "unknown".into(), |s| s.trim().to_owned())
        };
        let repo_s = repo.to_string_lossy();
        let git = first_line("git", &["-C", &repo_s, "rev-parse", "--short", "HEAD"]).map_or_else(
            || "unknown".into(),
            |rev| {
                let dirty = first_line("git", &["-C", &repo_s, "status", "--porcelain"])
                    .is_some_and(|l| !l.is_empty());
                if dirty {
                    format!("{rev} + uncommitted changes")
                } else {
                    rev
                }
            },
        );
        Machine {
            date: first_line("date", &["-u", "+%Y-%m-%d %H:%M UTC"])
                .unwrap_or_else(|| "unknown".into()),
            nproc: std::thread::available_parallelism().map_or(0, std::num::NonZero::get),
            model,
            kernel: read("/proc/sys/kernel/osrelease"),
            loadavg: read("/proc/loadavg")
                .split(' ')
                .take(3)
                .collect::<Vec<_>>()
                .join(" "),
            git,
        }
    }
}

/// The floor binary and how it was made.
pub struct FloorBinary {
    pub path: PathBuf,
    pub what: String,
}

/// Build `fn main() {}` statically (rustc, `-C target-feature=+crt-static`) under `dir`; if
/// that fails, fall back to /bin/true (dynamically linked) and say so.
pub fn floor_binary(dir: &Path) -> Result<FloorBinary, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("set-up: {}: {e}", dir.display()))?;
    let src = dir.join("empty.rs");
    let bin = dir.join("empty-static");
    std::fs::write(&src, "fn main() {}\n")
        .map_err(|e| format!("set-up: {}: {e}", src.display()))?;
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let built = Command::new(&rustc)
        .args([
            "--edition",
            "2021",
            "-C",
            "opt-level=3",
            "-C",
            "panic=abort",
        ])
        .args([
            "-C",
            "target-feature=+crt-static",
            "-C",
            "strip=symbols",
            "-o",
        ])
        .arg(&bin)
        .arg(&src)
        .output();
    match built {
        Ok(out) if out.status.success() && is_static(&bin) => Ok(FloorBinary {
            path: bin,
            what: "an empty static binary (`fn main() {}`, rustc `+crt-static`)".into(),
        }),
        _ => Ok(FloorBinary {
            path: PathBuf::from("/bin/true"),
            what: "/bin/true (a static build failed here; dynamically linked)".into(),
        }),
    }
}

/// An ELF without a PT_INTERP program header is statically linked.
fn is_static(bin: &Path) -> bool {
    let Ok(elf) = std::fs::read(bin) else {
        return false;
    };
    let le16 = |o: usize| elf.get(o..o + 2).map(|b| u16::from_le_bytes([b[0], b[1]]));
    let le64 = |o: usize| {
        elf.get(o..o + 8)
            .and_then(|b| b.try_into().ok())
            .map(u64::from_le_bytes)
    };
    if elf.get(..5) != Some(b"\x7fELF\x02") {
        return false;
    }
    let (Some(phoff), Some(phentsize), Some(phnum)) = (le64(0x20), le16(0x36), le16(0x38)) else {
        return false;
    };
    let Ok(phoff) = usize::try_from(phoff) else {
        return false;
    };
    (0..usize::from(phnum)).all(|i| {
        let at = phoff + i * usize::from(phentsize);
        elf.get(at..at + 4) != Some(&3u32.to_le_bytes()[..])
    })
}
