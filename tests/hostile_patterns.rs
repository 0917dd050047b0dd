//! Any string, escaped into a STIX pattern, is a pattern the OASIS validator accepts and
//! that carries the string back unchanged (issue 6, part 4).
//!
//! The validator is Python (`stix2-patterns` in `.venv`, installed by `scripts/test`), so
//! each proptest case is a batch of strings checked by one Python process.

#[path = "support/oasis.rs"]
mod oasis;

use connector_kaspersky::stix::pattern::equality;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

/// Object paths our builders write with a free-text value; hashes are left out because
/// the validator checks their form.
const PATHS: &[&str] = &[
    "url:value",
    "domain-name:value",
    "file:name",
    "email-addr:value",
    "windows-registry-key:key",
    "process:command_line",
];

/// Characters that a pattern literal could trip on, mixed with plain ones.
fn hostile_char() -> impl Strategy<Value = char> {
    prop_oneof![
        3 => prop::sample::select(vec![
            '\'', '\\', '"', '\n', '\r', '\t', '\0', '\u{1}', '\u{1b}', '\u{7f}', '\u{85}',
            '[', ']', '=', ' ', 'é', 'ß', '中', 'ж', '\u{200b}', '\u{200f}', '\u{2028}',
            '\u{feff}', '\u{fffd}', '😀', '👩', '\u{200d}', '💻', '\u{10ffff}',
        ]),
        2 => prop::char::range('a', 'z'),
        1 => any::<char>(),
    ]
}

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::collection::vec(hostile_char(), 0..24).prop_map(String::from_iter),
        1 => any::<String>(),
        1 => Just("'] OR [file:name = 'x".to_owned()),
        1 => Just("\\'\\\\'".to_owned()),
    ]
}

/// The values that failed, with what the validator said; empty when all passed.
fn failures(python: &std::path::Path, values: &[String]) -> Vec<String> {
    let patterns: Vec<String> = values
        .iter()
        .enumerate()
        .map(|(i, v)| equality(PATHS[i % PATHS.len()], v))
        .collect();
    let verdicts = oasis::check_patterns(python, &patterns);

    let mut failed = Vec::new();
    for ((value, pattern), verdict) in values.iter().zip(&patterns).zip(verdicts) {
        if !verdict.errors.is_empty() {
            failed.push(format!("{pattern:?} refused: {:?}", verdict.errors));
        } else if verdict.values != [value.clone()] {
            failed.push(format!("{value:?} came back as {:?}", verdict.values));
        }
    }
    failed
}

#[test]
fn every_string_escapes_into_a_valid_pattern_that_round_trips() {
    let Some(python) = oasis::venv_program("python") else {
        return;
    };

    let fixed: Vec<String> = [
        "",
        "'",
        "\\",
        "\\'",
        "''",
        "a'b\\c",
        "line\nbreak\r\n",
        "nul\0byte",
        "\u{1}\u{2}\u{1f}\u{7f}",
        "ключ",
        "😀👩\u{200d}💻",
        "trailing backslash\\",
        "' AND [x:y = 'z'] OR '",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    let failed = failures(&python, &fixed);
    assert!(failed.is_empty(), "{failed:#?}");

    // Each case is one batch (one Python process); shrinking narrows a failing batch
    // down to the one string that breaks it.
    let mut runner = TestRunner::new(Config {
        cases: 32,
        ..Config::default()
    });
    let batch = prop::collection::vec(value(), 1..250);
    let result = runner.run(&batch, |values| {
        let failed = failures(&python, &values);
        prop_assert!(failed.is_empty(), "{:#?}", failed);
        Ok(())
    });
    if let Err(error) = result {
        panic!("{error}");
    }
}
