//! Finding the shared sample files in tests.
//!
//! `../shared` (next to the project) holds the TIP-format samples and public real-world
//! files. A user's fresh clone does not have it, so tests that read it say they were
//! skipped; under `CI=true` a missing `../shared` fails the run instead.

use std::path::PathBuf;

/// `../shared/<relative>` when it exists; `None` (after saying so) when it does not.
///
/// # Panics
///
/// When `CI` is `true` and the directory is missing: CI always has it.
pub fn shared(relative: &str) -> Option<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared");
    let path = root.join(relative);
    if path.exists() {
        return Some(path);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{} is missing, and CI must have ../shared", path.display());
    }
    eprintln!(
        "skipped: {} is not there (only a checkout beside ../shared has it)",
        path.display()
    );
    None
}
