//! YARA files split into rules by a real parser, with the metadata the scopes read.

use jiff::Timestamp;

/// A YARA file: its rules, and the rules that could not be used.
#[derive(Clone, Debug, Default)]
pub struct YaraFile {
    /// The file's `import` lines, in file order.
    pub imports: Vec<String>,
    pub rules: Vec<YaraRule>,
    /// Rules (or stretches of text) that were skipped, with the reason.
    pub errors: Vec<YaraError>,
}

/// One rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct YaraRule {
    pub name: String,
    pub private: bool,
    pub global: bool,
    pub tags: Vec<String>,
    /// Meta `description`, else `desc`.
    pub description: Option<String>,
    /// Meta `report`, trimmed.
    pub report: Option<String>,
    /// Meta `last_modified` as written.
    pub last_modified_text: Option<String>,
    /// Meta `last_modified` read with [`crate::formats::dates::parse`].
    pub last_modified: Option<Timestamp>,
    /// The rule's own text, from its first keyword to its closing brace.
    pub text: String,
    /// The indicator pattern: imports, the rules it names, then its own text
    /// (reference/stix-mapping.md "YARA pattern text").
    pub pattern: String,
}

/// A rule that was skipped.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("rule {rule} (line {line}): {reason}")]
pub struct YaraError {
    /// The rule's name, or `<unnamed>` when even that could not be read.
    pub rule: String,
    pub line: usize,
    pub reason: String,
}

/// Splits a YARA file into rules.
pub fn split(text: &str) -> YaraFile {
    let _ = text;
    unimplemented!("formats::yara::split")
}
