//! Everything the port asks of the cluster and of this node, behind one trait so that the
//! procedure (crate::port) is tested on a simulated cluster. [`System`] is the real one:
//! Pacemaker's own command-line tools, each an argv vector bounded by a deadline (crate
//! `child`), and the installed agents run directly, as the executor runs them.

use crate::Error;
use crate::agents::Agent;
use crate::validate;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// What the port needs from the cluster and from this node.
pub trait Cluster {
    /// The whole CIB, configuration and status (`cibadmin --query`).
    fn cib(&mut self) -> Result<String, Error>;
    /// `crm_mon -1 --output-as=xml`.
    fn mon(&mut self) -> Result<String, Error>;
    /// This node's name in the cluster.
    fn local_node(&mut self) -> Result<String, Error>;
    /// Set the cluster option `maintenance-mode` to `value`, or delete it (None).
    fn set_maintenance(&mut self, value: Option<&str>) -> Result<(), Error>;
    /// Merge a `<resources>` fragment into the CIB, in one transaction.
    fn modify_resources(&mut self, fragment: &str) -> Result<(), Error>;
    /// Forget `id`'s history on every node, so that Pacemaker probes it again.
    fn refresh(&mut self, id: &str) -> Result<(), Error>;
    /// Wait until the cluster has no action pending: true when it settled within `limit`.
    fn wait_settled(&mut self, limit: Duration) -> Result<bool, Error>;
    /// The transition graph Pacemaker computes for the CIB `cib`.
    fn simulate(&mut self, cib: &str) -> Result<String, Error>;
    /// An agent's metadata, as Pacemaker reads it on this node.
    fn metadata(&mut self, agent: &Agent) -> Result<String, Error>;
    /// Run `action` of the agent installed on this node with `env`: its exit code and reason.
    fn run_agent(
        &mut self,
        agent: &Agent,
        action: &str,
        env: &[(String, String)],
        limit: Duration,
    ) -> Result<(i32, String), Error>;
    /// True when `agent` is installed on this node.
    fn installed(&mut self, agent: &Agent) -> bool;
    /// What an installed agent of ours prints for `--version`, without its name; None when it
    /// is not installed.
    fn installed_stamp(&mut self, agent: &Agent) -> Result<Option<String>, Error>;
    /// Set a permanent node attribute.
    fn set_node_attribute(&mut self, node: &str, name: &str, value: &str) -> Result<(), Error>;
    /// Pause between two looks at the cluster.
    fn pause(&mut self, d: Duration);
}

/// How long one query of the cluster may take.
const QUERY: Duration = Duration::from_secs(60);

/// crm_resource's exit code when `--wait` reaches its timeout (CRM_EX_TIMEOUT).
const CRM_EX_TIMEOUT: i32 = 124;

/// The real cluster, through Pacemaker's tools.
#[derive(Debug, Clone)]
pub struct System {
    /// Where OCF agents live (`/usr/lib/ocf`, Pacemaker's OCF_ROOT).
    pub ocf_root: String,
    scratch: PathBuf,
}

impl System {
    pub fn new(ocf_root: &str) -> System {
        let scratch =
            std::env::temp_dir().join(format!("native-agents-port.{}", std::process::id()));
        System {
            ocf_root: ocf_root.to_owned(),
            scratch,
        }
    }

    fn tool(tool: &'static str, args: &[&str], limit: Duration) -> Result<String, Error> {
        let out =
            child::run(tool, args, Instant::now() + limit).map_err(pacemaker_cli::Error::from)?;
        Ok(pacemaker_cli::check(tool, out)?.stdout)
    }

    /// A private directory for crm_simulate's files (the CIB may hold passwords).
    fn scratch_dir(&self) -> Result<&Path, Error> {
        use std::os::unix::fs::DirBuilderExt;
        if !self.scratch.is_dir() {
            std::fs::DirBuilder::new()
                .mode(0o700)
                .create(&self.scratch)
                .map_err(|e| Error::Io(format!("creating {}: {e}", self.scratch.display())))?;
        }
        Ok(&self.scratch)
    }
}

impl Drop for System {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.scratch);
    }
}

impl Cluster for System {
    fn cib(&mut self) -> Result<String, Error> {
        System::tool("cibadmin", &["--query"], QUERY)
    }

    fn mon(&mut self) -> Result<String, Error> {
        System::tool("crm_mon", &["-1", "--output-as=xml"], QUERY)
    }

