//! What `<agent> --version` and the usage text say about the build.
//!
//! The commit comes from `NATIVE_AGENTS_GIT`, read at compile time: the release build
//! (`packaging/build-release.sh`) sets it to `git describe --always --dirty`'s hash, with
//! `-dirty` when tracked files had uncommitted changes. No build script forks git: one would
//! run at every build of every agent, and a source package (a tarball, no `.git`) must be able
//! to pass the stamp in from outside anyway. A build without it says so instead of guessing.

/// The package version (`[workspace.package] version`).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// `0.1.0 (git 0123abcd, clean tree)`, `0.1.0 (git 0123abcd, uncommitted changes)`, or
/// `0.1.0 (commit unknown: ...)`.
pub fn stamp() -> String {
    describe(option_env!("NATIVE_AGENTS_GIT"))
}

fn describe(git: Option<&str>) -> String {
    let git = git.map(str::trim).filter(|g| !g.is_empty());
    match git {
        Some(g) => match g.strip_suffix("-dirty") {
            Some(hash) => format!("{VERSION} (git {hash}, uncommitted changes)"),
            None => format!("{VERSION} (git {g}, clean tree)"),
        },
        None => format!("{VERSION} (commit unknown: built without NATIVE_AGENTS_GIT)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stamp_says_whether_the_tree_was_clean() {
        assert_eq!(
            describe(Some("015a4b1c2d3e")),
            format!("{VERSION} (git 015a4b1c2d3e, clean tree)")
        );
        assert_eq!(
            describe(Some("015a4b1c2d3e-dirty\n")),
            format!("{VERSION} (git 015a4b1c2d3e, uncommitted changes)")
        );
        assert!(describe(None).contains("commit unknown"));
        assert!(describe(Some(" ")).contains("commit unknown"));
    }
}
