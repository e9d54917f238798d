//! The seam between the policy ([`crate::logic`]) and the machine: everything
//! dlm-controld-wrapper asks of the kernel, the daemon and the cluster, and nothing more.
//! [`System`] is the real one (crate procs for processes and pid files, crate dlm-control for
//! the query socket, sysfs and configfs, crate pacemaker-cli for the CIB and fencing); the
//! policy's unit tests use a fake that needs no root, no DLM and no Pacemaker.

use crate::health::Report;
use dlm_control::{Client, Kernel, Trusted};
use pacemaker_cli::ClusterOptions;
use procs::{Captured, Expect, ProcFs};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Where dlm_controld 4.x writes its pid once it runs in the background (`RUNDIR "/"
/// RUN_FILE_NAME`; older builds say /var/run, which distributions link to /run).
pub const PID_FILES: [&str; 2] = [
    "/run/dlm_controld/dlm_controld.pid",
    "/var/run/dlm_controld/dlm_controld.pid",
];

/// Where configfs is mounted (the kernel's and dlm_controld's fixed place).
pub const CONFIGFS: &str = dlm_control::kernel::CONFIGFS_MOUNTPOINT;

/// What the agent needs from the host.
pub trait Host {
    /// `daemon` as an executable file: an absolute path as given, a name looked up on PATH
    /// and then in /usr/sbin and /sbin (Pacemaker's PATH may lack the sbin directories).
    fn find_program(&self, daemon: &str) -> Option<PathBuf>;
    /// The processes executing `program` as this agent's user (root), in pid order: the
    /// daemon and its helper process. A look-alike (another binary, another user) is none
    /// of them.
    fn daemon_processes(&self, program: &Path) -> Result<Vec<Captured>, procs::Error>;
    /// Every process of this agent's user whose executable's file name is `file_name`
    /// (only for a probe or stop whose `daemon` is unusable).
    fn processes_running(&self, file_name: &str) -> Result<Vec<Captured>, procs::Error>;
    /// The pid in dlm_controld's own pid file, when it has one that can be trusted.
    fn pid_file(&self) -> Option<i32>;
    /// The daemon's status and lockspaces on its query socket (`dlm_tool status`, `dlm_tool
    /// ls`), believed only from the `trusted` listener, both before `end`.
    fn query(&self, trusted: &Trusted, end: Instant) -> Result<Report, dlm_control::Error>;

    /// The kernel's lockspaces (`ls /sys/kernel/dlm`).
    fn lockspaces(&self) -> std::io::Result<Vec<String>>;
    /// dlm_controld has configured the kernel's cluster comms (a non-empty `addr_list`).
    fn comms_ready(&self) -> std::io::Result<bool>;
    /// configfs is mounted at /sys/kernel/config.
    fn configfs_mounted(&self) -> std::io::Result<bool>;
    /// The kernel knows the configfs file system (built in or loaded).
    fn configfs_known(&self) -> bool;
    /// mount(2), as `mount -t configfs none /sys/kernel/config`.
    fn mount_configfs(&self) -> nix::Result<()>;
    /// /sys/kernel/config/dlm exists: the dlm module is loaded.
    fn dlm_loaded(&self) -> bool;
    /// `modprobe MODULE`, bounded by `end`.
    fn load_module(&self, module: &str, end: Instant) -> ocf::Result<()>;

    /// The bytes of DLM's fencing helper (`dlm_stonith`, found as `find_program` finds the
    /// daemon) and its path; None when it is not installed.
    fn fence_helper(&self) -> Option<(PathBuf, Vec<u8>)>;
    /// Whether a shared library of this file name is where the dynamic linker looks.
    fn library_installed(&self, name: &str) -> bool;

    /// The cluster's options (`cibadmin --query --scope crm_config`).
    fn cluster_options(&self, end: Instant) -> Result<ClusterOptions, pacemaker_cli::Error>;
    /// Ask Pacemaker to fence this node (`stonith_admin --reboot <this node>`); its name.
    fn fence_this_node(&self, end: Instant) -> Result<String, pacemaker_cli::Error>;

    /// Run `program argv...` in its own session and wait up to `end` for the launcher to
    /// fork into the background.
    fn launch(&self, program: &Path, argv: &[String], end: Instant) -> Result<Launch, LaunchError>;
    /// Send SIGTERM to each process found earlier, only while it is still the process
    /// found (pid, start time, user, binary).
    fn terminate(&self, processes: &[Captured]) -> Result<(), procs::Error>;
    /// True once every process found earlier is gone, waiting no later than `end`.
    fn wait_gone(&self, processes: &[Captured], end: Instant) -> bool;
}

