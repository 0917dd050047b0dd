//! A directory of plain STIX 2.1 bundle files, one per publication or group.
//!
//! Files are named `<scope>-<item>-<short id>.json` and written atomically: into a hidden
//! temporary file first, flushed to disk, then renamed, so a reader (or a crash) never
//! sees half a bundle. Nothing is deleted except by [`DirectorySink::apply_retention`],
//! which only `run` calls.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use super::BundleLabel;
use crate::stix::Bundle;

/// A failure to write a bundle file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DirectoryError {
    #[error("cannot create the bundle directory {path}: {cause}")]
    Create { path: PathBuf, cause: io::Error },
    #[error("cannot write bundle file {path}: {cause}")]
    Write { path: PathBuf, cause: io::Error },
}

/// Writes bundles into one directory.
#[derive(Clone, Debug)]
pub struct DirectorySink {
    dir: PathBuf,
}

impl DirectorySink {
    /// A sink writing into `dir`, created when missing.
    pub fn new(dir: impl Into<PathBuf>) -> Result<Self, DirectoryError> {
        let dir = dir.into();
        fs::create_dir_all(&dir).map_err(|cause| DirectoryError::Create {
            path: dir.clone(),
            cause,
        })?;
        Ok(DirectorySink { dir })
    }

    /// The directory bundles go to.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file name of a bundle: `<scope>-<item>-<short id>.json`.
    pub fn file_name(label: &BundleLabel) -> String {
        let short: String = label
            .key
            .rsplit("--")
            .next()
            .unwrap_or(&label.key)
            .chars()
            .filter(char::is_ascii_hexdigit)
            .take(8)
            .collect();
        format!("{}-{}-{}.json", label.scope, slug(&label.item), short)
    }

    /// Writes one bundle and returns the path of the file.
    ///
    /// On any failure (disk full, read-only directory) the temporary file is removed and
    /// the previous file of the same name, if any, is left as it was.
    pub fn write(&self, label: &BundleLabel, bundle: &Bundle) -> Result<PathBuf, DirectoryError> {
        let name = Self::file_name(label);
        let path = self.dir.join(&name);
        let temporary = self.dir.join(format!(".{name}.tmp"));

        let written = write_file(&temporary, bundle).and_then(|()| fs::rename(&temporary, &path));
        if let Err(source) = written {
            let _ = fs::remove_file(&temporary);
            return Err(DirectoryError::Write {
                path,
                cause: source,
            });
        }
        Ok(path)
    }

    /// Deletes `*.json` files older than `days` days (by modification time); 0 keeps all.
    ///
    /// Returns how many files were deleted. Files that cannot be inspected or deleted are
    /// left alone: retention is housekeeping, never a reason to fail a run.
    pub fn apply_retention(&self, days: u64, now: SystemTime) -> usize {
        if days == 0 {
            return 0;
        }
        let Some(cutoff) = now.checked_sub(Duration::from_secs(days * 86_400)) else {
            return 0;
        };
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return 0;
        };
        let mut deleted = 0;
        for entry in entries.flatten() {
            let path = entry.path();
            let is_json = path.extension().is_some_and(|e| e == "json");
            let modified = entry.metadata().and_then(|m| m.modified());
            if is_json && modified.is_ok_and(|m| m < cutoff) && fs::remove_file(&path).is_ok() {
                deleted += 1;
            }
        }
        deleted
    }
}

fn write_file(path: &Path, bundle: &Bundle) -> io::Result<()> {
    let file = File::create(path)?;
    let mut writer = BufWriter::with_capacity(256 * 1024, file);
    serde_json::to_writer(&mut writer, bundle)?;
    writer.write_all(b"\n")?;
    let file = writer.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()
}

/// A file-name-safe form of an item: lower-case letters, digits and `-`, at most 60.
fn slug(item: &str) -> String {
    let mut out = String::new();
    for c in item.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
        if out.len() >= 60 {
            break;
        }
    }
    let trimmed = out.trim_matches('-');
    if trimmed.is_empty() {
        "item".to_owned()
    } else {
        trimmed.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stix::{Identity, Tlp};

    fn label(item: &str) -> BundleLabel {
        BundleLabel {
            scope: "master_ioc",
            item: item.into(),
            key: "report--51321122-2963-5637-818b-d69dc2579801".into(),
        }
    }

    #[test]
    fn names_are_predictable() {
        assert_eq!(
            DirectorySink::file_name(&label("Junipershrike infrastructure update 005")),
            "master_ioc-junipershrike-infrastructure-update-005-51321122.json"
        );
        assert_eq!(
            DirectorySink::file_name(&label("../..")),
            "master_ioc-item-51321122.json"
        );
    }

    #[test]
    fn a_bundle_is_written_whole_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let sink = DirectorySink::new(dir.path().join("out")).unwrap();
        let mut bundle = Bundle::derived("k");
        bundle.push(Identity::organization(
            "Kaspersky",
            "2024-01-01T00:00:00Z".parse().unwrap(),
        ));
        bundle.push(Tlp::Green.marking_definition());
        let path = sink.write(&label("g"), &bundle).unwrap();
        let json: serde_json::Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
        assert_eq!(json["objects"].as_array().unwrap().len(), 2);
        let leftovers: Vec<_> = fs::read_dir(sink.dir()).unwrap().flatten().collect();
        assert_eq!(leftovers.len(), 1, "no temporary file is left behind");
    }

    #[test]
    fn an_unwritable_directory_is_a_clear_error() {
        // Replacing the directory by a file makes every write fail, even for root.
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let sink = DirectorySink::new(&out).unwrap();
        fs::remove_dir(&out).unwrap();
        fs::write(&out, "not a directory").unwrap();
        let message = sink
            .write(&label("g"), &Bundle::derived("k"))
            .unwrap_err()
            .to_string();
        assert!(message.starts_with("cannot write bundle file"), "{message}");
        assert!(message.contains("master_ioc-g-51321122.json"), "{message}");
    }

    #[test]
    fn retention_deletes_only_old_json() {
        let dir = tempfile::tempdir().unwrap();
        let sink = DirectorySink::new(dir.path()).unwrap();
        fs::write(dir.path().join("a.json"), "{}").unwrap();
        fs::write(dir.path().join("keep.txt"), "x").unwrap();
        let later = SystemTime::now() + Duration::from_secs(8 * 86_400);
        assert_eq!(sink.apply_retention(0, later), 0);
        assert_eq!(sink.apply_retention(7, later), 1);
        assert!(dir.path().join("keep.txt").exists());
    }
}
