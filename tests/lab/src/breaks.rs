//! Test-only breaks (`--break NAME`, hidden from --help): each makes the subject of one check
//! wrong on purpose, so that a run shows that check going red (issue 19: a check that cannot
//! fail is a defect). A run with any break never passes: report.json lists the breaks and
//! `passed` is false whatever the checks say. `.ci/run` never passes `--break`.

/// One deliberate fault and the check it must turn red.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Break {
    /// Our package is taken as lacking gfs2-fs: native `up` must fail (no shell fallback).
    NoGfs2Agent,
    /// Check 3: the order `VirtualIP then WebSite-clone` the tutorial keeps is deleted before
    /// the move, so Apache is not restarted where the tutorial's configuration restarts it.
    KeepApache,
    /// Check 6: an earlier WebSite monitor failure is left on record and the SIGKILL hits
    /// nothing.
    StaleHttpdFailure,
    /// Check 7: dlm and WebFS stopped on a node (in order), the order `dlm-clone then WebFS`
    /// and the colocation of WebFS with dlm deleted, dlm kept off the node: WebFS starts there
    /// without dlm; then the constraints are restored.
    UnorderedDlm,
    /// Check 8: GFS2 remounted read-only on the node after the refused stop.
    Gfs2Readonly,
    /// Check 11B: the SIGKILL of dlm_controld under GFS2 hits nothing.
    DlmKillNothing,
    /// Check 13: the refused promote runs twice into one capture (as a retrying agent would).
    PromoteTwice,
    /// Check 15: the DRBD monitors timed on a resource that is down (exit 7 from both), the
    /// DLM monitor timed against itself (ratio 1).
    BenchWrongState,
}

impl Break {
    pub const ALL: [Break; 8] = [
        Break::NoGfs2Agent,
        Break::KeepApache,
        Break::StaleHttpdFailure,
        Break::UnorderedDlm,
        Break::Gfs2Readonly,
        Break::DlmKillNothing,
        Break::PromoteTwice,
        Break::BenchWrongState,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Break::NoGfs2Agent => "no-gfs2-agent",
            Break::KeepApache => "keep-apache",
            Break::StaleHttpdFailure => "stale-httpd-failure",
            Break::UnorderedDlm => "unordered-dlm",
            Break::Gfs2Readonly => "gfs2-readonly",
            Break::DlmKillNothing => "dlm-kill-nothing",
            Break::PromoteTwice => "promote-twice",
            Break::BenchWrongState => "bench-wrong-state",
        }
    }

    pub fn parse(s: &str) -> Option<Break> {
        Break::ALL.into_iter().find(|b| b.name() == s)
    }
}

#[cfg(test)]
mod tests {
    use super::Break;
    use clap::ValueEnum;

    #[test]
    fn names_are_clap_names() {
        for b in Break::ALL {
            let pv = b.to_possible_value().unwrap();
            assert_eq!(pv.get_name(), b.name());
            assert_eq!(Break::parse(b.name()), Some(b));
        }
    }
}
