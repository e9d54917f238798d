//! The lab checks of issue 8 on our drbd-dualprimary, and the monitor speed of both issues'
//! agents: demote/promote cycles through Pacemaker, a promotion refused for Inconsistent data
//! (on `labtest`, a second small DRBD resource on a loop device that Pacemaker never
//! manages), ocf-tester on `labtest`, real DRBD 8.4 netlink bytes captured from the lab kernel
//! (crate drbd-genl's DRBD_GENL_CAPTURE), and the monitors timed side by side with the shell
//! agents'.

use crate::breaks::Break;
use crate::crm;
use crate::native::{AGENT_DIR, drbd_env, env_words, run_agent};
use crate::scenario::Run;
use crate::step::{Error, Result, say};
use crate::sys::{mins, secs};
use crate::vm::{self, NODES};
use std::fmt::Write;
use std::fs;
use std::thread::sleep;
use std::time::Instant;

const AGENT: &str = "drbd-dualprimary";
/// labtest's backing loop device (guest/drbd/labtest.res).
const LOOP: &str = "/dev/loop7";
const CAPTURES: &str = "/run/lab-captures";

pub fn role(r: &Run, node: &str) -> Result<String> {
    Ok(r.sh(
        node,
        "grep -o ' 1: cs:[A-Za-z]* ro:[A-Za-z/]* ds:[A-Za-z/]*' /proc/drbd; true",
    )?
    .trim()
    .to_owned())
}

/// `role` once DRBD's connection is up, waiting 30 s at most: under emulation a late PingAck
/// (DRBD's 0.5 s ping-timeout) drops the connection for a few seconds now and then, and the
/// peers reconnect by themselves (seen 2026-12-02: WFConnection for 1 s, 27 s after a
/// reconnect). A connection still down after 30 s is what it is.
pub fn connected_role(r: &Run, node: &str) -> Result<String> {
    let t = Instant::now();
    loop {
        let role = role(r, node)?;
        if role.contains("cs:Connected") || t.elapsed() > secs(30) {
            return Ok(role);
        }
        sleep(secs(2));
    }
}

/// Bans WebData's Promoted role from `node` (`crm_resource --ban --promoted`) and waits until
/// it is Unpromoted there with WebFS stopped there, the peer still Promoted. Returns the
/// seconds it took.
pub fn demote_by_ban(r: &Run, node: &str) -> Result<f64> {
    let peer = vm::other(node);
    let t = Instant::now();
    r.sh(
        "node1",
        &format!(
            "crm_resource --ban --promoted --resource WebData-clone --node {node} >/dev/null 2>&1"
        ),
    )?;
    crm::wait(
        r.paths,
        "node1",
        "WebData demoted on the node",
        mins(3),
        |s| {
            s.is("WebData", "Promoted", &[peer])
                && s.nodes("WebData", "Unpromoted") == [node]
                && !s.nodes("WebFS", "Started").contains(&node.to_owned())
        },
    )?;
    Ok(t.elapsed().as_secs_f64())
}

/// Clears the ban of [`demote_by_ban`] and waits for active-active. Returns the seconds.
pub fn promote_by_clear(r: &Run) -> Result<f64> {
    let t = Instant::now();
    r.sh(
        "node1",
        "crm_resource --clear --resource WebData-clone >/dev/null 2>&1; true",
    )?;
    crm::wait(r.paths, "node1", "active-active again", mins(3), |s| {
        s.active_active(&NODES)
    })?;
    Ok(t.elapsed().as_secs_f64())
}

/// 12: one demote/promote cycle per node, driven through Pacemaker (`crm_resource --ban
/// --promoted`, then `--clear`): the node goes Secondary with WebFS and WebSite stopped there
/// while the other node keeps serving, then Primary again with everything back.
pub fn cycles(r: &mut Run) -> Result<String> {
    let mut seen = String::new();
    for node in ["node2", "node1"] {
        let peer = vm::other(node);
        let demoted = demote_by_ban(r, node)?;
        let during = connected_role(r, node)?;
        let serving = r
            .sh(peer, "curl -sf --max-time 5 http://localhost/index.html >/dev/null && echo yes || echo no")?
            .trim()
            == "yes";
        let promoted = promote_by_clear(r)?;
        let after = connected_role(r, node)?;
        let _ = write!(
            seen,
            "{node}: demoted in {demoted:.1} s ({during}), {peer} serving meanwhile: {serving}; promoted and \
             active-active again in {promoted:.1} s ({after}); "
        );
        r.figures
            .push((format!("drbd_demote_{node}_seconds"), demoted));
        r.figures
            .push((format!("drbd_promote_{node}_seconds"), promoted));
        if !during.contains("ro:Secondary/Primary")
            || !serving
            || !after.contains("ro:Primary/Primary")
        {
            return Err(Error(seen));
        }
    }
    Ok(seen)
}

