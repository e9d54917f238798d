//! A mount(8)-style option string split into mount(2) flags and filesystem data, as
//! util-linux's libmount does: `ro,noatime,errors=remount-ro` becomes
//! `MS_RDONLY|MS_NOATIME` and the data string `errors=remount-ro`.

use nix::mount::MsFlags;

/// What mount(2) gets for an option string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountOptions {
    /// Flags for the mount itself.
    pub flags: MsFlags,
    /// Propagation flags (`MS_SHARED`, `MS_PRIVATE`, ...), which need a second mount(2) call.
    pub propagation: MsFlags,
    /// Everything the VFS does not know, for the filesystem (`errors=remount-ro`, `acl`).
    pub data: String,
    /// Options that only mean something to mount(8) or fstab (`_netdev`, `nofail`, `x-*`).
    pub userspace: Vec<String>,
}

/// What one VFS option does.
enum Effect {
    Set(MsFlags),
    Clear(MsFlags),
    Propagate(MsFlags),
    Nothing,
}

/// The options that set one flag, by the name mount(8) gives them (and shows them by).
const SETTING: &[(&str, MsFlags)] = &[
    ("ro", MsFlags::MS_RDONLY),
    ("nosuid", MsFlags::MS_NOSUID),
    ("nodev", MsFlags::MS_NODEV),
    ("noexec", MsFlags::MS_NOEXEC),
    ("sync", MsFlags::MS_SYNCHRONOUS),
    ("dirsync", MsFlags::MS_DIRSYNC),
    ("mand", MsFlags::MS_MANDLOCK),
    ("noatime", MsFlags::MS_NOATIME),
    ("nodiratime", MsFlags::MS_NODIRATIME),
    ("relatime", MsFlags::MS_RELATIME),
    ("strictatime", MsFlags::MS_STRICTATIME),
    ("lazytime", MsFlags::MS_LAZYTIME),
    ("silent", MsFlags::MS_SILENT),
    ("remount", MsFlags::MS_REMOUNT),
    ("bind", MsFlags::MS_BIND),
    ("move", MsFlags::MS_MOVE),
];

/// Flags no option sets alone, by the words that name them in a message.
const NAMED_ONLY: &[(&str, MsFlags)] = &[
    ("rec", MsFlags::MS_REC),
    ("shared", MsFlags::MS_SHARED),
    ("private", MsFlags::MS_PRIVATE),
    ("slave", MsFlags::MS_SLAVE),
    ("unbindable", MsFlags::MS_UNBINDABLE),
];

/// `flags` (and `data`) as a mount(8) option string, for messages: `ro,noatime,acl`, or
/// `defaults` for none.
pub fn describe(flags: MsFlags, data: &str) -> String {
    let mut words: Vec<&str> = SETTING
        .iter()
        .chain(NAMED_ONLY)
        .filter(|(_, f)| flags.contains(*f))
        .map(|(name, _)| *name)
        .collect();
    if !data.is_empty() {
        words.push(data);
    }
    if words.is_empty() {
        "defaults".to_owned()
    } else {
        words.join(",")
    }
}

fn vfs_option(name: &str) -> Option<Effect> {
    use Effect::{Clear, Nothing, Propagate, Set};
    if let Some((_, flag)) = SETTING.iter().find(|(n, _)| *n == name) {
        return Some(Set(*flag));
    }
    Some(match name {
        "rw" => Clear(MsFlags::MS_RDONLY),
        "suid" => Clear(MsFlags::MS_NOSUID),
        "dev" => Clear(MsFlags::MS_NODEV),
        "exec" => Clear(MsFlags::MS_NOEXEC),
        "async" => Clear(MsFlags::MS_SYNCHRONOUS),
        "nomand" => Clear(MsFlags::MS_MANDLOCK),
        "atime" => Clear(MsFlags::MS_NOATIME),
        "diratime" => Clear(MsFlags::MS_NODIRATIME),
        "norelatime" => Clear(MsFlags::MS_RELATIME),
        "nostrictatime" => Clear(MsFlags::MS_STRICTATIME),
        "nolazytime" => Clear(MsFlags::MS_LAZYTIME),
        "loud" => Clear(MsFlags::MS_SILENT),
        "rbind" => Set(MsFlags::MS_BIND | MsFlags::MS_REC),
        "shared" => Propagate(MsFlags::MS_SHARED),
        "rshared" => Propagate(MsFlags::MS_SHARED | MsFlags::MS_REC),
        "private" => Propagate(MsFlags::MS_PRIVATE),
        "rprivate" => Propagate(MsFlags::MS_PRIVATE | MsFlags::MS_REC),
        "slave" => Propagate(MsFlags::MS_SLAVE),
        "rslave" => Propagate(MsFlags::MS_SLAVE | MsFlags::MS_REC),
        "unbindable" => Propagate(MsFlags::MS_UNBINDABLE),
        "runbindable" => Propagate(MsFlags::MS_UNBINDABLE | MsFlags::MS_REC),
        "defaults" => Nothing,
        _ => return None,
    })
}

