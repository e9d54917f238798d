//! A host that answers from a script and records what it was asked: the kernel's view of
//! one resource (per-minor roles, as DRBD 8.4 keeps them), drbdadm, crm_attribute.

use crate::drbdconf::{self, DrbdConf, MemFiles};
use crate::host::Host;
use drbd_genl::{DiskState, ResourceStatus, Role, testing};
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::time::Instant;

#[derive(Debug, Default)]
pub struct Fake {
    /// `/sys/module/drbd/version`; None: no module.
    pub module: RefCell<Option<String>>,
    /// What the kernel reports for the resource; None: not up.
    pub state: RefCell<Option<ResourceStatus>>,
    /// Every status read fails (the netlink socket cannot be opened).
    pub status_fails: Cell<bool>,
    /// Every request, in order: `primary r0 [1]`, `drbdadm up r0`, `score test 10000`.
    pub calls: RefCell<Vec<String>>,
    /// Answers for set_role, one per call: a refusal code for the call's first minor, or
    /// None (accepted). Empty: accepted.
    pub role_answers: RefCell<VecDeque<Option<i32>>>,
    /// One minor refusing role changes: (minor, refusal code, how many times). The minors
    /// before it in a call are changed, as DRBD 8.4 changes them one by one.
    pub refuse_minor: Cell<Option<(u32, i32, usize)>>,
    /// How many `down` requests are refused as held open before one succeeds.
    pub down_held_open: Cell<usize>,
    /// The DRBD configuration files.
    pub files: RefCell<MemFiles>,
    /// drbdadm is not installed.
    pub no_drbdadm: Cell<bool>,
}

/// The resource `drbdadm up` brings up: Secondary, UpToDate, connected to an UpToDate peer.
pub fn fresh() -> ResourceStatus {
    testing::connected(
        Role::Secondary,
        DiskState::UpToDate,
        Role::Secondary,
        DiskState::UpToDate,
    )
}

/// Debian's /etc/drbd.conf.
pub const DRBD_CONF: &str = "include \"drbd.d/global_common.conf\";\ninclude \"drbd.d/*.res\";\n";

/// Resource r0, its net section as given.
pub fn r0_res(net: &str) -> String {
    format!(
        "resource r0 {{\n  device /dev/drbd1;\n  disk /dev/vdb;\n  meta-disk internal;\n\
         net {{\n    {net}\n  }}\n  on node1 {{ address 10.1.1.101:7789; }}\n\
         on node2 {{ address 10.1.1.102:7789; }}\n}}\n"
    )
}

/// Debian's layout: /etc/drbd.conf including global_common.conf (its common net section as
/// given) and r0.res.
pub fn config(common_net: &str, r0_net: &str) -> MemFiles {
    MemFiles::with(&[
        ("/etc/drbd.conf", DRBD_CONF),
        (
            "/etc/drbd.d/global_common.conf",
            &format!(
                "global {{ usage-count no; }}\ncommon {{\n  net {{\n    {common_net}\n  }}\n}}\n"
            ),
        ),
        ("/etc/drbd.d/r0.res", &r0_res(r0_net)),
    ])
}
impl Fake {
    /// The module loaded, the resource up as `st`, its configuration allowing two primaries.
    pub fn up(st: ResourceStatus) -> Fake {
        let f = Fake::down();
        *f.state.borrow_mut() = Some(st);
        f
    }

    /// The module loaded, the resource configured but not up.
    pub fn down() -> Fake {
        let f = Fake::default();
        *f.module.borrow_mut() = Some("8.4.11".into());
        *f.files.borrow_mut() = config("", "protocol C; allow-two-primaries yes;");
        f
    }

    pub fn calls(&self) -> Vec<String> {
        self.calls.borrow().clone()
    }

    /// Calls equal to `call`, or starting with it followed by a space.
    pub fn count(&self, call: &str) -> usize {
        self.calls
            .borrow()
            .iter()
            .filter(|c| *c == call || c.starts_with(&format!("{call} ")))
            .count()
    }

    /// The role changes asked for, in order (`primary r0 [1, 2]`).
    pub fn role_changes(&self) -> Vec<String> {
        self.calls
            .borrow()
            .iter()
            .filter(|c| c.starts_with("primary ") || c.starts_with("secondary "))
            .cloned()
            .collect()
    }

    /// The roles of the volumes, in minor order; empty when down.
    pub fn roles(&self) -> Vec<Role> {
        self.state
            .borrow()
            .as_ref()
            .map(|st| st.volumes.iter().map(|v| v.role).collect())
            .unwrap_or_default()
    }

    fn record(&self, call: String) {
        self.calls.borrow_mut().push(call);
    }
}