fn labtest_env() -> Vec<(&'static str, &'static str)> {
    drbd_env("labtest-refused", "labtest")
}

/// 13: on node1, labtest with fresh metadata (Inconsistent, no peer): our promote fails with
/// the kernel's reason after at least 15 s, having sent exactly one PRIMARY request (the
/// refusal is not transient, so no retry; never a tight loop); the
/// netlink bytes of that refusal, of a successful PRIMARY and SECONDARY and of WebData's
/// status dump are kept under target/lab/captures/.
pub fn refused(r: &mut Run) -> Result<String> {
    let node = "node1";
    r.sh(
        node,
        &format!(
            "drbdadm down labtest 2>/dev/null; losetup -d {LOOP} 2>/dev/null; rm -rf {CAPTURES}; mkdir -p {CAPTURES}; \
             truncate -s 40M /var/tmp/labtest.img && losetup {LOOP} /var/tmp/labtest.img && \
             drbdadm -- --force create-md labtest >/dev/null 2>&1 && drbdadm up labtest"
        ),
    )?;
    let before = r.sh(
        node,
        "grep -o ' 2: cs:[A-Za-z]* ro:[A-Za-z/]* ds:[A-Za-z/]*' /proc/drbd",
    )?;
    let mut env = labtest_env();
    let cap = |name: &str| format!("{CAPTURES}/{name}.hex");
    let refuse_cap = cap("refused-primary");
    env.push(("DRBD_GENL_CAPTURE", &refuse_cap));
    let run = run_agent(r.paths, node, AGENT, "promote", &env, mins(2))?;
    if r.setup.broken(Break::PromoteTwice) {
        run_agent(r.paths, node, AGENT, "promote", &env, mins(2))?;
        say("break promote-twice: the refused promote ran twice into one capture");
    }
    let sent = r.sh(node, &format!("cat {refuse_cap}"))?;
    let primaries = sent
        .lines()
        .filter(|l| l.starts_with("send ") && l.get(37..39) == Some("0e"))
        .count();
    let after = r.sh(
        node,
        "grep -o ' 2: cs:[A-Za-z]* ro:[A-Za-z/]* ds:[A-Za-z/]*' /proc/drbd",
    )?;
    // Now captures of the successful role changes and of WebData's status.
    let (p, d, m) = (cap("primary"), cap("secondary"), cap("status-wwwdata"));
    let mut ok_env = drbd_env("labtest-capture", "labtest");
    ok_env.push(("DRBD_GENL_CAPTURE", &p));
    r.sh(
        node,
        "drbdadm primary --force labtest && drbdadm secondary labtest",
    )?;
    let promote = run_agent(r.paths, node, AGENT, "promote", &ok_env, mins(2))?;
    ok_env.pop();
    ok_env.push(("DRBD_GENL_CAPTURE", &d));
    let demote = run_agent(r.paths, node, AGENT, "demote", &ok_env, mins(2))?;
    let mut web_env = drbd_env("WebData-capture", "wwwdata");
    web_env.push(("OCF_RESKEY_CRM_meta_interval", "29000"));
    web_env.push(("DRBD_GENL_CAPTURE", &m));
    let monitor = run_agent(r.paths, node, AGENT, "monitor", &web_env, mins(1))?;
    r.sh(
        node,
        "for i in labtest-refused labtest-capture WebData-capture; do \
         crm_attribute --node node1 --name master-$i --lifetime reboot --delete >/dev/null 2>&1; done; true",
    )?;
    let dir = r.paths.lab.join("captures");
    fs::create_dir_all(&dir)?;
    for name in ["refused-primary", "primary", "secondary", "status-wwwdata"] {
        let text = r.sh(node, &format!("cat {}", cap(name)))?;
        fs::write(dir.join(format!("{name}.hex")), text)?;
    }
    let reason = run.reason();
    let seen = format!(
        "labtest on {node} before:{} ; promote by hand: {} ; PRIMARY requests sent: {primaries}; after:{} ; \
         captures (promote {}, demote {}, WebData monitor exit {}) in {}",
        before.trim_end(),
        run.describe(),
        after.trim_end(),
        promote.rc,
        demote.rc,
        monitor.rc,
        dir.display()
    );
    let mut wrong = Vec::new();
    if run.rc != 1 || !reason.contains("need access to UpToDate data") {
        wrong.push("the promote did not fail with exit 1 and the kernel's reason".to_owned());
    }
    if !(15_000..60_000).contains(&run.ms) {
        wrong.push(format!(
            "it answered after {} ms, not within 15-60 s",
            run.ms
        ));
    }
    if primaries != 1 {
        wrong.push(format!("{primaries} PRIMARY requests, not exactly one"));
    }
    if !after.contains("ro:Secondary") {
        wrong.push("labtest is not Secondary afterwards".to_owned());
    }
    if (promote.rc, demote.rc, monitor.rc) != (0, 0, 8) {
        wrong.push("a capture run did not give promote 0, demote 0, monitor 8".to_owned());
    }
    if wrong.is_empty() {
        Ok(seen)
    } else {
        Err(Error(format!("{seen}; WRONG: {}", wrong.join(", "))))
    }
}

