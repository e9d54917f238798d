//! ipaddr2 (not written yet).
