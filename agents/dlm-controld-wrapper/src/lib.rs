//! dlm-controld-wrapper (not written yet).
