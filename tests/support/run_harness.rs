//! Shared set-up of the end-to-end tests of `run` and `demo`: a TIP simulator on loopback
//! in the test's runtime, the real binary run against it in directory mode with a state
//! file, readers for the bundle files and the state it wrote, and the OASIS validator.
//!
//! The binary runs with a cleared environment (PATH and the variables set here only) in a
//! temporary working directory, so no `config.yml` and no variable of the developer's
//! shell reaches it.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};
use std::time::SystemTime;

use connector_kaspersky::simulator::tip::{SimulatorOptions, TipSimulator, World, serve};
use serde_json::Value;
use tempfile::TempDir;

/// The connector binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_connector-kaspersky");

/// The default ignore prefix of `kaspersky.publication_report_ignore_prefixes`.
pub const IGNORE_PREFIX: &str = "Monthly APT activity report";

/// A simulator serving a world, and a working directory for the connector: credentials,
/// `bundles/` and `state.json`.
pub struct RunHarness {
    pub sim: TipSimulator,
    pub dir: TempDir,
    env: BTreeMap<String, String>,
}

impl RunHarness {
    /// Serves `world` and prepares the variables of a directory-mode run: every scope,
    /// both master files on every run, publications since 0, retries capped at 1 s.
    pub async fn start(world: World) -> RunHarness {
        let sim = serve(world, SimulatorOptions::default())
            .await
            .expect("the simulator starts");
        let dir = tempfile::tempdir().expect("temporary directory");
        let files = sim
            .write_credentials(&dir.path().join("credentials"))
            .expect("credentials written");
        let bundles = dir.path().join("bundles");

        let mut env: BTreeMap<String, String> = sim
            .env_vars(&files)
            .into_iter()
            .map(|(key, value)| (key.to_owned(), value))
            .collect();
        for (key, value) in [
            ("CONNECTOR_SEND_TO_QUEUE", "false"),
            ("CONNECTOR_SEND_TO_DIRECTORY", "true"),
            ("CONNECTOR_SEND_TO_DIRECTORY_RETENTION", "0"),
            ("CONNECTOR_LOG_LEVEL", "warn"),
            ("KASPERSKY_MASTER_IOC_FETCH_WEEKDAY", "0"),
            ("KASPERSKY_MASTER_YARA_FETCH_WEEKDAY", "0"),
            ("KASPERSKY_PUBLICATION_START_TIMESTAMP", "0"),
            ("KASPERSKY_RETRY_MAX_DELAY_SEC", "1"),
        ] {
            env.insert(key.to_owned(), value.to_owned());
        }
        env.insert(
            "CONNECTOR_SEND_TO_DIRECTORY_PATH".to_owned(),
            bundles.display().to_string(),
        );
        RunHarness { sim, dir, env }
    }

    /// Sets (or replaces) a variable of the next runs.
    pub fn set(&mut self, key: &str, value: impl ToString) -> &mut Self {
        self.env.insert(key.to_owned(), value.to_string());
        self
    }

    /// Where the bundle files go.
    pub fn bundles_dir(&self) -> PathBuf {
        self.dir.path().join("bundles")
    }

    /// The state file.
    pub fn state_path(&self) -> PathBuf {
        self.dir.path().join("state.json")
    }

    /// Runs `run --once --state-file state.json` and waits for it, off the runtime's
    /// worker threads so that the simulator keeps serving.
    pub async fn run_once(&self) -> RunOutput {
        let mut command = connector(self.dir.path());
        command
            .envs(&self.env)
            .args(["--log-format", "text", "run", "--once", "--state-file"]);
        command.arg(self.state_path());
        output(command).await
    }

    /// Starts `run --once --state-file state.json` without waiting, its output in
    /// `output.log` of the working directory (a pipe nobody reads could fill and stall
    /// the child); read it with [`RunHarness::log`].
    pub fn spawn_once(&self) -> std::process::Child {
        let log = std::fs::File::create(self.dir.path().join("output.log")).expect("log file");
        let mut command = connector(self.dir.path());
        command
            .envs(&self.env)
            .args(["--log-format", "text", "run", "--once", "--state-file"])
            .arg(self.state_path())
            .stdout(log.try_clone().expect("log file"))
            .stderr(log);
        command.spawn().expect("the connector binary starts")
    }

    /// What the child of [`RunHarness::spawn_once`] wrote so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("output.log")).unwrap_or_default()
    }

    /// The state file as JSON (an empty object when there is none).
    pub fn state(&self) -> Value {
        match std::fs::read(self.state_path()) {
            Ok(bytes) => serde_json::from_slice(&bytes).expect("the state file is JSON"),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                Value::Object(Default::default())
            }
            Err(error) => panic!("cannot read the state file: {error}"),
        }
    }

    /// Replaces the state file.
    pub fn write_state(&self, state: &Value) {
        std::fs::write(self.state_path(), state.to_string()).expect("state file written");
    }

    /// A time key of the state, as Unix seconds.
    pub fn state_seconds(&self, key: &str) -> Option<i64> {
        self.state().get(key).and_then(Value::as_i64)
    }

    /// Every bundle file written so far, by file name.
    pub fn bundles(&self) -> BTreeMap<String, Value> {
        read_bundles(&self.bundles_dir())
    }

    /// Every bundle file with its modification time and bytes, to tell files rewritten
    /// from files left alone.
    pub fn snapshot(&self) -> BTreeMap<String, (SystemTime, Vec<u8>)> {
        json_files(&self.bundles_dir())
            .into_iter()
            .map(|path| {
                let modified = std::fs::metadata(&path)
                    .and_then(|m| m.modified())
                    .expect("bundle file metadata");
                let bytes = std::fs::read(&path).expect("bundle file read");
                (file_name(&path), (modified, bytes))
            })
            .collect()
    }
}

