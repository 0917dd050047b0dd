//! The Master IoC CSV: one row per IoC, grouped by publication name.

use std::borrow::Cow;

use jiff::Timestamp;

/// One row of the Master IoC file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MasterIocRow<'a> {
    /// The 1-based line number in the file, for messages.
    pub line: u64,
    pub uid: Cow<'a, str>,
    /// The publication *name*; rows of one name form one group.
    pub publication: Cow<'a, str>,
    pub indicator: Cow<'a, str>,
    /// The detection date (`YYYY-MM-DD`), at midnight UTC.
    pub detection_date: Timestamp,
    /// `md5Hash`, `sha1Hash`, `sha256Hash`, `networkActivity`, or another kind.
    pub indicator_type: Cow<'a, str>,
}

/// A row that was skipped, and why.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct RowError {
    pub line: u64,
    pub reason: String,
}

/// The rows of a Master IoC CSV, in file order; a broken row is an `Err` and the
/// iteration goes on.
pub fn rows(text: &str) -> impl Iterator<Item = Result<MasterIocRow<'_>, RowError>> + '_ {
    let _ = text;
    std::iter::from_fn(|| unimplemented!("formats::master_ioc::rows"))
}
