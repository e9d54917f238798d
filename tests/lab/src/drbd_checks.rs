//! The lab checks of issue 8 on our drbd-dualprimary, and the monitor speed of both issues'
//! agents: demote/promote cycles through Pacemaker, a promotion refused for Inconsistent data
//! (on `labtest`, a second small DRBD resource on a loop device that Pacemaker never
//! manages), ocf-tester on `labtest`, real DRBD 8.4 netlink bytes captured from the lab kernel
//! (crate drbd-genl's DRBD_GENL_CAPTURE), and the monitors timed side by side with the shell
//! agents'.

use crate::crm;
use crate::native::{self, AGENT_DIR, drbd_env, env_words, run_agent};
use crate::scenario::Run;
use crate::step::{Error, Result};
use crate::sys::mins;
use crate::vm::{self, NODES};
use std::fmt::Write;
use std::fs;
use std::time::Instant;

const AGENT: &str = "drbd-dualprimary";
/// labtest's backing loop device (guest/drbd/labtest.res).
const LOOP: &str = "/dev/loop7";
const CAPTURES: &str = "/run/lab-captures";

fn skip(r: &Run) -> Result<Option<String>> {
    native::not_applicable(r.paths, "WebData", AGENT)
}

fn role(r: &Run, node: &str) -> Result<String> {
    Ok(r.sh(
        node,
        "grep -o ' 1: cs:[A-Za-z]* ro:[A-Za-z/]* ds:[A-Za-z/]*' /proc/drbd; true",
    )?
    .trim()
    .to_owned())
}

