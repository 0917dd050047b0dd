//! Where bundles go: the OpenCTI queue, a directory of STIX bundle files, or both.
//!
//! A sink says a bundle is delivered only when it is safe: the file renamed into place, or
//! every message confirmed by the broker. The runtime moves the state only past delivered
//! bundles.

pub mod directory;

pub use directory::{DirectoryError, DirectorySink};

/// What a bundle is, for naming and logging: its scope and the item it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BundleLabel {
    /// `publication`, `master_ioc`, `master_yara` or `openioc`.
    pub scope: &'static str,
    /// The publication id, or the group name.
    pub item: String,
    /// The id that identifies the bundle's content (the report id when there is one).
    pub key: String,
}
