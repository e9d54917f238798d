//! The promotion score: which one a status deserves (LINBIT's ladder), and a small cache of
//! the last one written, so that a monitor that finds nothing changed runs no crm_attribute.

use drbd_genl::{DiskState, ResourceStatus};
use nix::fcntl::OFlag;
use procs::{SmallFile, StateDir};
use std::ffi::OsString;
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The four scores of `adjust_master_score`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ladder {
    pub only_consistent: i64,
    pub only_remote: i64,
    pub local_ok: i64,
    pub as_good_as_it_gets: i64,
}

/// What to do with this node's promotion score.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Score {
    Set(i64),
    Remove,
    /// A transitional disk state (attaching, negotiating): leave the score as it is.
    Keep,
}

impl fmt::Display for Score {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Score::Set(n) => write!(f, "{n}"),
            Score::Remove => f.write_str("removed"),
            Score::Keep => f.write_str("kept"),
        }
    }
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
    if remove_for_peer && !st.all_primary() && st.any_peer_primary() && some_peer_all_up_to_date {
        return Score::Remove;
    }
    let diskless_client =
        !st.volumes.is_empty() && st.volumes.iter().all(|v| v.intentional_diskless);
    if diskless_client {
        return if (st.all_primary() && some_peer_all_up_to_date) || pdsk_all_up_to_date {
            score(l.as_good_as_it_gets - 1)
        } else if some_peer_all_up_to_date {
            score(l.local_ok - 1)
        } else {
            Score::Remove
        };
    }
    if all_up_to_date(&local) {
        if st.all_primary() || !pdsk_any_unknown {
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

/// The last score this agent wrote for each instance: one small file per instance in a
/// directory in /run (tmpfs: gone at reboot, like the attribute's lifetime), holding the
/// score and when it was written (`10000 1764600000`, `remove 1764600000`). The directory and its files go
/// through `procs::StateDir`: every directory on the way owned by root and writable by no one
/// else (one a local user made, or a symlink someone planted, is refused: the cache is then
/// not used and crm_attribute runs), entries created after unlinking whatever was at their
/// name and never written through a link, read only when they are root's regular files.
#[derive(Debug, Clone)]
pub struct ScoreCache {
    dir: PathBuf,
}

/// The largest entry read.
const ENTRY_MAX: u64 = 64;

impl ScoreCache {
    pub fn new(dir: impl Into<PathBuf>) -> ScoreCache {
        ScoreCache { dir: dir.into() }
    }

    /// The entry's name: ocf's one file-name rule for instance names (`WebData:0`).
    fn name(instance: &str) -> OsString {
        OsString::from(format!("{}.score", ocf::env::file_name(instance)))
    }

    /// The cached score, if a fresh-enough entry exists and can be trusted.
    pub fn get(&self, instance: &str) -> Option<Score> {
        let dir = StateDir::open(&self.dir).ok()?;
        let content = dir
            .read_file(&Self::name(instance), SmallFile::new(ENTRY_MAX))
            .ok()??;
        let text = std::str::from_utf8(&content).ok()?;
        let (score, written) = text.trim().split_once(' ')?;
        let score = match score {
            "remove" => Score::Remove,
            n => Score::Set(n.parse().ok()?),
        };
        let written: u64 = written.parse().ok()?;
        let now = SystemTime::now().duration_since(UNIX_EPOCH).ok()?.as_secs();
        (now.checked_sub(written)? <= CACHE_MAX_AGE.as_secs()).then_some(score)
    }

    /// Remember `score` (Set or Remove). Failures only cost a fork on the next monitor.
    pub fn put(&self, instance: &str, score: Score) -> Result<(), procs::Error> {
        let word = match score {
            Score::Set(n) => n.to_string(),
            Score::Remove => "remove".to_owned(),
            Score::Keep => return Ok(()),
        };
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let dir = StateDir::open(&self.dir)?;
        let name = Self::name(instance);
        let mut file = dir.create_file(&name, 0o600, OFlag::empty())?;
        file.write_all(format!("{word} {now}\n").as_bytes())
            .map_err(|source| procs::Error::StateFile {
                path: self.dir.join(&name),
                source,
            })
    }

    /// Forget the instance (stop).
    pub fn clear(&self, instance: &str) {
        if let Ok(dir) = StateDir::open(&self.dir) {
            let _ = dir.remove(&Self::name(instance));
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use drbd_genl::testing::{connected, one_volume};
    use drbd_genl::{Peer, PeerVolume, ReplState, Role};
    use std::fs;
    use std::path::PathBuf;

    fn now() -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs()
    }

    /// The cache's directory made by a local user (where root would not look for one, but a
    /// misconfigured tmpfs or a cache directory under a world-writable one could let them):
    /// the user's entry is not believed and nothing is written there. As root; the user is
    /// `nobody`, through setpriv.
    #[test]
    fn score_cache_in_a_directory_a_local_user_made_is_not_used() {
        if !ocf_testkit::require_root("score_cache_in_a_directory_a_local_user_made_is_not_used") {
            return;
        }
        let dir = scratch("cache-nobody");
        fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o1777)).unwrap();
        let c = dir.join("c");
        let entry = c.join("WebData_0.score");
        let as_nobody = |script: &str| {
            let status = std::process::Command::new("setpriv")
                .args([
                    "--reuid=nobody",
                    "--regid=nogroup",
                    "--clear-groups",
                    "sh",
                    "-c",
                    script,
                ])
                .status()
                .unwrap();
            assert!(status.success(), "{script}");
        };
        as_nobody(&format!(
            "mkdir -m 0755 {0} && echo '10000 {1}' > {2}",
            c.display(),
            now(),
            entry.display()
        ));
        let cache = ScoreCache::new(&c);
        assert_eq!(
            cache.get("WebData:0"),
            None,
            "nobody's entry is not believed"
        );
        let e = cache.put("WebData:0", Score::Remove).unwrap_err();
        assert!(e.to_string().contains("unsafe"), "{e}");
        assert!(
            fs::read_to_string(&entry).unwrap().starts_with("10000 "),
            "nothing written in nobody's directory"
        );
        let _ = fs::remove_dir_all(&dir);
    }

    /// An empty directory of this test's own under the system's temporary directory.
    fn scratch(tag: &str) -> PathBuf {
        ocf_testkit::scratch_dir(&format!("drbd-dp-{tag}"))
    }

    #[test]
    fn score_ladder_every_case() {
        use DiskState::*;
        use Role::*;
        let l = crate::config::parse_ladder("0 10 1000 10000").unwrap();
        let d = |st: &ResourceStatus| decide(st, &l, PeerPrimaryPolicy::Never, 2);
        // Primary with UpToDate data: as good as it gets, connected or not.
        assert_eq!(
            d(&connected(Primary, UpToDate, Primary, UpToDate)),
            Score::Set(10000)
        );
        assert_eq!(d(&one_volume(Primary, UpToDate, None)), Score::Set(10000));
        // Secondary, UpToDate, peer's disk known: 10000; unknown: 1000.
        assert_eq!(
            d(&connected(Secondary, UpToDate, Primary, UpToDate)),
            Score::Set(10000)
        );
        assert_eq!(
            d(&connected(Secondary, UpToDate, Secondary, Inconsistent)),
            Score::Set(10000)
        );
        assert_eq!(d(&one_volume(Secondary, UpToDate, None)), Score::Set(1000));
        // Local data not UpToDate but a peer's is: only remote, 10.
        assert_eq!(
            d(&connected(Secondary, Inconsistent, Primary, UpToDate)),
            Score::Set(10)
        );
        assert_eq!(
            d(&connected(Secondary, Outdated, Secondary, UpToDate)),
            Score::Set(10)
        );
        // Transitional: leave it.
        assert_eq!(d(&one_volume(Secondary, Attaching, None)), Score::Keep);
        assert_eq!(d(&one_volume(Secondary, Negotiating, None)), Score::Keep);
        // Only Consistent: score 0, which means remove; a nonzero ladder sets it.
        assert_eq!(d(&one_volume(Secondary, Consistent, None)), Score::Remove);
        let l5 = crate::config::parse_ladder("5 10 1000 10000").unwrap();
        assert_eq!(
            decide(
                &one_volume(Secondary, Consistent, None),
                &l5,
                PeerPrimaryPolicy::Never,
                2
            ),
            Score::Set(5)
        );
        // No usable data anywhere: remove, never negative.
        assert_eq!(d(&one_volume(Secondary, Inconsistent, None)), Score::Remove);
        assert_eq!(d(&one_volume(Secondary, Outdated, None)), Score::Remove);
        assert_eq!(d(&one_volume(Secondary, Diskless, None)), Score::Remove);
        assert_eq!(
            d(&connected(Secondary, Inconsistent, Secondary, Inconsistent)),
            Score::Remove
        );
        // No quorum (DRBD 9): remove.
        let mut noq = connected(Primary, UpToDate, Primary, UpToDate);
        noq.volumes[0].has_quorum = false;
        assert_eq!(d(&noq), Score::Remove);
        // A healthy Primary peer: removed with true; with unexpected only for promoted-max 1.
        let peer_primary = connected(Secondary, UpToDate, Primary, UpToDate);
        assert_eq!(
            decide(&peer_primary, &l, PeerPrimaryPolicy::Always, 2),
            Score::Remove
        );
        assert_eq!(
            decide(&peer_primary, &l, PeerPrimaryPolicy::Unexpected, 2),
            Score::Set(10000)
        );
        assert_eq!(
            decide(&peer_primary, &l, PeerPrimaryPolicy::Unexpected, 1),
            Score::Remove
        );
        // Diskless client: 9999 with all peer disks UpToDate, 999 with some.
        let mut client = connected(Secondary, Diskless, Secondary, UpToDate);
        client.volumes[0].intentional_diskless = true;
        assert_eq!(d(&client), Score::Set(9999));
        client.peers.push(Peer {
            volumes: vec![PeerVolume {
                volume: 0,
                disk: Outdated,
                repl: ReplState::Off,
            }],
            ..client.peers[0].clone()
        });
        assert_eq!(d(&client), Score::Set(999));
    }

    #[test]
    fn score_cache_ignores_symlinks_and_old_entries() {
        let dir = scratch("cache");
        let cache = ScoreCache::new(dir.join("c"));
        assert_eq!(cache.get("WebData:0"), None);
        cache.put("WebData:0", Score::Set(10000)).unwrap();
        assert_eq!(cache.get("WebData:0"), Some(Score::Set(10000)));
        cache.put("WebData:0", Score::Remove).unwrap();
        assert_eq!(cache.get("WebData:0"), Some(Score::Remove));
        cache.clear("WebData:0");
        assert_eq!(cache.get("WebData:0"), None);
        // Written longer ago than CACHE_MAX_AGE: not believed (written again by the caller).
        let c = dir.join("c");
        fs::write(c.join("old.score"), format!("10000 {}\n", now() - 301)).unwrap();
        assert_eq!(cache.get("old"), None);
        fs::write(c.join("old.score"), format!("10000 {}\n", now() - 299)).unwrap();
        assert_eq!(cache.get("old"), Some(Score::Set(10000)));
        // A symlink planted at the entry's name is neither followed for reading nor written through.
        let target = dir.join("target");
        let planted = format!("5 {}\n", now());
        fs::write(&target, &planted).unwrap();
        let entry = dir.join("c").join("x.score");
        std::os::unix::fs::symlink(&target, &entry).unwrap();
        assert_eq!(cache.get("x"), None);
        cache.put("x", Score::Set(10)).unwrap();
        assert_eq!(fs::read_to_string(&target).unwrap(), planted);
        assert_eq!(cache.get("x"), Some(Score::Set(10)));
        // A FIFO (which would block a plain open) or a hard link planted there is ignored.
        let fifo = dir.join("c").join("f.score");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o644)).unwrap();
        assert_eq!(cache.get("f"), None);
        fs::hard_link(&target, dir.join("c").join("h.score")).unwrap();
        assert_eq!(cache.get("h"), None);
        // The cache directory as a symlink in a directory others can write (who may have
        // planted it) is refused; only root could have made one in a directory only root
        // can write (/var/run -> /run), and that one is followed.
        let open = dir.join("open");
        fs::create_dir(&open).unwrap();
        fs::set_permissions(&open, std::os::unix::fs::PermissionsExt::from_mode(0o1777)).unwrap();
        std::os::unix::fs::symlink(dir.join("c"), open.join("linkdir")).unwrap();
        let linked = ScoreCache::new(open.join("linkdir"));
        assert!(linked.put("y", Score::Remove).is_err());
        assert_eq!(linked.get("x"), None);
    }
}
