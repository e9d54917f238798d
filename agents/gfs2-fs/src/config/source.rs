//! What `device` and `fstype` may say, checked by their text before anything uses them: a
//! value that names no device, tag or remote export is refused with exit 6 instead of
//! reaching mount(2), modprobe or fsck.

use super::fstype::{FsType, Source, names_taking};
use mounts::DeviceSpec;
use ocf::{Error, Result};

/// PATH_MAX, with its NUL.
const MAX_PATH: usize = 4095;
/// `/dev/disk/by-label/<label>` is one file name (NAME_MAX); no filesystem allows more.
const MAX_TAG: usize = 255;
/// Kernel filesystem type names are short (`ext4`, `gfs2`, `fuse.sshfs`); 64 is far above
/// any registered one and keeps a pasted paragraph out of mount(2) and modprobe.
const MAX_FSTYPE: usize = 64;

/// A kernel filesystem type name: 1 to 64 of `A-Z a-z 0-9 . _ -`, starting with a letter or
/// digit (`/proc/filesystems` has nothing else; `fuse.sshfs` is the longest form in use).
pub fn check_fstype(fstype: &str) -> Result<()> {
    let bad = |why: &str| Err(Error::bad_param("fstype", fstype, why));
    if fstype.len() > MAX_FSTYPE {
        return bad(&format!(
            "{} characters; filesystem type names have at most {MAX_FSTYPE}",
            fstype.len()
        ));
    }
    if !fstype.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return bad("not a filesystem type (must start with a letter or digit)");
    }
    if !fstype
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    {
        return bad("not a filesystem type (only A-Z a-z 0-9 . _ - are allowed)");
    }
    Ok(())
}

/// `device` by its text alone: an absolute path; `UUID=`/`LABEL=` (or `-U`/`-L`/`--uuid=`/
/// `--label=`); `host:/path`; `//host/share`; a plain name (tmpfs-like types). Anything else,
/// and any control character, is refused naming `device`.
pub fn check_device_form(device: &str, spec: &DeviceSpec) -> Result<()> {
    let bad = |why: String| Err(Error::bad_param("device", device, why));
    if device.chars().any(char::is_control) {
        return bad("control characters".into());
    }
    if device.len() > MAX_PATH {
        return bad(format!("longer than {MAX_PATH} characters"));
    }
    match spec {
        DeviceSpec::Path(_) => Ok(()),
        DeviceSpec::Uuid(u) => {
            if u.is_empty()
                || u.len() > MAX_TAG
                || !u.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
            {
                return bad("a UUID is hexadecimal digits and '-'".into());
            }
            Ok(())
        }
        DeviceSpec::Label(l) => {
            if l.is_empty() || l.len() > MAX_TAG {
                return bad(format!("a label has 1 to {MAX_TAG} characters"));
            }
            Ok(())
        }
        DeviceSpec::Other(s) if host_path(s) || share(s) || plain_name(s) => Ok(()),
        DeviceSpec::Other(_) => bad(format!(
            "not an absolute path, UUID=, LABEL= or a remote source (host:/path for {}, \
             //host/share for {})",
            names_taking(Source::HostPath).join("/"),
            names_taking(Source::Share).join("/")
        )),
    }
}

/// A remote or virtual `device` (already of a valid form) needs an `fstype` that takes it:
/// refused naming `fstype`, the setting, so that the identity stays usable.
pub fn check_device_type(device: &str, spec: &DeviceSpec, fstype: &FsType) -> Result<()> {
    let DeviceSpec::Other(s) = spec else {
        return Ok(());
    };
    let takes = match fstype.source() {
        Source::HostPath => host_path(s),
        Source::Share => share(s),
        Source::Name => plain_name(s),
        Source::Block | Source::Bind => false,
    };
    if takes {
        return Ok(());
    }
    Err(Error::bad_param(
        "fstype",
        fstype.name(),
        format!(
            "does not take device={} (host:/path is for {}, //host/share for {}, a plain \
             name for {})",
            ocf::error::printable(device),
            names_taking(Source::HostPath).join("/"),
            names_taking(Source::Share).join("/"),
            names_taking(Source::Name).join("/")
        ),
    ))
}

/// Host names, addresses (`[v6]`), monitor lists and lustre NIDs: no spaces, quotes,
/// slashes or shell characters.
fn host(h: &str) -> bool {
    !h.is_empty()
        && !h.starts_with('-')
        && h.chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-_:@,[]".contains(c))
}

/// `host:/path`.
fn host_path(s: &str) -> bool {
    s.split_once(":/").is_some_and(|(h, _)| host(h))
}

