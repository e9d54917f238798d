//! apache-clone (not written yet).
