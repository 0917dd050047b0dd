//! The OASIS STIX pattern validator (`stix2-patterns`, which `scripts/test` installs into
//! `.venv`), run once per batch of patterns; `validator.rs` has the bundle validator.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// `.venv/bin/<name>` under the crate, or `None` after saying the test was skipped.
///
/// # Panics
///
/// When the program is missing and `CI` is `true`: CI always prepares `.venv`.
pub fn venv_program(name: &str) -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(".venv/bin")
        .join(name);
    if path.exists() {
        return Some(path);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{} is missing, and CI must have it", path.display());
    }
    eprintln!("skipped: no .venv (run scripts/test)");
    None
}

/// Reads each pattern with `stix2-patterns` (STIX 2.1 grammar), in one Python process.
const PATTERN_CHECKER: &str = r#"
import json, re, sys
from stix2patterns.validator import run_validator
from stix2patterns.v21.pattern import Pattern

def unescape(literal):
    return re.sub(r"\\(.)", lambda m: m.group(1), literal[1:-1], flags=re.S)

for line in sys.stdin.buffer:
    pattern = json.loads(line)
    errors = run_validator(pattern, stix_version="2.1")
    values = []
    if not errors:
        try:
            for comparisons in Pattern(pattern).inspect().comparisons.values():
                values.extend(unescape(c[2]) for c in comparisons)
        except Exception as error:
            errors = ["inspect: %s" % error]
    print(json.dumps({"errors": errors, "values": values}))
"#;

/// What the pattern validator said about one pattern.
#[derive(Debug, serde::Deserialize)]
pub struct PatternVerdict {
    /// The validator's messages; empty when the pattern is valid.
    pub errors: Vec<String>,
    /// The string value of each comparison, unescaped.
    pub values: Vec<String>,
}

/// Validates every pattern in one run of `python`, in order.
pub fn check_patterns(python: &Path, patterns: &[String]) -> Vec<PatternVerdict> {
    let mut child = Command::new(python)
        .args(["-c", PATTERN_CHECKER])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the pattern checker");

    let mut input = Vec::new();
    for pattern in patterns {
        serde_json::to_writer(&mut input, pattern).unwrap();
        input.push(b'\n');
    }
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(output.status.success(), "the pattern checker failed");

    let verdicts: Vec<PatternVerdict> = output
        .stdout
        .split(|&b| b == b'\n')
        .filter(|line| !line.is_empty())
        .map(|line| serde_json::from_slice(line).unwrap())
        .collect();
    assert_eq!(verdicts.len(), patterns.len(), "one verdict per pattern");
    verdicts
}