/// How launching the daemon went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Launch {
    /// The launcher exited 0: the daemon forked into the background.
    Detached,
    /// The launcher is still running (the administrator's args keep it in the foreground).
    Foreground,
}

/// Why the daemon could not be launched.
#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    #[error(transparent)]
    Procs(#[from] procs::Error),
    #[error("{program} failed ({}): {message}", status_text(*status))]
    Failed {
        program: String,
        status: std::process::ExitStatus,
        message: String,
    },
}

/// How the launcher ended, as an administrator reads it.
fn status_text(status: std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit code {code}"),
        (None, Some(signal)) => format!("killed by signal {signal}"),
        (None, None) => "ended".to_owned(),
    }
}

/// The real host.
#[derive(Debug, Clone)]
pub struct System {
    pub kernel: Kernel,
    pub procfs: ProcFs,
    /// The daemon's query socket (`@dlmc_query_sock`).
    pub query_socket: String,
}

impl System {
    pub fn new() -> System {
        System {
            kernel: Kernel::system(),
            procfs: ProcFs::system(),
            query_socket: dlm_control::wire::QUERY_SOCKET.to_owned(),
        }
    }
}

impl Default for System {
    fn default() -> System {
        System::new()
    }
}

impl Host for System {
    fn find_program(&self, daemon: &str) -> Option<PathBuf> {
        procs::find_program(daemon)
    }

    fn daemon_processes(&self, program: &Path) -> Result<Vec<Captured>, procs::Error> {
        self.procfs
            .find(&Expect::any().program(program).same_user())
    }

    fn processes_running(&self, file_name: &str) -> Result<Vec<Captured>, procs::Error> {
        Ok(self
            .procfs
            .find(&Expect::any().same_user())?
            .into_iter()
            .filter(|c| {
                c.exe.as_deref().and_then(Path::file_name).is_some_and(|n| {
                    n.to_str()
                        .is_some_and(|n| n.strip_suffix(" (deleted)").unwrap_or(n) == file_name)
                })
            })
            .collect())
    }

    fn pid_file(&self) -> Option<i32> {
        PID_FILES
            .iter()
            .find_map(|p| procs::read_pid_file(Path::new(p)).ok().flatten())
    }

    fn query(&self, trusted: &Trusted, end: Instant) -> Result<Report, dlm_control::Error> {
        let client = Client::with_socket(&self.query_socket, trusted.clone());
        Ok(Report {
            status: client.status(end)?,
            lockspaces: client.lockspaces(end)?,
        })
    }

    fn lockspaces(&self) -> std::io::Result<Vec<String>> {
        self.kernel.lockspaces()
    }

    fn comms_ready(&self) -> std::io::Result<bool> {
        self.kernel.comms_ready()
    }

    fn configfs_mounted(&self) -> std::io::Result<bool> {
        self.kernel.configfs_mounted()
    }

    fn configfs_known(&self) -> bool {
        self.kernel.configfs_known()
    }

    fn mount_configfs(&self) -> nix::Result<()> {
        nix::mount::mount(
            Some("configfs"),
            CONFIGFS,
            Some("configfs"),
            nix::mount::MsFlags::empty(),
            None::<&str>,
        )
    }

    fn dlm_loaded(&self) -> bool {
        self.kernel.configfs_dlm().exists()
    }

    fn load_module(&self, module: &str, end: Instant) -> ocf::Result<()> {
        ocf::kernel::load_module(module, &[], end)
    }

    fn fence_helper(&self) -> Option<(PathBuf, Vec<u8>)> {
        let path = procs::find_program(crate::fence_helper::HELPER)?;
        let bytes = std::fs::read(&path).ok()?;
        Some((path, bytes))
    }

