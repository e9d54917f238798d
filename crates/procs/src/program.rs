//! Programs on disk: whether a path can be executed, and a program name looked up as a shell
//! would (`command -v`), including the sbin directories Pacemaker's PATH may lack.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Directories searched after PATH: daemons live in sbin, which the environment Pacemaker
/// gives an agent may not list.
const FALLBACK_DIRS: [&str; 4] = ["/usr/sbin", "/sbin", "/usr/bin", "/bin"];

/// True when `path` (symlinks followed) is a regular file with an execute bit.
pub fn is_executable(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// `program` as an executable file: a name holding `/` as given, else the first executable
/// of that name on PATH, then in /usr/sbin, /sbin, /usr/bin, /bin.
pub fn find_program(program: &str) -> Option<PathBuf> {
    if program.is_empty() {
        return None;
    }
    if program.contains('/') {
        let p = PathBuf::from(program);
        return is_executable(&p).then_some(p);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .filter(|dir| dir.is_absolute())
        .chain(FALLBACK_DIRS.map(PathBuf::from))
        .map(|dir| dir.join(program))
        .find(|p| is_executable(p))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::scratch;

    #[test]
    fn finds_programs_and_refuses_missing_or_plain_files() {
        assert!(find_program("sh").is_some());
        assert_eq!(find_program("/bin/sh"), Some(PathBuf::from("/bin/sh")));
        assert!(find_program("no-such-daemon-here").is_none());
        assert!(find_program("").is_none());
        let d = scratch("program");
        let plain = d.join("not-exec");
        std::fs::write(&plain, "#!/bin/sh\n").unwrap();
        assert!(!is_executable(&plain));
        assert!(
            find_program(plain.to_str().unwrap()).is_none(),
            "not executable"
        );
        std::fs::set_permissions(&plain, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert!(is_executable(&plain));
        assert!(!is_executable(&d), "a directory is not a program");
        std::fs::remove_dir_all(&d).unwrap();
    }
}