fn userspace_only(name: &str) -> bool {
    matches!(
        name,
        "auto" | "noauto" | "user" | "nouser" | "users" | "owner" | "group" | "_netdev" | "nofail"
    ) || name.starts_with("x-")
        || name.starts_with("comment=")
}

/// Split `s` on commas that are not inside double quotes (SELinux `context="a,b"`).
fn split_commas(s: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut quoted) = (0, false);
    for (i, c) in s.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    parts
        .into_iter()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect()
}

impl MountOptions {
    /// Parse a comma-separated option string, later options overriding earlier ones.
    pub fn parse(s: &str) -> MountOptions {
        let mut o = MountOptions {
            flags: MsFlags::empty(),
            propagation: MsFlags::empty(),
            data: String::new(),
            userspace: Vec::new(),
        };
        let mut data = Vec::new();
        for opt in split_commas(s) {
            match vfs_option(opt) {
                Some(Effect::Set(f)) => {
                    // The atime modes exclude each other, as in libmount.
                    if f.intersects(
                        MsFlags::MS_NOATIME | MsFlags::MS_RELATIME | MsFlags::MS_STRICTATIME,
                    ) {
                        o.flags.remove(
                            MsFlags::MS_NOATIME | MsFlags::MS_RELATIME | MsFlags::MS_STRICTATIME,
                        );
                    }
                    o.flags.insert(f);
                }
                Some(Effect::Clear(f)) => o.flags.remove(f),
                Some(Effect::Propagate(f)) => o.propagation.insert(f),
                Some(Effect::Nothing) => {}
                None if userspace_only(opt) => o.userspace.push(opt.to_owned()),
                None => data.push(opt),
            }
        }
        o.data = data.join(",");
        o
    }

    /// True when the options make a read-only mount.
    pub fn read_only(&self) -> bool {
        self.flags.contains(MsFlags::MS_RDONLY)
    }

    /// True for a bind mount (`bind` or `rbind`).
    pub fn is_bind(&self) -> bool {
        self.flags.contains(MsFlags::MS_BIND)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vfs_flags_and_data_are_separated() {
        let o = MountOptions::parse("ro,noatime,nodev,nosuid,noexec,errors=remount-ro,acl");
        assert_eq!(
            o.flags,
            MsFlags::MS_RDONLY
                | MsFlags::MS_NOATIME
                | MsFlags::MS_NODEV
                | MsFlags::MS_NOSUID
                | MsFlags::MS_NOEXEC
        );
        assert_eq!(o.data, "errors=remount-ro,acl");
        assert!(o.read_only());
    }

    #[test]
    fn later_options_override() {
        let o = MountOptions::parse("ro,rw,noexec,exec,sync,async,dirsync");
        assert_eq!(o.flags, MsFlags::MS_DIRSYNC);
        let o = MountOptions::parse("noatime,relatime");
        assert_eq!(o.flags, MsFlags::MS_RELATIME);
        let o = MountOptions::parse("relatime,strictatime,lazytime");
        assert_eq!(o.flags, MsFlags::MS_STRICTATIME | MsFlags::MS_LAZYTIME);
        assert_eq!(MountOptions::parse("sync").flags, MsFlags::MS_SYNCHRONOUS);
    }

    #[test]
    fn bind_remount_propagation() {
        let o = MountOptions::parse("remount,bind,rshared");
        assert_eq!(o.flags, MsFlags::MS_REMOUNT | MsFlags::MS_BIND);
        assert_eq!(o.propagation, MsFlags::MS_SHARED | MsFlags::MS_REC);
        assert!(o.is_bind());
        assert_eq!(
            MountOptions::parse("rbind").flags,
            MsFlags::MS_BIND | MsFlags::MS_REC
        );
    }

    #[test]
    fn userspace_options_are_dropped_and_quotes_kept() {
        let o = MountOptions::parse(
            " defaults, _netdev,nofail,x-systemd.requires=a,context=\"system_u:object_r:a,b\",,quota ",
        );
        assert!(o.flags.is_empty());
        assert_eq!(o.data, "context=\"system_u:object_r:a,b\",quota");
        assert_eq!(o.userspace, ["_netdev", "nofail", "x-systemd.requires=a"]);
        assert_eq!(MountOptions::parse("").data, "");
    }

    #[test]
    fn flags_read_back_as_mount_options() {
        let o = MountOptions::parse("ro,noatime,nodev,errors=remount-ro,rbind");
        assert_eq!(
            describe(o.flags, &o.data),
            "ro,nodev,noatime,bind,rec,errors=remount-ro"
        );
        assert_eq!(describe(MsFlags::empty(), ""), "defaults");
        assert_eq!(
            describe(MsFlags::MS_SHARED | MsFlags::MS_REC, ""),
            "rec,shared"
        );
    }
}