/// 14: agents/drbd-dualprimary/tests/ocf-tester.sh on labtest (node1; UpToDate since check
/// 13's forced primary), then labtest and its loop device removed.
pub fn ocf_tester(r: &mut Run) -> Result<String> {
    let node = "node1";
    let out = vm::ssh(
        r.paths,
        node,
        &format!(
            "drbdadm down labtest; DRBD_RESOURCE=labtest sh /usr/local/share/lab/drbd-ocf-tester.sh {AGENT_DIR}/{AGENT} 2>&1; \
             rc=$?; drbdadm down labtest; losetup -d {LOOP}; rm -f /var/tmp/labtest.img; exit $rc"
        ),
        mins(5),
    )?;
    let tail: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| l.starts_with('*') || l.contains("tests"))
        .collect();
    let tail = tail[tail.len().saturating_sub(4)..].join(" | ");
    let seen = format!(
        "on {node}, labtest: ocf-tester.sh exit {}: {tail}",
        out.code
    );
    if out.code == 0 {
        Ok(seen)
    } else {
        Err(Error(seen))
    }
}

/// lab-bench's last line: "median a A b B ratio R codes CA CB".
#[derive(Debug, PartialEq)]
struct Bench {
    ours: f64,
    theirs: f64,
    ratio: f64,
    /// Each side's exit codes, sorted and comma-separated ("8", "0,7").
    codes: (String, String),
}

fn bench_line(out: &str) -> Option<Bench> {
    let last = out.lines().rev().find(|l| l.starts_with("median "))?;
    let w: Vec<&str> = last.split_whitespace().collect();
    Some(Bench {
        ours: w.get(2)?.parse().ok()?,
        theirs: w.get(4)?.parse().ok()?,
        ratio: w.get(6)?.parse().ok()?,
        codes: ((*w.get(8)?).to_owned(), (*w.get(9)?).to_owned()),
    })
}

impl Bench {
    /// What is wrong with this measurement: both sides must give `code` on every run and
    /// ours must be at least `at_least` times faster.
    fn verdict(&self, code: &str, at_least: f64) -> Vec<String> {
        let mut wrong = Vec::new();
        if self.codes.0 != code || self.codes.1 != code {
            wrong.push(format!(
                "exit codes {} / {}, expected {code} from both on every run",
                self.codes.0, self.codes.1
            ));
        }
        if self.ratio < at_least {
            wrong.push(format!("ratio {:.1}x below {at_least}x", self.ratio));
        }
        wrong
    }
}

const RUNS: u32 = 15;
/// Issue 8's promise for the DRBD monitor.
const DRBD_RATIO: f64 = 10.0;
/// The DLM monitor's floor: measured 2.8-3.6x on a loaded 2-core machine (README); 2x is a
/// line a loaded machine does not cross while a regression that makes ours as slow as the
/// shell agent's does.
const DLM_RATIO: f64 = 2.0;