/// 12: one demote/promote cycle per node, driven through Pacemaker (`crm_resource --ban
/// --promoted`, then `--clear`): the node goes Secondary with WebFS and WebSite stopped there
/// while the other node keeps serving, then Primary again with everything back.
pub fn cycles(r: &mut Run) -> Result<String> {
    if let Some(na) = skip(r)? {
        return Ok(na);
    }
    let mut seen = String::new();
    for node in ["node2", "node1"] {
        let peer = vm::other(node);
        let t = Instant::now();
        r.sh(
            "node1",
            &format!("crm_resource --ban --promoted --resource WebData-clone --node {node} >/dev/null 2>&1"),
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
        let demoted = t.elapsed().as_secs_f64();
        let during = role(r, node)?;
        let serving = r
            .sh(peer, "curl -sf --max-time 5 http://localhost/index.html >/dev/null && echo yes || echo no")?
            .trim()
            == "yes";
        let t = Instant::now();
        r.sh(
            "node1",
            "crm_resource --clear --resource WebData-clone >/dev/null 2>&1; true",
        )?;
        crm::wait(r.paths, "node1", "active-active again", mins(3), |s| {
            s.active_active(&NODES)
        })?;
        let promoted = t.elapsed().as_secs_f64();
        let after = role(r, node)?;
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
/// the kernel's reason after at least 15 s, having asked the kernel only a few times; the
/// netlink bytes of that refusal, of a successful PRIMARY and SECONDARY and of WebData's
/// status dump are kept under target/lab/captures/.
pub fn refused(r: &mut Run) -> Result<String> {
    if let Some(na) = skip(r)? {
        return Ok(na);
    }
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
    let ok = run.rc == 1
        && reason.contains("need access to UpToDate data")
        && (15_000..60_000).contains(&run.ms)
        && (1..=5).contains(&primaries)
        && after.contains("ro:Secondary")
        && promote.rc == 0
        && demote.rc == 0
        && monitor.rc == 8;
    if ok { Ok(seen) } else { Err(Error(seen)) }
}

/// 14: agents/drbd-dualprimary/tests/ocf-tester.sh on labtest (node1; UpToDate since check
/// 13's forced primary), then labtest and its loop device removed.
pub fn ocf_tester(r: &mut Run) -> Result<String> {
    if let Some(na) = skip(r)? {
        return Ok(na);
    }
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

/// Parses lab-bench's last line: "median a A b B ratio R".
fn medians(out: &str) -> Option<(f64, f64, f64)> {
    let last = out.lines().rev().find(|l| l.starts_with("median "))?;
    let w: Vec<&str> = last.split_whitespace().collect();
    Some((
        w.get(2)?.parse().ok()?,
        w.get(4)?.parse().ok()?,
        w.get(6)?.parse().ok()?,
    ))
}

const RUNS: u32 = 15;

/// 15: monitor of our agent and of the shell agent, alternating on the same resource of
/// node1, RUNS times each: medians and ratio (issue 8 promises >= 10x for DRBD).
pub fn speed(r: &mut Run) -> Result<String> {
    let drbd_na = skip(r)?;
    let dlm_na = native::not_applicable(r.paths, "dlm", "dlm-controld-wrapper")?;
    if let (Some(a), Some(_)) = (&drbd_na, &dlm_na) {
        return Ok(a.clone());
    }
    let node = "node1";
    let mut seen = String::new();
    let mut ok = true;
    if drbd_na.is_none() {
        let mut env = drbd_env("WebData-bench", "wwwdata");
        env.push(("OCF_RESKEY_CRM_meta_interval", "29000"));
        env.push(("OCF_RESKEY_CRM_meta_timeout", "20000"));
        let out = r.sh(
            node,
            &format!(
                "env OCF_ROOT=/usr/lib/ocf{} lab-bench {RUNS} {AGENT_DIR}/{AGENT} /usr/lib/ocf/resource.d/linbit/drbd; \
                 rc=$?; crm_attribute --node {node} --name master-WebData-bench --lifetime reboot --delete >/dev/null 2>&1; exit $rc",
                env_words(&env)
            ),
        )?;
        let (a, b, ratio) = medians(&out).ok_or_else(|| Error(format!("lab-bench said {out}")))?;
        r.figures
            .push(("drbd_monitor_native_median_ms".into(), a * 1000.0));
        r.figures
            .push(("drbd_monitor_linbit_median_ms".into(), b * 1000.0));
        r.figures.push(("drbd_monitor_speedup_ratio".into(), ratio));
        let _ = write!(
            seen,
            "DRBD monitor (wwwdata, Primary, exit 8 from both) on {node}, {RUNS} alternating runs each: \
             drbd-dualprimary median {:.1} ms, ocf:linbit:drbd median {:.1} ms, ratio {ratio:.1}x (issue 8 promises >= 10x); ",
            a * 1000.0,
            b * 1000.0
        );
        ok &= ratio >= 10.0;
    }
    if dlm_na.is_none() {
        let env = [
            ("OCF_RESOURCE_INSTANCE", "dlm-bench"),
            ("OCF_RESKEY_allow_stonith_disabled", "true"),
            ("OCF_RESKEY_CRM_meta_interval", "60000"),
            ("OCF_RESKEY_CRM_meta_timeout", "20000"),
        ];
        let out = r.sh(
            node,
            &format!(
                "env OCF_ROOT=/usr/lib/ocf{} lab-bench {RUNS} {AGENT_DIR}/dlm-controld-wrapper /usr/lib/ocf/resource.d/pacemaker/controld",
                env_words(&env)
            ),
        )?;
        let (a, b, ratio) = medians(&out).ok_or_else(|| Error(format!("lab-bench said {out}")))?;
        r.figures
            .push(("dlm_monitor_native_median_ms".into(), a * 1000.0));
        r.figures
            .push(("dlm_monitor_controld_median_ms".into(), b * 1000.0));
        r.figures.push(("dlm_monitor_speedup_ratio".into(), ratio));
        let _ = write!(
            seen,
            "DLM monitor (exit 0 from both) on {node}, {RUNS} alternating runs each: dlm-controld-wrapper median \
             {:.1} ms, ocf:pacemaker:controld median {:.1} ms, ratio {ratio:.1}x",
            a * 1000.0,
            b * 1000.0
        );
    }
    if ok { Ok(seen) } else { Err(Error(seen)) }
}

#[cfg(test)]
mod tests {
    #[test]
    fn bench_medians() {
        let out = "a 0.021164 8\nb 0.673222 8\nmedian a 0.027652 b 0.683110 ratio 24.70\n";
        assert_eq!(super::medians(out), Some((0.027_652, 0.683_110, 24.70)));
        assert_eq!(super::medians("a 1 8\n"), None);
    }
}
