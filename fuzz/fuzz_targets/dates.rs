//! The lenient date parser.
//!
//! Checks: a parsed date lies within years 1900..=9999; blanks around the text change
//! nothing; a parsed date written back as RFC 3339 parses to itself; wrapping the text in
//! a one-element list literal changes nothing.

#![no_main]

use connector_kaspersky::formats::dates;
use jiff::tz::Offset;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let parsed = dates::parse(text);

    assert_eq!(
        dates::parse(&format!(" \t{text}\n ")),
        parsed,
        "blanks around {text:?}"
    );

    let Some(timestamp) = parsed else {
        return;
    };
    let year = Offset::UTC.to_datetime(timestamp).year();
    assert!(
        (1900..=9999).contains(&year),
        "{text:?} read as year {year}"
    );

    assert_eq!(dates::parse(&timestamp.to_string()), Some(timestamp));

    let trimmed = text.trim();
    if !trimmed.starts_with('[') && !trimmed.contains('\'') {
        assert_eq!(
            dates::parse(&format!("['{trimmed}']")),
            parsed,
            "list of {text:?}"
        );
    }
});
