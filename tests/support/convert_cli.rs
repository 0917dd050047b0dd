//! Running `connector-kaspersky convert` as a user does, for the `convert_*` tests.
//!
//! The child gets an empty environment (plus `PATH`) and a fresh working directory, so
//! neither the test machine's variables nor a `config.yml` lying around can change what
//! it does; a test adds the variables it means to set.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine;
use serde_json::Value;

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_connector-kaspersky");

/// The `--now` every test passes, so that outputs compare byte for byte.
pub const NOW: &str = "2025-03-04T05:06:07Z";

/// `tests/data/convert/<name>`: the fictional fixtures of these tests.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/convert")
        .join(name)
}

/// One `convert` invocation being put together.
#[derive(Clone, Debug)]
pub struct Convert {
    kind: String,
    file: PathBuf,
    out: Option<PathBuf>,
    now: Option<String>,
    env: Vec<(String, String)>,
}

/// `convert KIND FILE`, with `--now` set to [`NOW`].
pub fn convert(kind: &str, file: &Path) -> Convert {
    Convert {
        kind: kind.to_owned(),
        file: file.to_path_buf(),
        out: None,
        now: Some(NOW.to_owned()),
        env: Vec::new(),
    }
}

impl Convert {
    /// `--out DIR`.
    pub fn out(mut self, dir: &Path) -> Self {
        self.out = Some(dir.to_path_buf());
        self
    }

    /// `--now TIME`, or no `--now` at all with `None`.
    pub fn now(mut self, now: Option<&str>) -> Self {
        self.now = now.map(str::to_owned);
        self
    }

    /// One environment variable of the child.
    pub fn env(mut self, name: &str, value: &str) -> Self {
        self.env.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Runs the command to completion.
    pub fn run(&self) -> Outcome {
        let cwd = tempfile::tempdir().unwrap();
        let mut command = Command::new(BIN);
        command.env_clear().current_dir(cwd.path());
        if let Some(path) = std::env::var_os("PATH") {
            command.env("PATH", path);
        }
        command.envs(self.env.iter().map(|(k, v)| (k, v)));
        command.arg("convert").arg(&self.kind).arg(&self.file);
        if let Some(out) = &self.out {
            command.arg("--out").arg(out);
        }
        if let Some(now) = &self.now {
            command.arg("--now").arg(now);
        }
        let output = command
            .output()
            .unwrap_or_else(|e| panic!("cannot start {BIN}: {e}"));
        Outcome {
            command: format!("{self}"),
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Runs the command and asserts it exits 0.
    pub fn success(&self) -> Outcome {
        let outcome = self.run();
        assert_eq!(outcome.code, Some(0), "{outcome}");
        outcome
    }
}

impl std::fmt::Display for Convert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (name, value) in &self.env {
            write!(f, "{name}={value} ")?;
        }
        write!(f, "convert {} {}", self.kind, self.file.display())?;
        if let Some(out) = &self.out {
            write!(f, " --out {}", out.display())?;
        }
        if let Some(now) = &self.now {
            write!(f, " --now {now}")?;
        }
        Ok(())
    }
}

/// What a finished `convert` did.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// The command line, for failure messages.
    pub command: String,
    /// The exit code (`None` when killed by a signal).
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}\nexit code: {:?}\nstderr:\n{}\nstdout ({} bytes)",
            self.command,
            self.code,
            self.stderr,
            self.stdout.len()
        )
    }
}

impl Outcome {
    /// Standard output read as one bundle per line.
    ///
    /// # Panics
    ///
    /// When a line is not a JSON bundle.
    pub fn bundles(&self) -> Vec<Value> {
        self.stdout
            .lines()
            .enumerate()
            .map(|(n, line)| {
                let bundle: Value = serde_json::from_str(line).unwrap_or_else(|e| {
                    panic!("stdout line {} is not JSON ({e}): {}", n + 1, self.command)
                });
                assert_eq!(bundle["type"], "bundle", "stdout line {}", n + 1);
                bundle
            })
            .collect()
    }

    /// Every object of every bundle on standard output.
    pub fn objects(&self) -> Vec<Value> {
        self.bundles().iter().flat_map(objects_of).collect()
    }