    fn local_node(&mut self) -> Result<String, Error> {
        Ok(pacemaker_cli::local_node_name(Instant::now() + QUERY)?)
    }

    fn set_maintenance(&mut self, value: Option<&str>) -> Result<(), Error> {
        let mut args = vec!["--type", "crm_config", "--name", "maintenance-mode"];
        if let Some(v) = value {
            args.extend(["--update", v]);
        } else {
            args.push("--delete");
        }
        System::tool("crm_attribute", &args, QUERY).map(drop)
    }

    fn modify_resources(&mut self, fragment: &str) -> Result<(), Error> {
        System::tool(
            "cibadmin",
            &["--modify", "--scope", "resources", "--xml-text", fragment],
            QUERY,
        )
        .map(drop)
    }

    fn refresh(&mut self, id: &str) -> Result<(), Error> {
        System::tool("crm_resource", &["--refresh", "--resource", id], QUERY).map(drop)
    }

    fn wait_settled(&mut self, limit: Duration) -> Result<bool, Error> {
        let timeout = format!("--timeout={}s", limit.as_secs().max(1));
        let out = child::run(
            "crm_resource",
            &["--wait", &timeout],
            Instant::now() + limit + Duration::from_secs(10),
        )
        .map_err(pacemaker_cli::Error::from)?;
        if out.code() == Some(CRM_EX_TIMEOUT) {
            return Ok(false);
        }
        pacemaker_cli::check("crm_resource", out)?;
        Ok(true)
    }

    fn simulate(&mut self, cib: &str) -> Result<String, Error> {
        let dir = self.scratch_dir()?;
        let input = dir.join("cib.xml");
        let graph = dir.join("graph.xml");
        let io = |what: &Path, e: std::io::Error| Error::Io(format!("{}: {e}", what.display()));
        std::fs::write(&input, cib).map_err(|e| io(&input, e))?;
        let _ = std::fs::remove_file(&graph);
        let (input_arg, graph_arg) = (input.to_string_lossy(), graph.to_string_lossy());
        System::tool(
            "crm_simulate",
            &[
                "--quiet",
                "--xml-file",
                &input_arg,
                "--save-graph",
                &graph_arg,
            ],
            QUERY,
        )?;
        let text = std::fs::read_to_string(&graph).map_err(|e| io(&graph, e))?;
        let _ = std::fs::remove_file(&input);
        let _ = std::fs::remove_file(&graph);
        Ok(text)
    }

    fn metadata(&mut self, agent: &Agent) -> Result<String, Error> {
        let spec = format!("--show-metadata={agent}");
        System::tool("crm_resource", &[&spec], QUERY)
    }

    fn run_agent(
        &mut self,
        agent: &Agent,
        action: &str,
        env: &[(String, String)],
        limit: Duration,
    ) -> Result<(i32, String), Error> {
        let path = agent.path(&self.ocf_root);
        let mut cmd = Command::new(&path);
        cmd.arg(action)
            .env_clear()
            .envs(env.iter().map(|(k, v)| (k, v)));
        let out = child::run_with(&mut cmd, Instant::now() + limit)
            .map_err(pacemaker_cli::Error::from)?;
        let code = out.code().unwrap_or(1);
        Ok((code, validate::exit_reason(&out.stdout, &out.stderr)))
    }

    fn installed(&mut self, agent: &Agent) -> bool {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(agent.path(&self.ocf_root))
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }

    fn installed_stamp(&mut self, agent: &Agent) -> Result<Option<String>, Error> {
        if !self.installed(agent) {
            return Ok(None);
        }
        let path = agent.path(&self.ocf_root);
        let out = child::run(&path, &["--version"], Instant::now() + QUERY)
            .map_err(pacemaker_cli::Error::from)?;
        let text = out.stdout.trim();
        Ok(Some(
            text.strip_prefix(agent.kind.as_str())
                .map_or(text, str::trim_start)
                .to_owned(),
        ))
    }

    fn set_node_attribute(&mut self, node: &str, name: &str, value: &str) -> Result<(), Error> {
        System::tool(
            "crm_attribute",
            &[
                "--type",
                "nodes",
                "--node",
                node,
                "--name",
                name,
                "--update",
                value,
                "--lifetime",
                "forever",
            ],
            QUERY,
        )
        .map(drop)
    }

    fn pause(&mut self, d: Duration) {
        std::thread::sleep(d);
    }
}
