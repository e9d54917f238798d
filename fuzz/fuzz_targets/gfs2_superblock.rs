//! The GFS2 superblock reader of crates/gfs2-superblock (what a device holds is outside
//! input: any block device can be named).
#![no_main]

use gfs2_superblock::Superblock;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(sb) = Superblock::parse(data) {
        let _ = (sb.cluster_name(), sb.fs_name(), sb.uuid_string());
    }
});