/// Panics unless `after` holds the same files as `before`, none rewritten.
pub fn assert_untouched(
    before: &BTreeMap<String, (SystemTime, Vec<u8>)>,
    after: &BTreeMap<String, (SystemTime, Vec<u8>)>,
) {
    let names = |files: &BTreeMap<String, (SystemTime, Vec<u8>)>| -> Vec<String> {
        files.keys().cloned().collect()
    };
    assert_eq!(names(after), names(before), "the same bundle files");
    for (name, (modified, bytes)) in before {
        let (modified_after, bytes_after) = &after[name];
        assert!(
            modified_after == modified && bytes_after == bytes,
            "{name} was written again"
        );
    }
}

/// What a finished child process said.
#[derive(Debug)]
pub struct RunOutput {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl RunOutput {
    /// Panics, showing both streams, unless the process exited 0.
    pub fn assert_success(&self) -> &Self {
        assert!(
            self.status.success(),
            "expected success, got {}\n--- stdout\n{}\n--- stderr\n{}",
            self.status,
            self.stdout,
            self.stderr
        );
        self
    }

    /// Panics, showing both streams, when the process exited 0.
    pub fn assert_failure(&self) -> &Self {
        assert!(
            !self.status.success(),
            "expected a failure exit status\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout,
            self.stderr
        );
        self
    }
}

/// The connector binary with a cleared environment (PATH kept) working in `dir`.
pub fn connector(dir: &Path) -> Command {
    let mut command = Command::new(BIN);
    command.env_clear().current_dir(dir);
    if let Some(path) = std::env::var_os("PATH") {
        command.env("PATH", path);
    }
    command
}

/// Runs `command` to its end on a blocking thread.
pub async fn output(mut command: Command) -> RunOutput {
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .expect("the blocking task finishes")
        .expect("the connector binary starts");
    RunOutput {
        status: output.status,
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// The `*.json` files of a directory (none when it does not exist), sorted.
pub fn json_files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .expect("a file name")
        .to_string_lossy()
        .into_owned()
}

/// Every bundle file of a directory, parsed, by file name.
pub fn read_bundles(dir: &Path) -> BTreeMap<String, Value> {
    json_files(dir)
        .into_iter()
        .map(|path| {
            let bytes = std::fs::read(&path).expect("bundle file read");
            let bundle: Value = serde_json::from_slice(&bytes)
                .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()));
            assert_eq!(bundle["type"], "bundle", "{}", path.display());
            (file_name(&path), bundle)
        })
        .collect()
}

/// The bundles whose file name starts with `<scope>-`.
pub fn of_scope<'a>(
    bundles: &'a BTreeMap<String, Value>,
    scope: &str,
) -> BTreeMap<&'a str, &'a Value> {
    let prefix = format!("{scope}-");
    bundles
        .iter()
        .filter(|(name, _)| name.starts_with(&prefix))
        .map(|(name, bundle)| (name.as_str(), bundle))
        .collect()
}

/// The objects of a bundle of one STIX type.
pub fn objects<'a>(bundle: &'a Value, kind: &str) -> Vec<&'a Value> {
    bundle["objects"]
        .as_array()
        .expect("a bundle has objects")
        .iter()
        .filter(|object| object["type"] == kind)
        .collect()
}

/// The one report of a bundle.
pub fn report(bundle: &Value) -> &Value {
    let reports = objects(bundle, "report");
    assert_eq!(reports.len(), 1, "one report per bundle: {bundle}");
    reports[0]
}

/// The `updated` time of a publication's metadata as Unix seconds (integer, float,
/// numeric string or RFC 3339), read independently of the connector's own parser.
pub fn unix_seconds(value: &Value) -> i64 {
    match value {
        Value::Number(n) => n.as_f64().expect("a finite number") as i64,
        Value::String(text) => match text.trim().parse::<f64>() {
            Ok(seconds) => seconds as i64,
            Err(_) => text
                .parse::<jiff::Timestamp>()
                .unwrap_or_else(|e| panic!("{text:?} is no RFC 3339 time: {e}"))
                .as_second(),
        },
        other => panic!("{other} is not a time"),
    }
}

/// Runs the OASIS STIX 2.1 validator (`.venv/bin/stix2_validator`, installed by
/// `scripts/test`) over every bundle file under `dir`, and fails on any error.
///
/// Without `.venv` it says the check was skipped, except under `CI=true`, where it fails.
pub fn validate_dir(dir: &Path) {
    let validator = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/stix2_validator");
    if !validator.exists() {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!(
                "CI=true and no {}: scripts/test installs it",
                validator.display()
            );
        }
        eprintln!("skipped: no .venv (run scripts/test)");
        return;
    }
    assert!(
        !json_files(dir).is_empty(),
        "no bundle file to validate in {}",
        dir.display()
    );

    let output = Command::new(&validator)
        .args(["-r", "--version", "2.1"])
        .arg(dir)
        .output()
        .expect("the validator runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let errors: Vec<&str> = text.lines().filter(|line| line.contains("[X]")).collect();
    assert!(
        output.status.success() && errors.is_empty(),
        "the OASIS validator rejects bundles in {} (exit {}):\n{}",
        dir.display(),
        output.status,
        if errors.is_empty() {
            text.clone()
        } else {
            errors.join("\n")
        }
    );
}