/// `//host/share[/path]`.
fn share(s: &str) -> bool {
    s.strip_prefix("//")
        .and_then(|rest| rest.split_once('/'))
        .is_some_and(|(h, share)| host(h) && !share.is_empty() && !share.starts_with('/'))
}

/// A source name for a virtual filesystem (`tmpfs`, `none`, `overlay`).
fn plain_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_TAG
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ocf::Status;

    /// `device` for `fstype`, as identity and settings check it in turn.
    fn device(d: &str, fstype: &str) -> Result<()> {
        let spec = DeviceSpec::parse(d);
        check_device_form(d, &spec)?;
        check_device_type(d, &spec, &FsType::new(fstype))
    }

    #[test]
    fn devices_that_name_a_device_tag_or_export_are_accepted() {
        for (d, t) in [
            ("/dev/drbd1", "gfs2"),
            ("/dev/disk/by-label/web data", "ext4"),
            ("UUID=0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0", "gfs2"),
            ("-U 0B1C-2D3E", "vfat"),
            ("--uuid=0b1c2d3e", "xfs"),
            ("LABEL=web/data 1", "ext4"),
            ("-L web", "ext4"),
            ("--label=web", "xfs"),
            ("nfs1.example:/export/www", "nfs4"),
            ("[2001:db8::1]:/export", "nfs"),
            ("mon1,mon2:6789:/www", "ceph"),
            ("//files.example/www", "cifs"),
            ("//10.0.0.5/share/sub", "smb3"),
            ("tmpfs", "tmpfs"),
        ] {
            assert!(device(d, t).is_ok(), "{d} ({t}): {:?}", device(d, t));
        }
    }

    #[test]
    fn devices_that_are_no_path_tag_or_export_are_6_naming_device() {
        let long = "a".repeat(10 * 1024);
        let long_path = format!("/{long}");
        for (d, t) in [
            ("$(touch /tmp/pwned)", "gfs2"),
            ("; rm -rf /", "gfs2"),
            ("`touch /tmp/pwned`", "gfs2"),
            ("../../etc/passwd", "gfs2"),
            ("\\x00%00\\n\\0", "gfs2"),
            ("a\tb", "gfs2"),
            ("/dev/sdb1\n", "ext4"),
            (long.as_str(), "gfs2"),
            (long_path.as_str(), "gfs2"),
            ("UUID=", "gfs2"),
            ("UUID=$(id)", "gfs2"),
            ("LABEL=", "ext4"),
            ("; rm -rf /:/x", "nfs"),
            ("//server", "cifs"),
            ("//ser ver/x", "cifs"),
            ("-o:/x", "nfs"),
        ] {
            let e = device(d, t).unwrap_err();
            assert_eq!(e.status(), Status::ErrConfigured, "{d:?} ({t})");
            assert!(e.reason().contains("invalid parameter device=\""), "{e}");
        }
    }

    /// Remote and virtual sources given a type that does not take them.
    const MISMATCHED: [(&str, &str); 3] = [
        ("nfs1:/export", "gfs2"),
        ("//server/share", "ext4"),
        ("tmpfs", "ext4"),
    ];

    #[test]
    fn remote_forms_only_where_the_type_takes_them_naming_fstype_and_device() {
        for (d, t) in MISMATCHED {
            assert!(check_device_form(d, &DeviceSpec::parse(d)).is_ok(), "{d}");
            let e = device(d, t).unwrap_err();
            assert_eq!(e.status(), Status::ErrConfigured, "{d:?} ({t})");
            assert_eq!(e.param(), Some("fstype"), "{e}");
            assert!(e.reason().contains(&format!("device=\"{d}\"")), "{e}");
        }
    }

    #[test]
    fn fstypes_are_short_kernel_names() {
        for ok in [
            "gfs2",
            "ext4",
            "nfs4",
            "fuse.sshfs",
            "9p",
            "cgroup2",
            "ocfs2",
        ] {
            assert!(check_fstype(ok).is_ok(), "{ok}");
        }
        let long = "a".repeat(10 * 1024);
        for bad in [
            long.as_str(),
            "a\tb\u{1}c\u{7f}",
            "ext4\n",
            "\\x00%00\\n\\0",
            "$(id)",
            "-t",
            ".hidden",
            "ext4,xfs",
            "ext4 xfs",
            "../x",
            "",
        ] {
            let e = check_fstype(bad).unwrap_err();
            assert_eq!(e.status(), Status::ErrConfigured, "{bad:?}");
            assert!(e.reason().contains("invalid parameter fstype=\""), "{e}");
        }
        assert!(
            check_fstype(&"x".repeat(65))
                .unwrap_err()
                .reason()
                .contains("at most 64")
        );
    }
}
