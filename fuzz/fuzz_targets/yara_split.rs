//! The YARA splitter (and, built with `--features yara-validate`, boreal's compile of
//! every rule).
//!
//! Checks: every rule's `text` is in the input, starts on the rule's `line` with `rule`,
//! `private` or `global`, ends with `}` and names the rule; its `pattern` starts with the
//! file's imports and an empty line and ends with the text and `\n`; imports name each
//! module once; error lines lie within the file and are sorted; `last_modified` lies
//! within years 1900..=9999.

#![no_main]

use std::collections::HashSet;

use connector_kaspersky::formats::yara;
use jiff::tz::Offset;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let lines = text.matches('\n').count() + 1;
    let file = yara::split(text);

    let mut seen = HashSet::new();
    for import in &file.imports {
        assert!(
            text.contains(import.as_str()),
            "import {import:?} not in the input"
        );
        assert!(seen.insert(import), "import {import:?} twice");
    }
    let head: String = file
        .imports
        .iter()
        .map(|i| format!("{i}\n"))
        .collect::<String>()
        + "\n";

    for rule in &file.rules {
        assert!(
            rule.line >= 1 && rule.line <= lines,
            "line {} of {lines}",
            rule.line
        );
        assert!(
            text.match_indices(rule.text.as_str())
                .any(|(at, _)| text[..at].matches('\n').count() + 1 == rule.line),
            "rule {} text not found on its line {}",
            rule.name,
            rule.line
        );
        assert!(
            ["rule", "private", "global"]
                .iter()
                .any(|kw| rule.text.starts_with(kw)),
            "{:?}",
            rule.text
        );
        assert!(rule.text.ends_with('}'), "{:?}", rule.text);
        assert!(rule.text.contains(rule.name.as_str()));
        assert!(rule.pattern.starts_with(&head));
        assert!(rule.pattern.ends_with(&format!("{}\n", rule.text)));
        if let Some(date) = rule.last_modified {
            let year = Offset::UTC.to_datetime(date).year();
            assert!((1900..=9999).contains(&year), "year {year}");
        }
    }

    for error in &file.errors {
        assert!(
            error.line >= 1 && error.line <= lines,
            "error line {}",
            error.line
        );
    }
    assert!(file.errors.windows(2).all(|w| w[0].line <= w[1].line));
});
