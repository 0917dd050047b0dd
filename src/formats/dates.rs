//! One lenient date parser for every date form seen in Kaspersky data.

use jiff::Timestamp;

/// Parses a date or date-time in any of the forms of DESIGN.md difference 5, as UTC.
///
/// Returns `None` for blanks, `-` and anything unreadable.
pub fn parse(text: &str) -> Option<Timestamp> {
    let _ = text;
    unimplemented!("formats::dates::parse")
}
