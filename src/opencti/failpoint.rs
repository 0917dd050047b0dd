//! A test-only failpoint: kill the process between a publish and its confirm.
//!
//! Off unless the environment variable `KASPERSKY_TEST_FAILPOINT` is
//! `abort-before-confirm:N`: then the process aborts, as a crash would, right after the
//! messages of the N-th bundle (from 1) are published and before their confirms are
//! awaited. The fault tests use it to show that the next run delivers everything again
//! and that the state never moved past the lost bundle. Nothing else reads it.

use std::sync::atomic::{AtomicU64, Ordering};

/// The environment variable that arms the failpoint.
pub const VARIABLE: &str = "KASPERSKY_TEST_FAILPOINT";

static BUNDLES: AtomicU64 = AtomicU64::new(0);

/// Called once per bundle, after publishing and before waiting for confirms.
pub fn before_confirm() {
    let Ok(value) = std::env::var(VARIABLE) else {
        return;
    };
    let Some(n) = value
        .strip_prefix("abort-before-confirm:")
        .and_then(|n| n.parse::<u64>().ok())
    else {
        return;
    };
    if BUNDLES.fetch_add(1, Ordering::SeqCst) + 1 == n {
        eprintln!("{VARIABLE}: aborting before the confirms of bundle {n}");
        std::process::abort();
    }
}
