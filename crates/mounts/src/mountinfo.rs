//! `/proc/self/mountinfo` (proc(5), "/proc/pid/mountinfo"): the mount table with mount IDs,
//! device numbers and paths, what `findmnt` reads.

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::path::{Path, PathBuf};

/// Why the mount table could not be read.
#[derive(Debug, thiserror::Error)]
pub enum MountInfoError {
    #[error("reading {path}: {}", procs::io_text(source))]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("malformed mountinfo line \"{}\": {why}", line.escape_debug())]
    Malformed { line: String, why: &'static str },
}

/// One line of mountinfo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    /// Mount ID, unique for the life of the mount (what `/proc/<pid>/fdinfo/<fd>` calls mnt_id).
    pub id: u32,
    pub parent: u32,
    /// `st_dev` of files on this mount.
    pub major: u32,
    pub minor: u32,
    /// The directory of the filesystem that forms this mount's root (not `/` for bind mounts).
    pub root: PathBuf,
    pub mount_point: PathBuf,
    /// Per-mount options (`rw,nosuid,noatime`).
    pub options: String,
    pub fstype: String,
    /// The mount source as the kernel shows it (`/dev/loop0`, `server:/export`, `none`).
    pub source: String,
    /// Per-superblock options.
    pub super_options: String,
}

impl Mount {
    /// True when the per-mount options contain `opt` (`ro`, `noatime`, ...).
    pub fn has_option(&self, opt: &str) -> bool {
        self.options.split(',').any(|o| o == opt)
    }

    /// True when the per-superblock options contain `opt` (filesystem data such as `errors=remount-ro`).
    pub fn has_super_option(&self, opt: &str) -> bool {
        self.super_options.split(',').any(|o| o == opt)
    }
}

/// Undo the octal escapes the kernel writes for space, tab, newline and backslash
/// (`\040`, `\011`, `\012`, `\134`) in paths and sources.
pub fn unescape(field: &str) -> OsString {
    let b = field.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && i + 3 < b.len()
            && b[i + 1..=i + 3].iter().all(|c| (b'0'..=b'7').contains(c))
        {
            let v = (u32::from(b[i + 1] - b'0') << 6)
                | (u32::from(b[i + 2] - b'0') << 3)
                | u32::from(b[i + 3] - b'0');
            if let Ok(byte) = u8::try_from(v) {
                out.push(byte);
                i += 4;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    OsString::from_vec(out)
}

/// Parse one mountinfo line.
pub fn parse_line(line: &str) -> Result<Mount, MountInfoError> {
    let bad = |why| MountInfoError::Malformed {
        line: line.to_owned(),
        why,
    };
    let (head, tail) = line
        .split_once(" - ")
        .ok_or_else(|| bad("no ' - ' separator"))?;
    let mut f = head.split(' ');
    let mut next = |what| f.next().filter(|s| !s.is_empty()).ok_or_else(|| bad(what));
    let id = next("no mount ID")?
        .parse()
        .map_err(|_| bad("bad mount ID"))?;
    let parent = next("no parent ID")?
        .parse()
        .map_err(|_| bad("bad parent ID"))?;
    let (major, minor) = next("no major:minor")?
        .split_once(':')
        .and_then(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?)))
        .ok_or_else(|| bad("bad major:minor"))?;
    let root = PathBuf::from(unescape(next("no root")?));
    let mount_point = PathBuf::from(unescape(next("no mount point")?));
    let options = next("no mount options")?.to_owned();
    let mut t = tail.splitn(3, ' ');
    let fstype = t
        .next()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| bad("no fstype"))?;
    let source = t.next().ok_or_else(|| bad("no source"))?;
    let super_options = t.next().unwrap_or("");
    Ok(Mount {
        id,
        parent,
        major,
        minor,
        root,
        mount_point,
        options,
        fstype: unescape(fstype).to_string_lossy().into_owned(),
        source: unescape(source).to_string_lossy().into_owned(),
        super_options: super_options.trim_end().to_owned(),
    })
}

/// The mount table, in the kernel's order (a later mount on the same point hides earlier ones).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MountTable {
    pub mounts: Vec<Mount>,
}

impl MountTable {
    /// This process's mount table (`/proc/self/mountinfo`). Reading it never touches a
    /// mounted filesystem, so it cannot hang on a dead one.
    pub fn read() -> Result<MountTable, MountInfoError> {
        Self::read_from(Path::new("/proc/self/mountinfo"))
    }

    /// A mount table from a mountinfo file.
    pub fn read_from(path: &Path) -> Result<MountTable, MountInfoError> {
        let text = std::fs::read_to_string(path).map_err(|source| MountInfoError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text)
    }

    /// A mount table from mountinfo text.
    pub fn parse(text: &str) -> Result<MountTable, MountInfoError> {
        let mounts = text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(parse_line)
            .collect::<Result<_, _>>()?;
        Ok(MountTable { mounts })
    }

    /// The visible mount on `dir` (the last one mounted there), if any.
    pub fn at(&self, dir: &Path) -> Option<&Mount> {
        self.mounts.iter().rev().find(|m| m.mount_point == dir)
    }

