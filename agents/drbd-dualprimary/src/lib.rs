//! drbd-dualprimary (not written yet).