    fn library_installed(&self, name: &str) -> bool {
        let conf: Vec<String> = std::fs::read_dir("/etc/ld.so.conf.d")
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|x| x == "conf"))
                    .filter_map(|p| std::fs::read_to_string(p).ok())
                    .collect()
            })
            .unwrap_or_default();
        let dirs = crate::fence_helper::library_dirs(&conf);
        crate::fence_helper::installed(name, &dirs, Path::exists)
    }

    fn cluster_options(&self, end: Instant) -> Result<ClusterOptions, pacemaker_cli::Error> {
        pacemaker_cli::cluster_options(end)
    }

    fn fence_this_node(&self, end: Instant) -> Result<String, pacemaker_cli::Error> {
        let node = pacemaker_cli::local_node_name(end)?;
        pacemaker_cli::fence_node(&node, "dlm-controld-wrapper", end)?;
        Ok(node)
    }

    fn launch(&self, program: &Path, argv: &[String], end: Instant) -> Result<Launch, LaunchError> {
        let mut launched = procs::Daemon::new(program).args(argv).spawn()?;
        match launched.wait_exit(end)? {
            Some((status, _)) if status.success() => Ok(Launch::Detached),
            Some((status, stderr)) => Err(LaunchError::Failed {
                program: program.display().to_string(),
                status,
                message: stderr.trim().replace('\n', "; "),
            }),
            None => Ok(Launch::Foreground),
        }
    }

    fn terminate(&self, processes: &[Captured]) -> Result<(), procs::Error> {
        for process in processes {
            process.signal(procs::Signal::SIGTERM)?;
        }
        Ok(())
    }

    fn wait_gone(&self, processes: &[Captured], end: Instant) -> bool {
        let ids: Vec<procs::Identity> = processes.iter().map(|c| c.id).collect();
        procs::wait_gone(&ids, end, Duration::from_millis(200))
    }
}

/// An error's text as an administrator should read it: std's " (os error N)" after the
/// strerror words is dropped (the crates below keep the typed cause; the words say it).
pub fn plain(error: &dyn std::fmt::Display) -> String {
    let text = error.to_string();
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(at) = rest.find(" (os error ") {
        out.push_str(&rest[..at]);
        let tail = &rest[at + " (os error ".len()..];
        let digits = tail.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 && tail[digits..].starts_with(')') {
            rest = &tail[digits + 1..];
        } else {
            out.push_str(" (os error ");
            rest = tail;
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_drops_os_error_codes_only() {
        let e = std::io::Error::from_raw_os_error(2);
        assert_eq!(plain(&e), "No such file or directory");
        assert_eq!(
            plain(&format!("reading /x: {e}; then {e}")),
            "reading /x: No such file or directory; then No such file or directory"
        );
        assert_eq!(plain(&"keep (os error x) as is"), "keep (os error x) as is");
        assert_eq!(plain(&"(os error 5)"), "(os error 5)");
    }

    #[test]
    fn the_real_host_finds_processes_by_binary_and_file_name() {
        // `sleep` found by its binary and user, and by its executable's file name.
        let host = System::new();
        let mut sleeper = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let pid = i32::try_from(sleeper.id()).unwrap();
        let program = procs::find_program("sleep").unwrap();
        let found = host.daemon_processes(&program).unwrap();
        assert!(found.iter().any(|c| c.pid() == pid));
        let named = host.processes_running("sleep").unwrap();
        assert!(named.iter().any(|c| c.pid() == pid));
        assert!(
            host.processes_running("no-such-program-here")
                .unwrap()
                .is_empty()
        );
        let ours: Vec<Captured> = found.into_iter().filter(|c| c.pid() == pid).collect();
        // Reap it from a thread, as init would reap a daemon, so that it does not linger
        // as our zombie.
        let reaper = std::thread::spawn(move || sleeper.wait().unwrap());
        host.terminate(&ours).unwrap();
        assert!(host.wait_gone(&ours, Instant::now() + Duration::from_secs(5)));
        reaper.join().unwrap();
        assert!(
            !host
                .daemon_processes(&program)
                .unwrap()
                .iter()
                .any(|c| c.pid() == pid)
        );
    }

    #[test]
    fn launch_reports_a_failing_daemon_with_its_message() {
        let host = System::new();
        let sh = PathBuf::from("/bin/sh");
        let end = || Instant::now() + Duration::from_secs(5);
        let args = [
            "-c".to_owned(),
            "echo unknown option -z >&2; exit 1".to_owned(),
        ];
        let err = host.launch(&sh, &args, end()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "/bin/sh failed (exit code 1): unknown option -z"
        );
        let ok = ["-c".to_owned(), "exit 0".to_owned()];
        assert_eq!(host.launch(&sh, &ok, end()).unwrap(), Launch::Detached);
    }

    #[test]
    fn programs_are_found_and_missing_ones_are_not() {
        let host = System::new();
        assert!(host.find_program("sh").is_some());
        assert_eq!(host.find_program("/bin/sh"), Some(PathBuf::from("/bin/sh")));
        assert!(host.find_program("no-such-daemon-here").is_none());
    }
}
