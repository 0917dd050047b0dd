//! Why the configuration was refused: one line that names the setting and what is allowed.

use std::path::PathBuf;

/// A configuration problem; the program stops on it before doing any work.
///
/// Every message is a single line naming the setting by YAML path and environment
/// variable. Secret values are shown as `<hidden>`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The configuration file could not be read.
    #[error("cannot read configuration file {}: {cause}", path.display())]
    Read {
        path: PathBuf,
        cause: std::io::Error,
    },

    /// The configuration file is not YAML of the expected shape.
    #[error("cannot parse configuration file {}: {message}", path.display())]
    Parse { path: PathBuf, message: String },

    /// A value that the setting's kind does not accept.
    #[error("invalid value for {path} ({env}): {value} - allowed: {allowed}")]
    Invalid {
        path: &'static str,
        env: &'static str,
        /// The value as given, quoted, or `<hidden>` for a secret.
        value: String,
        allowed: String,
    },

    /// A setting that must have a value here and has none.
    #[error("missing value for {path} ({env}): {reason}")]
    Missing {
        path: &'static str,
        env: &'static str,
        reason: &'static str,
    },

    /// Settings that are valid one by one but not together.
    #[error("conflicting settings: {0}")]
    Conflict(&'static str),
}
