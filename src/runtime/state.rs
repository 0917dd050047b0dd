//! The connector state: one JSON object shared with the Python connector.
//!
//! The Python connector reads and writes four keys of Unix seconds; we read the same keys
//! in any shape they may have been written (integer, float, numeric string, ISO text), write
//! integers, and keep every other key as it was, so a state can move between the two
//! connectors in either direction.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use serde_json::{Map, Value};

/// The time of the last run.
pub const LATEST_RUN: &str = "latest_run_timestamp";
/// The newest `updated` among delivered publications: the publication cursor.
pub const LATEST_PUBLICATION: &str = "latest_publication_timestamp";
/// When the Master IoC file was last fetched and fully delivered.
pub const LATEST_MASTER_IOC: &str = "latest_master_ioc_timestamp";
/// When the Master YARA file was last fetched and fully delivered.
pub const LATEST_MASTER_YARA: &str = "latest_master_yara_timestamp";
/// The keys read as times.
pub const TIME_KEYS: [&str; 4] = [
    LATEST_RUN,
    LATEST_PUBLICATION,
    LATEST_MASTER_IOC,
    LATEST_MASTER_YARA,
];

/// A time key whose value is no time we can read.
///
/// Read as "no value", it would restart that scope from the beginning and re-import
/// everything without a word; so it stops the run instead, and the state is left as it
/// is for the user to fix the value or delete the key.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error(
    "state key {key} holds {value}, which is not a timestamp (Unix seconds or a date): \
     fix the value or delete the key"
)]
pub struct BadTimestamp {
    pub key: &'static str,
    /// The value as JSON.
    pub value: String,
}

/// The connector state.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct State {
    values: Map<String, Value>,
}

impl State {
    /// An empty state: everything will be fetched.
    pub fn new() -> Self {
        State::default()
    }

    /// Reads a state from its JSON text; anything but a non-empty object is "no state",
    /// as pycti's `get_state` has it.
    pub fn from_json(text: &str) -> Self {
        match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(values)) => State { values },
            _ => State::default(),
        }
    }

    /// The state as a JSON object.
    pub fn to_value(&self) -> Value {
        Value::Object(self.values.clone())
    }

    /// True when the state holds no key.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// A time key, whatever shape it was written in; `None` when absent, `null`, or not
    /// readable (which [`State::check_timestamps`] reports).
    pub fn timestamp(&self, key: &str) -> Option<Timestamp> {
        read_timestamp(self.values.get(key)?)
    }

    /// Checks that every key of [`TIME_KEYS`] that has a value holds a readable time.
    ///
    /// # Errors
    ///
    /// [`BadTimestamp`] for the first key that does not.
    pub fn check_timestamps(&self) -> Result<(), BadTimestamp> {
        for key in TIME_KEYS {
            match self.values.get(key) {
                None | Some(Value::Null) => {}
                Some(value) if read_timestamp(value).is_some() => {}
                Some(value) => {
                    return Err(BadTimestamp {
                        key,
                        value: value.to_string(),
                    });
                }
            }
        }
        Ok(())
    }

    /// Sets a time key, as integer Unix seconds.
    pub fn set_timestamp(&mut self, key: &str, timestamp: Timestamp) {
        self.values
            .insert(key.to_owned(), Value::from(timestamp.as_second()));
    }

    /// Any key.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.values.get(key)
    }

    /// Sets any key.
    pub fn set(&mut self, key: &str, value: Value) {
        self.values.insert(key.to_owned(), value);
    }

    /// Copies every key of `other` into this state; a `null` in `other` removes the key.
    pub fn merge(&mut self, other: State) {
        for (key, value) in other.values {
            if value.is_null() {
                self.values.remove(&key);
            } else {
                self.values.insert(key, value);
            }
        }
    }

    /// The state as a JSON object map.
    pub fn as_map(&self) -> &Map<String, Value> {
        &self.values
    }

    /// A state holding these keys.
    pub fn from_map(values: Map<String, Value>) -> Self {
        State { values }
    }
}

/// A time in any shape the Python connector or a person may have written it: Unix
/// seconds as a number or numeric text (fractions dropped), or a date.
fn read_timestamp(value: &Value) -> Option<Timestamp> {
    let seconds = |f: f64| f.is_finite().then_some(f as i64);
    match value {
        Value::Number(n) => {
            let seconds = n.as_i64().or_else(|| n.as_f64().and_then(seconds))?;
            Timestamp::from_second(seconds).ok()
        }
        Value::String(text) => {
            let text = text.trim();
            match text.parse::<f64>() {
                Ok(value) => Timestamp::from_second(seconds(value)?).ok(),
                Err(_) => crate::formats::dates::parse(text),
            }
        }
        _ => None,
    }
}

/// A state kept in a JSON file (`run --state-file`, directory mode).
#[derive(Clone, Debug)]
pub struct StateFile {
    path: PathBuf,
}