    /// The mount with this ID.
    pub fn by_id(&self, id: u32) -> Option<&Mount> {
        self.mounts.iter().find(|m| m.id == id)
    }

    /// Mounts of the filesystem with device number `major:minor`.
    pub fn by_device(&self, major: u32, minor: u32) -> impl Iterator<Item = &Mount> {
        self.mounts
            .iter()
            .filter(move |m| m.major == major && m.minor == minor)
    }

    /// Mounts strictly below `dir`, deepest first (the order to unmount them in).
    pub fn below(&self, dir: &Path) -> Vec<&Mount> {
        let mut v: Vec<&Mount> = self
            .mounts
            .iter()
            .filter(|m| m.mount_point != dir && m.mount_point.starts_with(dir))
            .collect();
        v.sort_by_key(|m| std::cmp::Reverse(m.mount_point.components().count()));
        v
    }

    /// The mount an absolute path lies on, by its text alone (longest mount point that is a
    /// prefix of it, the latest one on ties): no stat(), so it cannot block.
    pub fn owning(&self, path: &Path) -> Option<&Mount> {
        self.mounts
            .iter()
            .enumerate()
            .filter(|(_, m)| path.starts_with(&m.mount_point))
            .max_by_key(|(i, m)| (m.mount_point.components().count(), *i))
            .map(|(_, m)| m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\
22 27 0:21 / /proc rw,relatime - proc proc rw
27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard
42 27 7:0 / /srv/my\\040web\\011dir rw,noatime - ext4 /dev/loop0 rw,errors=remount-ro
43 42 7:1 / /srv/my\\040web\\011dir/sub rw - xfs /dev/loop1 rw,attr2
44 27 7:0 /data /mnt/bind rw shared:5 master:2 - ext4 /dev/loop0 rw
45 42 0:50 / /srv/my\\040web\\011dir/sub/deeper rw - tmpfs back\\134slash rw
46 27 7:2 / /srv/my\\040web\\011dir rw - xfs /dev/loop2 rw
";

    #[test]
    fn parses_fields_and_optional_tags() {
        let t = MountTable::parse(SAMPLE).unwrap();
        assert_eq!(t.mounts.len(), 7);
        let m = &t.mounts[2];
        assert_eq!((m.id, m.parent, m.major, m.minor), (42, 27, 7, 0));
        assert_eq!(m.fstype, "ext4");
        assert_eq!(m.source, "/dev/loop0");
        assert!(m.has_option("noatime") && !m.has_option("ro"));
        assert!(m.has_super_option("errors=remount-ro"));
        let bind = &t.mounts[4];
        assert_eq!(bind.root, Path::new("/data"));
        assert_eq!(bind.mount_point, Path::new("/mnt/bind"));
        assert_eq!(
            bind.fstype, "ext4",
            "optional fields before ' - ' are skipped"
        );
    }

    #[test]
    fn unescapes_octal() {
        let t = MountTable::parse(SAMPLE).unwrap();
        assert_eq!(t.mounts[2].mount_point, Path::new("/srv/my web\tdir"));
        assert_eq!(t.mounts[5].source, "back\\slash");
        assert_eq!(unescape("a\\012b"), OsString::from("a\nb"));
        // Not an escape: left alone.
        assert_eq!(unescape("a\\9xy\\"), OsString::from("a\\9xy\\"));
        assert_eq!(unescape("\\04"), OsString::from("\\04"));
        // Non-UTF-8 bytes survive.
        assert_eq!(unescape("\\377").into_vec(), vec![0xff]);
    }

    #[test]
    fn lookups() {
        let t = MountTable::parse(SAMPLE).unwrap();
        let dir = Path::new("/srv/my web\tdir");
        assert_eq!(
            t.at(dir).unwrap().id,
            46,
            "the later mount hides the earlier"
        );
        assert!(t.at(Path::new("/srv")).is_none());
        let below: Vec<u32> = t.below(dir).iter().map(|m| m.id).collect();
        assert_eq!(below, [45, 43], "deepest first");
        assert_eq!(t.by_device(7, 0).count(), 2);
        assert_eq!(t.owning(&dir.join("sub/f")).unwrap().id, 43);
        assert_eq!(t.owning(&dir.join("subway")).unwrap().id, 46);
        assert_eq!(t.owning(Path::new("/etc/passwd")).unwrap().id, 27);
        assert_eq!(t.by_id(44).unwrap().mount_point, Path::new("/mnt/bind"));
    }

    #[test]
    fn rejects_garbage() {
        for bad in [
            "",
            "x",
            "1 2 3:4 / /a rw",
            "a 2 3:4 / /a rw - ext4 /dev/x rw",
            "1 2 34 / /a rw - ext4 /dev/x rw",
            "1 2 3:4 / /a rw - ",
        ] {
            if bad.is_empty() {
                continue;
            }
            assert!(parse_line(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn reads_our_own_table() {
        let t = MountTable::read().unwrap();
        assert!(t.owning(Path::new("/")).is_some());
    }
}
