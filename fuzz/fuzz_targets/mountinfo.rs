//! The mount table reader of crates/mounts (`/proc/self/mountinfo` text, with octal escapes),
//! its lookups, and the option and device-spec parsers the gfs2-fs agent feeds parameters to.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mounts::mountinfo::unescape;
use mounts::{DeviceSpec, MountOptions, MountTable};
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = unescape(&text);
    let options = MountOptions::parse(&text);
    let _ = (options.read_only(), options.is_bind());
    let spec = DeviceSpec::parse(&text);
    let _ = spec.is_local();
    let Ok(table) = MountTable::parse(&text) else {
        return;
    };
    for path in ["/", "/mnt", "/mnt/web/", "/proc", "relative"] {
        let path = Path::new(path);
        let _ = (table.at(path), table.below(path), table.owning(path));
    }
    let _ = (table.by_id(1), table.by_device(8, 1).count());
});
