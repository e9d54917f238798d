//! dlm_controld has a lost node fenced through its helper `dlm_stonith`, which loads
//! Pacemaker's fencing library (libstonithd) with dlopen() by a file name compiled into it.
//! When no library of that name is installed, every fencing request of DLM fails (dlm_controld
//! logs `kick_helper error -79`, ELIBACC) and DLM never learns that the node was fenced: GFS2
//! stays frozen on the survivors until the lost node returns. Debian 13 ships that pair
//! (dlm-controld 4.3.0 asks for libstonithd.so.26, Pacemaker 3.0.0 installs .so.56).
//! Found here by reading the helper's bytes and the linker's directories: no fork, no dlopen.

use std::path::{Path, PathBuf};

/// The helper's file name (dlm_controld's default fence agent).
pub const HELPER: &str = "dlm_stonith";

const LIBRARY_PREFIX: &[u8] = b"libstonithd.so";

/// The libstonithd file names written in the helper's binary (`libstonithd.so.26`; a bare
/// `libstonithd.so` too), in order, without repeats.
pub fn wanted_libraries(binary: &[u8]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    let mut rest = binary;
    while let Some(at) = find(rest, LIBRARY_PREFIX) {
        let tail = &rest[at + LIBRARY_PREFIX.len()..];
        let version = tail
            .iter()
            .take_while(|b| b.is_ascii_digit() || **b == b'.')
            .count();
        let name = &rest[at..at + LIBRARY_PREFIX.len() + version];
        let name = String::from_utf8_lossy(name)
            .trim_end_matches('.')
            .to_owned();
        if !names.contains(&name) {
            names.push(name);
        }
        rest = &rest[at + LIBRARY_PREFIX.len()..];
    }
    names
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The directories of `/etc/ld.so.conf.d/*.conf` (`conf_files`' contents: one absolute
/// directory a line, `#` comments; `include` lines are not followed), then the trusted
/// directories the dynamic linker always searches.
pub fn library_dirs(conf_files: &[String]) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = conf_files
        .iter()
        .flat_map(|text| text.lines())
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| l.starts_with('/'))
        .map(PathBuf::from)
        .collect();
    for d in ["/lib", "/usr/lib", "/lib64", "/usr/lib64"] {
        dirs.push(PathBuf::from(d));
    }
    dirs
}

/// Whether `name` is a file in one of `dirs` (`exists` asks the file system).
pub fn installed(name: &str, dirs: &[PathBuf], exists: impl Fn(&Path) -> bool) -> bool {
    dirs.iter().any(|d| exists(&d.join(name)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_library_name_is_read_from_the_helpers_bytes() {
        // Around the name in Debian 13's /usr/sbin/dlm_stonith (dlm-controld 4.3.0).
        let bytes = b"\0stonith_api_kick\0\0libstonithd.so.26\0%s: no nodename\0";
        assert_eq!(wanted_libraries(bytes), ["libstonithd.so.26"]);
        let twice = b"libstonithd.so.56\0libstonithd.so.56.0.0\0libstonithd.so\0libstonithd.so.";
        assert_eq!(
            wanted_libraries(twice),
            [
                "libstonithd.so.56",
                "libstonithd.so.56.0.0",
                "libstonithd.so"
            ]
        );
        assert!(wanted_libraries(b"\x7fELF no library here").is_empty());
    }

    #[test]
    fn library_dirs_come_from_ld_so_conf_d_then_the_trusted_ones() {
        let conf = ["# Multiarch support\n/usr/local/lib/x86_64-linux-gnu\n/lib/x86_64-linux-gnu\n/usr/lib/x86_64-linux-gnu\n".to_owned(),
            "include /etc/other.conf\n  /opt/lib # tail comment\n".to_owned()];
        let dirs = library_dirs(&conf);
        assert_eq!(
            dirs,
            [
                "/usr/local/lib/x86_64-linux-gnu",
                "/lib/x86_64-linux-gnu",
                "/usr/lib/x86_64-linux-gnu",
                "/opt/lib",
                "/lib",
                "/usr/lib",
                "/lib64",
                "/usr/lib64"
            ]
            .map(PathBuf::from)
        );
        let present = |p: &Path| p == Path::new("/usr/lib/x86_64-linux-gnu/libstonithd.so.56");
        assert!(installed("libstonithd.so.56", &dirs, present));
        assert!(!installed("libstonithd.so.26", &dirs, present));
    }
}