fn output(code: i32, stdout: &str, stderr: &str) -> child::Output {
    child::Output {
        status: std::process::ExitStatus::from_raw(code << 8),
        stdout: stdout.into(),
        stderr: stderr.into(),
    }
}

impl Host for Fake {
    fn module_version(&self) -> Option<String> {
        self.module.borrow().clone()
    }

    fn load_module(&self, _drbdconf: &Path, _end: Instant) -> ocf::Result<()> {
        self.record("modprobe drbd".into());
        *self.module.borrow_mut() = Some("8.4.11".into());
        Ok(())
    }

    fn status(
        &self,
        _resource: &str,
        _end: Instant,
    ) -> Result<Option<ResourceStatus>, drbd_genl::Error> {
        if self.status_fails.get() {
            return Err(drbd_genl::Error::TimedOut {
                op: "reading the DRBD status (get-status)",
            });
        }
        Ok(self.state.borrow().clone())
    }

    fn set_role(
        &self,
        resource: &str,
        primary: bool,
        minors: &[u32],
        _end: Instant,
    ) -> Result<(), drbd_genl::Error> {
        let op = if primary { "primary" } else { "secondary" };
        self.record(format!("{op} {resource} {minors:?}"));
        if let Some(Some(code)) = self.role_answers.borrow_mut().pop_front() {
            return Err(drbd_genl::Error::Refused {
                op,
                resource: resource.into(),
                code,
                text: drbd_genl::socket::refusal_text(code),
                info: None,
            });
        }
        let role = if primary {
            Role::Primary
        } else {
            Role::Secondary
        };
        let mut refused = None;
        if let Some(st) = self.state.borrow_mut().as_mut() {
            for minor in minors {
                if let Some((stuck, code, times)) = self.refuse_minor.get()
                    && stuck == *minor
                    && times > 0
                {
                    self.refuse_minor.set(Some((stuck, code, times - 1)));
                    refused = Some(code);
                    break;
                }
                for v in st.volumes.iter_mut().filter(|v| v.minor == *minor) {
                    v.role = role;
                }
            }
            *st = ResourceStatus {
                two_primaries: st.two_primaries,
                ..ResourceStatus::new(&st.name, st.api, st.volumes.clone(), st.peers.clone())
            };
        }
        match refused {
            Some(code) => Err(drbd_genl::Error::Refused {
                op,
                resource: resource.into(),
                code,
                text: drbd_genl::socket::refusal_text(code),
                info: None,
            }),
            None => Ok(()),
        }
    }

    fn down(&self, resource: &str, _end: Instant) -> Result<(), drbd_genl::Error> {
        self.record(format!("down {resource}"));
        let held = self.down_held_open.get();
        if held > 0 {
            self.down_held_open.set(held - 1);
            return Err(drbd_genl::Error::Refused {
                op: "down",
                resource: resource.into(),
                code: -12,
                text: drbd_genl::socket::refusal_text(-12),
                info: Some("failed to demote".into()),
            });
        }
        *self.state.borrow_mut() = None;
        Ok(())
    }

    fn drbd_config(&self, drbdconf: &Path) -> Result<DrbdConf, drbdconf::Error> {
        DrbdConf::load(drbdconf, &*self.files.borrow())
    }

    fn drbdadm_installed(&self) -> bool {
        !self.no_drbdadm.get()
    }

    fn drbdadm(
        &self,
        drbdconf: &Path,
        args: &[&str],
        _env: &[(&str, &str)],
        _end: Instant,
    ) -> Result<child::Output, child::Error> {
        self.record(format!("drbdadm {}", args.join(" ")));
        if self.no_drbdadm.get() {
            return Err(child::Error::Spawn {
                program: "drbdadm".into(),
                source: std::io::Error::from_raw_os_error(2),
            });
        }
        match args.first().copied() {
            // drbdadm refuses a resource its configuration does not define.
            Some(_)
                if self
                    .drbd_config(drbdconf)
                    .ok()
                    .and_then(|c| c.resource("r0").map(drop))
                    .is_none() =>
            {
                Ok(output(
                    10,
                    "",
                    "'r0' not defined in your config (for this host).\n",
                ))
            }
            Some("up") => {
                *self.state.borrow_mut() = Some(fresh());
                Ok(output(0, "", ""))
            }
            _ => Ok(output(0, "", "")),
        }
    }

    fn set_score(
        &self,
        instance: &str,
        score: i64,
        _end: Instant,
    ) -> Result<(), pacemaker_cli::Error> {
        self.record(format!("score {instance} {score}"));
        Ok(())
    }

    fn delete_score(&self, instance: &str, _end: Instant) -> Result<(), pacemaker_cli::Error> {
        self.record(format!("score {instance} delete"));
        Ok(())
    }
}