    /// The non-empty lines of standard error.
    pub fn stderr_lines(&self) -> Vec<&str> {
        self.stderr
            .lines()
            .filter(|l| !l.trim().is_empty())
            .collect()
    }

    /// The summary's `bundles: N`.
    pub fn summary_bundles(&self) -> usize {
        self.stderr
            .lines()
            .find_map(|l| l.strip_prefix("bundles: "))
            .unwrap_or_else(|| panic!("no \"bundles:\" line in the summary\n{self}"))
            .trim()
            .parse()
            .unwrap()
    }

    /// The summary's objects by type (the indented lines after `objects: N`).
    pub fn summary_objects(&self) -> BTreeMap<String, usize> {
        let mut lines = self
            .stderr
            .lines()
            .skip_while(|l| !l.starts_with("objects: "));
        let total: usize = lines
            .next()
            .unwrap_or_else(|| panic!("no \"objects:\" line in the summary\n{self}"))
            .trim_start_matches("objects: ")
            .trim()
            .parse()
            .unwrap();
        let by_type: BTreeMap<String, usize> = lines
            .take_while(|l| l.starts_with("  "))
            .map(|l| {
                let (kind, n) = l.trim().split_once(char::is_whitespace).unwrap();
                (kind.to_owned(), n.trim().parse().unwrap())
            })
            .collect();
        assert_eq!(
            by_type.values().sum::<usize>(),
            total,
            "objects by type\n{self}"
        );
        by_type
    }
}

/// The objects of one bundle.
pub fn objects_of(bundle: &Value) -> Vec<Value> {
    bundle["objects"]
        .as_array()
        .unwrap_or_else(|| panic!("a bundle without objects: {bundle}"))
        .clone()
}

/// Objects counted by `type`.
pub fn count_types<'a>(objects: impl IntoIterator<Item = &'a Value>) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for object in objects {
        *counts.entry(stix_type(object).to_owned()).or_default() += 1;
    }
    counts
}

/// An object's `type`.
pub fn stix_type(object: &Value) -> &str {
    object["type"].as_str().unwrap_or_default()
}

/// Whether a STIX type is an observable (a cyber-observable object) this connector makes.
pub fn is_observable(stix_type: &str) -> bool {
    matches!(
        stix_type,
        "ipv4-addr"
            | "ipv6-addr"
            | "domain-name"
            | "hostname"
            | "email-addr"
            | "email-message"
            | "url"
            | "file"
            | "mutex"
            | "process"
            | "x509-certificate"
            | "user-agent"
    )
}

/// The bundle files `--out` wrote into `dir` (not recursive), sorted by name.
pub fn bundle_files(dir: &Path) -> Vec<(PathBuf, Value)> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let bytes = std::fs::read(&path).unwrap();
            let bundle: Value = serde_json::from_slice(&bytes)
                .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()));
            (path, bundle)
        })
        .collect()
}

/// Writes the fixture publication as a `get_one` response body into `dir`: the bare
/// metadata of `publication.json` plus `iocs.ioc` and `rules.yar` as base64 of gzip,
/// the way the TIP sends files. `edit` may change the publication object first.
pub fn publication_body(dir: &Path, edit: impl FnOnce(&mut Value)) -> PathBuf {
    let text = std::fs::read_to_string(fixture("publication.json")).unwrap();
    let mut publication: Value = serde_json::from_str(&text).unwrap();
    publication["report_iocs"] = payload(&std::fs::read(fixture("iocs.ioc")).unwrap()).into();
    publication["report_yara"] = payload(&std::fs::read(fixture("rules.yar")).unwrap()).into();
    edit(&mut publication);
    let body = serde_json::json!({"status": "ok", "return_data": publication});
    let path = dir.join("get_one-fixture.json");
    std::fs::write(&path, serde_json::to_vec(&body).unwrap()).unwrap();
    path
}

/// Base64 of the gzip of `bytes`.
pub fn payload(bytes: &[u8]) -> String {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    base64::engine::general_purpose::STANDARD.encode(encoder.finish().unwrap())
}
