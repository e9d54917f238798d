//! The promotion score: which one a status deserves (LINBIT's ladder), and a small cache of
//! the last one written, so that a monitor that finds nothing changed runs no crm_attribute.

use crate::checks::Ladder;
use drbd_genl::{DiskState, ResourceStatus};
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// What to do with this node's promotion score.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Score {
    Set(i64),
    Remove,
    /// A transitional disk state (attaching, negotiating): leave the score as it is.
    Keep,
}

/// `remove_master_score_if_peer_primary`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerPrimaryPolicy {
    Never,
    Always,
    /// Only for a single-primary clone: with promoted-max=2 a Primary peer is expected.
    Unexpected,
}

fn all_up_to_date(disks: &[DiskState]) -> bool {
    !disks.is_empty() && disks.iter().all(|d| *d == DiskState::UpToDate)
}

/// The score a status deserves (drbd.ocf `drbd_update_master_score`). Zero means remove:
/// no negative score is ever set.
pub fn decide(
    st: &ResourceStatus,
    l: &Ladder,
    policy: PeerPrimaryPolicy,
    promoted_max: u32,
) -> Score {
    let score = |n: i64| if n > 0 { Score::Set(n) } else { Score::Remove };
    if st.volumes.iter().any(|v| !v.has_quorum) {
        return Score::Remove;
    }
    let local: Vec<DiskState> = st.volumes.iter().map(|v| v.disk).collect();
    let peer_disks: Vec<DiskState> = st
        .peers
        .iter()
        .flat_map(|p| p.volumes.iter().map(|v| v.disk))
        .collect();
    let some_peer_all_up_to_date = st
        .peers
        .iter()
        .any(|p| all_up_to_date(&p.volumes.iter().map(|v| v.disk).collect::<Vec<_>>()));
    let pdsk_all_up_to_date = all_up_to_date(&peer_disks);
    let pdsk_any_unknown = peer_disks.is_empty() || peer_disks.contains(&DiskState::DUnknown);

    let remove_for_peer = match policy {
        PeerPrimaryPolicy::Never => false,
        PeerPrimaryPolicy::Always => true,
        PeerPrimaryPolicy::Unexpected => promoted_max <= 1,
    };
    if remove_for_peer && !st.is_primary() && st.any_peer_primary() && some_peer_all_up_to_date {
        return Score::Remove;
    }
    let diskless_client =
        !st.volumes.is_empty() && st.volumes.iter().all(|v| v.intentional_diskless);
    if diskless_client {
        return if (st.is_primary() && some_peer_all_up_to_date) || pdsk_all_up_to_date {
            score(l.as_good_as_it_gets - 1)
        } else if some_peer_all_up_to_date {
            score(l.local_ok - 1)
        } else {
            Score::Remove
        };
    }
    if all_up_to_date(&local) {
        if st.is_primary() || !pdsk_any_unknown {
            return score(l.as_good_as_it_gets);
        }
        return score(l.local_ok);
    }
    if some_peer_all_up_to_date {
        return score(l.only_remote);
    }
    if local.iter().any(|d| {
        matches!(
            d,
            DiskState::Attaching | DiskState::Detaching | DiskState::Negotiating
        )
    }) {
        return Score::Keep;
    }
    if !local.is_empty() && local.iter().all(|d| *d == DiskState::Consistent) {
        return score(l.only_consistent);
    }
    Score::Remove
}

/// A cached score older than this is written again even if unchanged: Pacemaker may have
/// lost transient attributes (attrd restarted, node rejoined) without this agent knowing.
pub const CACHE_MAX_AGE: Duration = Duration::from_secs(300);

/// The last score this agent wrote for each instance: one small file per instance under a
/// root-only directory in /run (tmpfs: gone at reboot, like the attribute's lifetime).
#[derive(Debug, Clone)]
pub struct ScoreCache {
    dir: PathBuf,
}

impl ScoreCache {
    pub fn new(dir: impl Into<PathBuf>) -> ScoreCache {
        ScoreCache { dir: dir.into() }
    }

    fn file(&self, instance: &str) -> PathBuf {
        // Instance names are Pacemaker ids (`WebData:0`): ocf's one file-name rule.
        self.dir
            .join(format!("{}.score", ocf::env::file_name(instance)))
    }

    /// The cached score, if a fresh-enough entry exists. The entry is read as
    /// [`procs::SmallFile`] says: a symlink, a FIFO, a hard link or another user's file at
    /// its name is ignored, never followed or blocked on.
    pub fn get(&self, instance: &str) -> Option<Score> {
        let path = self.file(instance);
        let age = fs::symlink_metadata(&path)
            .ok()?
            .modified()
            .ok()
            .and_then(|m| SystemTime::now().duration_since(m).ok())?;
        if age > CACHE_MAX_AGE {
            return None;
        }
        let content = procs::SmallFile::new(64).read(&path).ok()??;
        match std::str::from_utf8(&content).ok()?.trim() {
            "remove" => Some(Score::Remove),
            t => t.strip_prefix("set ")?.parse().ok().map(Score::Set),
        }
    }

    /// Remember `score` (Set or Remove). Failures only cost a fork on the next monitor.
    pub fn put(&self, instance: &str, score: Score) -> std::io::Result<()> {
        let text = match score {
            Score::Set(n) => format!("set {n}\n"),
            Score::Remove => "remove\n".to_owned(),
            Score::Keep => return Ok(()),
        };
        self.ensure_dir()?;
        let path = self.file(instance);
        let tmp = path.with_extension("tmp");
        let _ = fs::remove_file(&tmp);
        // O_EXCL|O_NOFOLLOW: never write through a link planted at the temporary name.
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(nix::fcntl::OFlag::O_NOFOLLOW.bits())
            .open(&tmp)?;
        f.write_all(text.as_bytes())?;
        drop(f);
        // rename(2) replaces a link at the final name instead of following it.
        fs::rename(&tmp, &path)
    }

    /// Forget the instance (stop).
    pub fn clear(&self, instance: &str) {
        let _ = fs::remove_file(self.file(instance));
    }

    /// Create the directory (0700) or accept it only when it is a real directory, not a
    /// symbolic link, and not writable by others.
    fn ensure_dir(&self) -> std::io::Result<()> {
        match fs::symlink_metadata(&self.dir) {
            Ok(m) if m.is_dir() && m.permissions().mode() & 0o022 == 0 => Ok(()),
            Ok(_) => Err(std::io::Error::other(format!(
                "{} is not a private directory",
                self.dir.display()
            ))),
            Err(_) => fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(&self.dir),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}
