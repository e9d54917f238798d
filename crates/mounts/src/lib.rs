//! # mounts: the kernel's mount table, mount(2), and what holds a mount
//!
//! What a filesystem agent needs below the OCF layer, each without a child process:
//! * [`mountinfo`]: `/proc/self/mountinfo` parsed (octal escapes undone), lookups by mount
//!   point, device number and path (`findmnt`);
//! * [`options`]: a mount(8) option string split into mount(2) flags and filesystem data;
//! * [`device`]: `UUID=`, `LABEL=`, `/dev/disk/by-*` and paths resolved to a device node
//!   (`findfs`, `blkid`);
//! * [`syscalls`]: mount(2) and umount2(2), also in another process's mount namespace;
//! * [`holders`]: the processes that use a mount or a device, in every mount namespace, and
//!   the other namespaces that still have it mounted, found through `/proc` without touching
//!   the mounted filesystem (`fuser -m`);
//! * [`direct_io`] and [`bounded`]: O_DIRECT checks, and a way to stop waiting for a call
//!   that waits killably (a /proc walk); what can hang uninterruptibly on dead storage
//!   belongs in a child process (see [`bounded`]).
//!
//! Not for: OCF statuses (agents decide), fsck or mkfs (child processes, run by the agent),
//! loop device setup.

pub mod bounded;
pub mod device;
pub mod direct_io;
pub mod holders;
pub mod mountinfo;
pub mod options;
pub mod syscalls;

pub use device::DeviceSpec;
pub use holders::Holder;
pub use mountinfo::{Mount, MountTable};
pub use options::MountOptions;
