//! The OASIS STIX 2.1 validator as a test oracle: every bundle the connector writes must
//! pass it. Errors fail a test; warnings are allowed (default, non-strict mode).
//!
//! `scripts/test` installs the validator (PyPI `stix2-validator`) into `.venv` in the
//! project directory. Without that `.venv` a check says "skipped" and passes, except under
//! `CI=true`, where it fails: CI always prepares the virtual environment.
//!
//! One validator process checks a whole directory tree (`-r`), because starting Python
//! costs far more than validating a bundle.

#![allow(dead_code)]

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// One error the validator reported (a `[X]` line).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// The file the validator was reading, as it printed it.
    pub file: String,
    /// The error text after `[X] `.
    pub message: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.file, self.message)
    }
}

/// What one validator run said.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// Every file the validator reported on, in its order.
    pub files: Vec<String>,
    /// Files it called invalid (`[X] STIX JSON: Invalid`).
    pub invalid_files: Vec<String>,
    /// Every error, in its order.
    pub errors: Vec<Finding>,
    /// How many warnings it printed (allowed; counted for the curious).
    pub warnings: usize,
}

impl Report {
    /// The errors, one per line, for a failure message.
    pub fn error_lines(&self) -> String {
        self.errors
            .iter()
            .map(|finding| format!("  {finding}\n"))
            .collect()
    }
}

/// `.venv/bin/stix2_validator` of this project, or `None` (after printing "skipped") when
/// it has not been installed.
///
/// # Panics
///
/// Under `CI=true` when the validator is missing.
pub fn validator() -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/stix2_validator");
    if path.is_file() {
        return Some(path);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!(
            "{} is missing under CI=true (scripts/test installs it)",
            path.display()
        );
    }
    eprintln!("skipped: no .venv (run scripts/test)");
    None
}

/// Runs the validator once over every `.json` file under `dir`; `None` when skipped.
///
/// # Panics
///
/// When the validator cannot be started, or exits non-zero without printing a single
/// error (it crashed, or its output format changed and this parser no longer reads it).
pub fn check_dir(dir: &Path) -> Option<Report> {
    let validator = validator()?;
    let output = Command::new(&validator)
        .args(["-r", "--version", "2.1"])
        .arg(dir)
        .output()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", validator.display()));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let report = parse(&format!("{stdout}\n{stderr}"));
    if !output.status.success() && report.errors.is_empty() {
        panic!(
            "the validator failed ({}) without reporting an error\nstdout:\n{stdout}\n\
             stderr:\n{stderr}",
            output.status
        );
    }
    Some(report)
}

/// Asserts that every `.json` file under `dir` passes the validator, listing every error
/// on failure; returns the report, or `None` when skipped.
///
/// # Panics
///
/// On any error, when the directory holds no `.json` file (validating nothing proves
/// nothing), or when the validator did not report on every file.
pub fn assert_valid_dir(dir: &Path) -> Option<Report> {
    let expected = json_files(dir);
    assert!(
        !expected.is_empty(),
        "{} holds no .json file to validate",
        dir.display()
    );
    let report = check_dir(dir)?;
    assert!(
        report.errors.is_empty() && report.invalid_files.is_empty(),
        "the STIX validator found {} error(s) in {} of {} file(s):\n{}",
        report.errors.len(),
        report.invalid_files.len(),
        report.files.len(),
        report.error_lines()
    );
    let seen: BTreeSet<PathBuf> = report.files.iter().map(PathBuf::from).collect();
    let unseen: Vec<&PathBuf> = expected.iter().filter(|f| !seen.contains(*f)).collect();
    assert!(
        unseen.is_empty(),
        "the validator did not report on {unseen:?} (it reported on {:?})",
        report.files
    );
    Some(report)
}

/// Reads the validator's printed results.
///
/// The lines that matter: `[-] Results for: FILE` opens a file, `[X] STIX JSON: Invalid`
/// marks it invalid, any other `[X] ...` is an error of that file, `[!] Warning: ...` is a
/// warning. Colour escapes, when present, are ignored.
pub fn parse(output: &str) -> Report {
    let mut report = Report::default();
    let mut current = String::new();
    for raw in output.lines() {
        let line = strip_ansi(raw);
        let line = line.trim();
        if let Some(file) = line.strip_prefix("[-] Results for:") {
            current = file.trim().to_owned();
            report.files.push(current.clone());
        } else if line == "[X] STIX JSON: Invalid" {
            report.invalid_files.push(current.clone());
        } else if let Some(message) = line.strip_prefix("[X]") {
            report.errors.push(Finding {
                file: current.clone(),
                message: message.trim().to_owned(),
            });
        } else if line.starts_with("[!]") {
            report.warnings += 1;
        }
    }
    for file in &report.invalid_files {
        if !report.errors.iter().any(|finding| &finding.file == file) {
            report.errors.push(Finding {
                file: file.clone(),
                message: "invalid (the validator gave no detail)".into(),
            });
        }
    }
    report
}

/// Removes terminal colour sequences (`ESC [ ... m`).
fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for next in chars.by_ref() {
                if next.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Every `.json` file under `dir`, as the validator names them (the joined path).
fn json_files(dir: &Path) -> BTreeSet<PathBuf> {
    let mut found = BTreeSet::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(next) = stack.pop() {
        for entry in std::fs::read_dir(&next).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "json") {
                found.insert(path);
            }
        }
    }
    found
}
