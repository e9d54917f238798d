//! gfs2-fs (not written yet).
