//! The tutorial's pcs command lines as the guest's pcs spells them. The tutorial was written
//! for pcs 0.10/0.11; pcs 0.12 (Debian 13) deprecates two spellings it uses (man pcs,
//! "CHANGES IN PCS-0.12", and the warnings pcs prints): a colocation score given as a bare
//! value, and meta attributes given without the `meta` keyword. The replay on trixie uses the
//! new spellings, and each rule applied is recorded once as a deviation in report.json.

use crate::setup::Release;

/// One pcs 0.12 respelling rule: what it changes and why.
struct Rule {
    name: &'static str,
    why: &'static str,
    apply: fn(&[&str]) -> Option<Vec<String>>,
}

fn owned(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| (*w).to_owned()).collect()
}

fn is_score(w: &str) -> bool {
    matches!(w, "INFINITY" | "+INFINITY" | "-INFINITY") || w.parse::<i64>().is_ok()
}

/// `constraint colocation add A with B SCORE` -> `... score=SCORE`; `constraint location add
/// ID RSC NODE SCORE [options]` -> `... score=SCORE [options]`.
fn constraint_score(w: &[&str]) -> Option<Vec<String>> {
    let at = match w {
        ["constraint", "colocation", "add", ..] if w.len() >= 6 && is_score(w[w.len() - 1]) => {
            w.len() - 1
        }
        ["constraint", "location", "add", _id, _rsc, _node, score, ..] if is_score(score) => 6,
        _ => return None,
    };
    let mut out = owned(w);
    out[at] = format!("score={}", w[at]);
    Some(out)
}

/// `resource clone|promotable ID k=v...` -> `resource clone|promotable ID meta k=v...`.
fn clone_meta(w: &[&str]) -> Option<Vec<String>> {
    match w {
        ["resource", "clone" | "promotable", _id, first, ..] if first.contains('=') => {
            let mut out = owned(&w[..3]);
            out.push("meta".into());
            out.extend(owned(&w[3..]));
            Some(out)
        }
        _ => None,
    }
}

const PCS_012: [Rule; 2] = [
    Rule {
        name: "constraint score as score=VALUE",
        why: "pcs 0.12 deprecates a standalone score in `constraint colocation add` and \
              `constraint location add`",
        apply: constraint_score,
    },
    Rule {
        name: "clone options after the meta keyword",
        why: "pcs 0.12 deprecates meta attributes given without the `meta` keyword in \
              `resource clone` and `resource promotable`",
        apply: clone_meta,
    },
];

/// Spells pcs command lines for a release and remembers what it changed.
pub struct Pcs {
    release: Release,
    pub deviations: Vec<String>,
}

impl Pcs {
    pub fn new(release: Release) -> Pcs {
        Pcs {
            release,
            deviations: Vec::new(),
        }
    }

    /// `line` as this release's pcs takes it. A line with quoted words is left as it is (no
    /// rule needs one).
    pub fn line(&mut self, line: &str) -> String {
        if self.release != Release::Trixie || line.contains(['"', '\'']) {
            return line.to_owned();
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        // "pcs -f FILE rest..." or "pcs rest...": the rules apply to the rest.
        let skip = match words.as_slice() {
            ["pcs", "-f", _, ..] => 3,
            ["pcs", ..] => 1,
            _ => return line.to_owned(),
        };
        for rule in &PCS_012 {
            if let Some(rest) = (rule.apply)(&words[skip..]) {
                let new = format!("{} {}", words[..skip].join(" "), rest.join(" "));
                let dev = format!(
                    "pcs 0.12 ({}), {}: {}; e.g. `{}` replayed as `{new}`",
                    self.release.suite(),
                    rule.name,
                    rule.why,
                    line.trim()
                );
                if !self.deviations.iter().any(|d| d.contains(rule.name)) {
                    self.deviations.push(dev);
                }
                return new;
            }
        }
        line.to_owned()
    }

    pub fn lines(&mut self, lines: &[String]) -> Vec<String> {
        lines.iter().map(|l| self.line(l)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trixie_respells_what_pcs_0_12_deprecates() {
        let mut p = Pcs::new(Release::Trixie);
        assert_eq!(
            p.line("pcs -f base_cfg constraint colocation add WebSite with VirtualIP INFINITY"),
            "pcs -f base_cfg constraint colocation add WebSite with VirtualIP score=INFINITY"
        );
        assert_eq!(
            p.line("pcs constraint colocation add WebFS with Promoted WebData-clone INFINITY"),
            "pcs constraint colocation add WebFS with Promoted WebData-clone score=INFINITY"
        );
        assert_eq!(
            p.line("pcs -f dlm_cfg resource clone dlm clone-max=2 clone-node-max=1"),
            "pcs -f dlm_cfg resource clone dlm meta clone-max=2 clone-node-max=1"
        );
        assert_eq!(
            p.line("pcs -f b resource promotable WebData promoted-max=1 notify=true"),
            "pcs -f b resource promotable WebData meta promoted-max=1 notify=true"
        );
        assert_eq!(
            p.line("pcs -f c constraint location add no-n2 dlm-nofence node2 -INFINITY resource-discovery=never"),
            "pcs -f c constraint location add no-n2 dlm-nofence node2 score=-INFINITY resource-discovery=never"
        );
        // Untouched: no options, already new, or other commands.
        for same in [
            "pcs -f active_cfg resource clone WebFS",
            "pcs constraint colocation add A with B score=INFINITY",
            "pcs constraint order dlm-clone then WebFS",
            "pcs constraint colocation delete WebSite-clone VirtualIP",
            "pcs resource update WebData-clone promoted-max=2",
        ] {
            assert_eq!(p.line(same), same);
        }
        assert_eq!(p.deviations.len(), 2, "{:?}", p.deviations);
    }

    #[test]
    fn bookworm_replays_the_tutorial_as_written() {
        let mut p = Pcs::new(Release::Bookworm);
        let l = "pcs constraint colocation add WebSite with VirtualIP INFINITY";
        assert_eq!(p.line(l), l);
        assert!(p.deviations.is_empty());
    }
}