/// A failure to read or write the state file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StateFileError {
    #[error("cannot read the state file {path}: {source}")]
    Read { path: PathBuf, source: io::Error },
    #[error("the state file {path} is not a JSON object: {reason}")]
    Malformed { path: PathBuf, reason: String },
    #[error("cannot write the state file {path}: {source}")]
    Write { path: PathBuf, source: io::Error },
    #[error("the state file {path}: {source}")]
    BadTimestamp { path: PathBuf, source: BadTimestamp },
}

impl StateFile {
    /// A state file at `path` (it need not exist yet).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        StateFile { path: path.into() }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Loads the state; a missing or empty file is an empty state.
    ///
    /// A file that is not JSON, or whose time key is not a time ([`BadTimestamp`]), is an
    /// error rather than an empty state: starting over would silently re-import
    /// everything.
    pub fn load(&self) -> Result<State, StateFileError> {
        let text = match fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(State::new()),
            Err(source) => {
                return Err(StateFileError::Read {
                    path: self.path.clone(),
                    source,
                });
            }
        };
        if text.trim().is_empty() {
            return Ok(State::new());
        }
        match serde_json::from_str::<Value>(&text) {
            Ok(Value::Object(values)) => {
                let state = State { values };
                state
                    .check_timestamps()
                    .map_err(|source| StateFileError::BadTimestamp {
                        path: self.path.clone(),
                        source,
                    })?;
                Ok(state)
            }
            Ok(Value::Null) => Ok(State::new()),
            Ok(_) => Err(StateFileError::Malformed {
                path: self.path.clone(),
                reason: "not an object".into(),
            }),
            Err(e) => Err(StateFileError::Malformed {
                path: self.path.clone(),
                reason: e.to_string(),
            }),
        }
    }

    /// Stores the state atomically: a temporary file, synced, then renamed over the old one.
    pub fn store(&self, state: &State) -> Result<(), StateFileError> {
        let error = |source| StateFileError::Write {
            path: self.path.clone(),
            source,
        };
        let file_name = self
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned());
        let temporary = self
            .path
            .with_file_name(format!(".{}.tmp", file_name.unwrap_or_default()));
        let text = serde_json::to_vec(&state.to_value())
            .map_err(io::Error::other)
            .map_err(error)?;
        let written = fs::File::create(&temporary).and_then(|mut file| {
            file.write_all(&text)?;
            file.sync_all()
        });
        if let Err(source) = written.and_then(|()| fs::rename(&temporary, &self.path)) {
            let _ = fs::remove_file(&temporary);
            return Err(error(source));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_python_connectors_state_is_read_and_kept() {
        let state = State::from_json(
            r#"{"latest_publication_timestamp": 1731101916, "latest_master_ioc_timestamp":
            1796398581.5, "latest_run_timestamp": "1796398582", "other": [1]}"#,
        );
        assert_eq!(
            state.timestamp(LATEST_PUBLICATION).unwrap().as_second(),
            1731101916
        );
        assert_eq!(
            state.timestamp(LATEST_MASTER_IOC).unwrap().as_second(),
            1796398581
        );
        assert_eq!(state.timestamp(LATEST_RUN).unwrap().as_second(), 1796398582);
        assert_eq!(state.get("other"), Some(&serde_json::json!([1])));
    }

    #[test]
    fn anything_but_an_object_is_no_state() {
        for text in ["", "null", "[]", "{}", "not json"] {
            assert!(State::from_json(text).is_empty(), "{text}");
        }
    }

    #[test]
    fn a_state_file_round_trips_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let file = StateFile::new(dir.path().join("state.json"));
        assert!(file.load().unwrap().is_empty());
        let mut state = State::new();
        state.set_timestamp(LATEST_RUN, Timestamp::from_second(1_700_000_000).unwrap());
        file.store(&state).unwrap();
        assert_eq!(file.load().unwrap(), state);
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_time_key_that_is_not_a_time_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        for (value, shown) in [
            (r#""abc""#, r#""abc""#),
            ("99999999999999", "99999999999999"),
            (r#""1e300""#, r#""1e300""#),
            ("[1]", "[1]"),
        ] {
            let text = format!(r#"{{"latest_publication_timestamp": {value}, "x": 1}}"#);
            fs::write(&path, &text).unwrap();
            let error = StateFile::new(&path).load().unwrap_err().to_string();
            let named = format!("latest_publication_timestamp holds {shown}, which is not");
            assert!(error.contains(&named), "{error}");
            assert!(error.contains("state.json"), "{error}");
            assert_eq!(fs::read_to_string(&path).unwrap(), text, "left as it is");
        }

        let fine = r#"{"latest_run_timestamp": null, "latest_master_ioc_timestamp": "2024-03-01",
            "latest_master_yara_timestamp": 1700000000.5}"#;
        fs::write(&path, fine).unwrap();
        StateFile::new(&path).load().unwrap();
    }

    #[test]
    fn a_corrupt_state_file_is_an_error_not_a_fresh_start() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        fs::write(&path, "{broken").unwrap();
        let error = StateFile::new(&path).load().unwrap_err().to_string();
        assert!(error.contains("is not a JSON object"), "{error}");
    }
}
