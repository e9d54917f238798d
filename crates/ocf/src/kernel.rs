//! Kernel modules: the one place an agent loads one. `modprobe` it is, as an argv vector
//! bounded by the deadline: no kernel interface loads a module with its dependencies, its
//! `/etc/modprobe.d` options and its install hooks.

use crate::error::{Error, Result, ResultExt};
use crate::status::Status;
use std::path::Path;
use std::time::Instant;

/// True when `module` is loaded or built in (`/sys/module/<module>` exists).
pub fn is_loaded(module: &str) -> bool {
    valid_module_name(module) && Path::new("/sys/module").join(module).exists()
}

/// A module name as modprobe takes it: no option, no path, no white space.
fn valid_module_name(module: &str) -> bool {
    !module.is_empty()
        && module.len() <= 64
        && !module.starts_with('-')
        && module
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// `modprobe -- MODULE PARAMETERS...`, killed at `end` (pass `ctx.deadline.end()`). A failure is OCF_ERR_INSTALLED
/// (the kernel lacks what the resource needs) with modprobe's own message.
pub fn load_module(module: &str, parameters: &[&str], end: Instant) -> Result<()> {
    if !valid_module_name(module) {
        return Err(Error::installed(format!(
            "{} is not a kernel module name",
            crate::error::printable(module)
        )));
    }
    let mut args = vec!["--", module];
    args.extend_from_slice(parameters);
    log::info!("loading kernel module {module}");
    let out = child::run("modprobe", &args, end).or_status(Status::ErrInstalled, || {
        format!("loading kernel module {module}")
    })?;
    if out.success() {
        Ok(())
    } else {
        Err(Error::installed(format!(
            "modprobe {module} failed: {}",
            out.message()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_names_cannot_be_options_or_paths() {
        for bad in ["", "-r", "../x", "a b", "drbd\n"] {
            assert!(!valid_module_name(bad), "{bad:?}");
            let e = load_module(bad, &[], Instant::now()).unwrap_err();
            assert_eq!(e.status(), Status::ErrInstalled);
        }
        for good in ["drbd", "gfs2", "configfs", "nf_conntrack", "fuse.sshfs"] {
            assert!(valid_module_name(good), "{good}");
        }
    }
}
