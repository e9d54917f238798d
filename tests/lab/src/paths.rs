//! Where the lab keeps its files: everything under target/lab/.

use std::path::PathBuf;

/// The lab's paths, derived from the workspace root.
#[derive(Clone, Debug)]
pub struct Paths {
    /// The workspace root (where Cargo.toml and packaging/ are).
    pub root: PathBuf,
    /// The cargo target directory.
    pub target: PathBuf,
    /// target/lab
    pub lab: PathBuf,
    /// target/lab/cache: root filesystems and images, keyed.
    pub cache: PathBuf,
    /// target/lab/run: the running VMs' overlays, sockets, pid files and consoles.
    pub run: PathBuf,
    /// target/lab/logs: what a failed run leaves for its reader.
    pub logs: PathBuf,
    /// The ssh private key.
    pub key: PathBuf,
}

impl Paths {
    pub fn new() -> Self {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
        let root = root.canonicalize().unwrap_or(root);
        let target =
            std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
        let lab = target.join("lab");
        Paths {
            cache: lab.join("cache"),
            run: lab.join("run"),
            logs: lab.join("logs"),
            key: lab.join("id_ed25519"),
            root,
            target,
            lab,
        }
    }
}