/// One side-by-side timing on `node`: `lab-bench` of `ours` against `theirs` with `env`; the
/// figures go to the report under `{key}_*`. Returns what was seen and what is wrong.
fn bench(
    r: &mut Run,
    node: &str,
    key: &str,
    env: &[(&str, &str)],
    (ours, theirs): (&str, &str),
    (code, at_least): (&str, f64),
    after: &str,
) -> Result<(String, Vec<String>)> {
    let out = r.sh(
        node,
        &format!(
            "env OCF_ROOT=/usr/lib/ocf{} lab-bench {RUNS} {ours} {theirs}; rc=$?; {after} exit $rc",
            env_words(env)
        ),
    )?;
    let b = bench_line(&out).ok_or_else(|| Error(format!("lab-bench said {out}")))?;
    r.figures
        .push((format!("{key}_monitor_native_median_ms"), b.ours * 1000.0));
    r.figures
        .push((format!("{key}_monitor_anchor_median_ms"), b.theirs * 1000.0));
    r.figures
        .push((format!("{key}_monitor_speedup_ratio"), b.ratio));
    let seen = format!(
        "{key} monitor on {node}, {RUNS} alternating runs each: {ours} median {:.1} ms (exit {}), \
         {theirs} median {:.1} ms (exit {}), ratio {:.1}x (at least {at_least}x); ",
        b.ours * 1000.0,
        b.codes.0,
        b.theirs * 1000.0,
        b.codes.1,
        b.ratio
    );
    let wrong = b
        .verdict(code, at_least)
        .into_iter()
        .map(|w| format!("{key}: {w}"))
        .collect();
    Ok((seen, wrong))
}

/// 15: monitor of our agent and of the shell agent, alternating on the same resource of
/// node1, RUNS times each: both must answer the state the resource is in (8: WebData is
/// Promoted; 0: dlm runs) on every run, and ours must keep its promised ratio.
pub fn speed(r: &mut Run) -> Result<String> {
    let node = "node1";
    let broken = r.setup.broken(Break::BenchWrongState);
    if broken {
        say("break bench-wrong-state: DRBD timed on labtest (down), the DLM agent against itself");
    }
    let mut env = drbd_env("WebData-bench", if broken { "labtest" } else { "wwwdata" });
    env.push(("OCF_RESKEY_CRM_meta_interval", "29000"));
    env.push(("OCF_RESKEY_CRM_meta_timeout", "20000"));
    let (drbd_seen, mut wrong) = bench(
        r,
        node,
        "drbd",
        &env,
        (
            &format!("{AGENT_DIR}/{AGENT}"),
            "/usr/lib/ocf/resource.d/linbit/drbd",
        ),
        ("8", DRBD_RATIO),
        &format!(
            "crm_attribute --node {node} --name master-WebData-bench --lifetime reboot --delete >/dev/null 2>&1;"
        ),
    )?;
    let env = [
        ("OCF_RESOURCE_INSTANCE", "dlm-bench"),
        ("OCF_RESKEY_allow_stonith_disabled", "true"),
        ("OCF_RESKEY_CRM_meta_interval", "60000"),
        ("OCF_RESKEY_CRM_meta_timeout", "20000"),
    ];
    let ours = format!("{AGENT_DIR}/dlm-controld-wrapper");
    let theirs = if broken {
        ours.clone()
    } else {
        "/usr/lib/ocf/resource.d/pacemaker/controld".to_owned()
    };
    let (dlm_seen, dlm_wrong) =
        bench(r, node, "dlm", &env, (&ours, &theirs), ("0", DLM_RATIO), "")?;
    wrong.extend(dlm_wrong);
    let seen = format!("{drbd_seen}{dlm_seen}");
    if wrong.is_empty() {
        Ok(seen)
    } else {
        Err(Error(format!("{seen}WRONG: {}", wrong.join("; "))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bench_lines_and_their_verdict() {
        let out =
            "a 0.021164 8\nb 0.673222 8\nmedian a 0.027652 b 0.683110 ratio 24.70 codes 8 8\n";
        let b = bench_line(out).unwrap();
        assert_eq!(
            b,
            Bench {
                ours: 0.027_652,
                theirs: 0.683_110,
                ratio: 24.70,
                codes: ("8".into(), "8".into())
            }
        );
        assert!(b.verdict("8", 10.0).is_empty());
        // Equal but wrong codes (a resource that is down) do not pass.
        let down = bench_line("median a 0.02 b 0.5 ratio 25.00 codes 7 7").unwrap();
        assert_eq!(down.verdict("8", 10.0).len(), 1);
        // A ratio under the floor does not pass.
        let slow = bench_line("median a 0.05 b 0.06 ratio 1.20 codes 0 0").unwrap();
        assert_eq!(slow.verdict("0", 2.0), ["ratio 1.2x below 2x"]);
        // Mixed codes on one side do not pass.
        let flaky = bench_line("median a 0.02 b 0.5 ratio 25.00 codes 0,8 8").unwrap();
        assert_eq!(flaky.verdict("8", 10.0).len(), 1);
        assert_eq!(bench_line("a 1 8\n"), None);
        assert_eq!(bench_line("median a 1 b 2 ratio 2.0\n"), None);
    }
}
