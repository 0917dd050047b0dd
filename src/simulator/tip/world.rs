//! The data a simulated TIP serves: publications with their files and the two Master files.
//!
//! A world lives on disk in the layout of `samples/decoded` (plain files, easy to read and
//! edit) or in memory (built by the generator or a test). Files are stored decoded and
//! encoded like the real API (gzip, then base64) the first time they are served.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use base64::Engine;
use flate2::Compression;
use flate2::write::GzEncoder;
use jiff::Timestamp;
use serde_json::{Map, Value};

use crate::tip::model::parse_tip_time;

/// File names of the decoded layout.
pub const PUBLICATIONS_FILE: &str = "publications.json";
/// Directory of the per-publication files.
pub const PUBLICATIONS_DIR: &str = "publications";
/// A publication's PDF.
pub const PDF_FILE: &str = "report.pdf";
/// A publication's OpenIOC document.
pub const IOCS_FILE: &str = "iocs.ioc";
/// A publication's YARA rules.
pub const YARA_FILE: &str = "rules.yar";
/// The Master IoC CSV.
pub const MASTER_IOC_FILE: &str = "master_ioc.csv";
/// The Master YARA file.
pub const MASTER_YARA_FILE: &str = "master_yara.yar";
/// What the generator says about a world it made (parameters and counts).
pub const DESCRIPTION_FILE: &str = "world.json";

/// Why a world could not be read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WorldError {
    #[error("world file {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("world file {}: {reason}", path.display())]
    Invalid { path: PathBuf, reason: String },
    #[error("publication {index} of the world: {reason}")]
    Publication { index: usize, reason: String },
}

/// A file as the TIP ships it: kept decoded, encoded (gzip + base64) once when first
/// served.
#[derive(Debug, Default)]
pub struct Payload {
    raw: Vec<u8>,
    encoded: OnceLock<String>,
}

impl Payload {
    /// A payload of these decoded bytes.
    pub fn new(raw: Vec<u8>) -> Payload {
        Payload {
            raw,
            encoded: OnceLock::new(),
        }
    }

    /// The decoded bytes.
    pub fn raw(&self) -> &[u8] {
        &self.raw
    }

    /// Base64 of the gzipped bytes, as in the API's JSON.
    pub fn encoded(&self) -> &str {
        self.encoded.get_or_init(|| encode(&self.raw))
    }
}

impl Clone for Payload {
    fn clone(&self) -> Payload {
        Payload::new(self.raw.clone())
    }
}

/// Gzip, then standard base64: the encoding of every file the TIP sends.
pub fn encode(raw: &[u8]) -> String {
    let mut gzip = GzEncoder::new(
        Vec::with_capacity(raw.len() / 3 + 64),
        Compression::default(),
    );
    gzip.write_all(raw).expect("writing to memory cannot fail");
    let compressed = gzip.finish().expect("writing to memory cannot fail");
    base64::engine::general_purpose::STANDARD.encode(compressed)
}

/// One publication: its `get_list` metadata, kept as JSON so that it is served exactly as
/// written (dates as numbers or strings), and its files.
#[derive(Clone, Debug)]
pub struct WorldPublication {
    meta: Map<String, Value>,
    id: String,
    updated: Timestamp,
    /// The PDF (`report_pdf`).
    pub pdf: Option<Payload>,
    /// The OpenIOC XML (`report_iocs`).
    pub iocs: Option<Payload>,
    /// The YARA text (`report_yara`).
    pub yara: Option<Payload>,
}

impl WorldPublication {
    /// A publication of this metadata, without files. The metadata must have a string
    /// `id` and a readable `updated` (the simulator filters on it); the rest is served as
    /// it is, so a test may serve deliberately odd publications.
    pub fn new(meta: Map<String, Value>) -> Result<WorldPublication, String> {
        let id = match meta.get("id") {
            Some(Value::String(id)) if !id.is_empty() => id.clone(),
            Some(other) => return Err(format!("`id` must be a non-empty string, not {other}")),
            None => return Err("no `id`".to_owned()),
        };
        let updated = meta
            .get("updated")
            .and_then(value_time)
            .ok_or_else(|| format!("publication {id:?}: `updated` missing or unreadable"))?;
        Ok(WorldPublication {
            meta,
            id,
            updated,
            pdf: None,
            iocs: None,
            yara: None,
        })
    }

    /// The publication id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The `updated` time, which `get_list` filters on.
    pub fn updated(&self) -> Timestamp {
        self.updated
    }

    /// The metadata as `get_list` serves it.
    pub fn meta(&self) -> &Map<String, Value> {
        &self.meta
    }

    /// The `name` field, or empty.
    pub fn name(&self) -> &str {
        self.meta
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }
}

/// Reads a time as the TIP writes it: Unix seconds (number or text) or ISO 8601.
pub fn value_time(value: &Value) -> Option<Timestamp> {
    match value {
        Value::Number(number) => parse_tip_time(&number.to_string()),
        Value::String(text) => parse_tip_time(text),
        _ => None,
    }
}

/// Everything one simulated TIP account can see.
#[derive(Clone, Debug, Default)]
pub struct World {
    publications: Vec<WorldPublication>,
    index: HashMap<String, usize>,
    /// The Master IoC CSV, served for `report_group` `apt`, `all` or none.
    pub master_ioc: Option<Payload>,
    /// The Master YARA text, served likewise.
    pub master_yara: Option<Payload>,
    /// Written as `world.json` next to the files (the generator's parameters and counts).
    pub description: Option<Value>,
}

impl World {
    /// An empty world: no publications, no Master files.
    pub fn new() -> World {
        World::default()
    }

    /// Adds a publication; one with the id of an earlier one replaces it.
    pub fn push(&mut self, publication: WorldPublication) {
        match self.index.get(publication.id()) {
            Some(&at) => self.publications[at] = publication,
            None => {
                self.index
                    .insert(publication.id.clone(), self.publications.len());
                self.publications.push(publication);
            }
        }
    }

    /// The publications in `get_list` order.
    pub fn publications(&self) -> &[WorldPublication] {
        &self.publications
    }

    /// The publication of this id.
    pub fn publication(&self, id: &str) -> Option<&WorldPublication> {
        self.index.get(id).map(|&at| &self.publications[at])
    }

    /// Reads a world directory: `publications.json` (the `publications` array of a
    /// `get_list` answer, its `return_data`, or the whole answer),
    /// `publications/<id>/{report.pdf,iocs.ioc,rules.yar}` (each optional), and optional
    /// `master_ioc.csv` and `master_yara.yar`.
    pub fn load(dir: &Path) -> Result<World, WorldError> {
        let list_path = dir.join(PUBLICATIONS_FILE);
        let list: Value =
            serde_json::from_slice(&read(&list_path)?).map_err(|error| WorldError::Invalid {
                path: list_path.clone(),
                reason: error.to_string(),
            })?;
        let entries = publication_array(list).ok_or_else(|| WorldError::Invalid {
            path: list_path.clone(),
            reason: "expected a list of publications, or an object with `publications`".into(),
        })?;

        let mut world = World::new();
        for (index, entry) in entries.into_iter().enumerate() {
            let Value::Object(meta) = entry else {
                return Err(WorldError::Publication {
                    index,
                    reason: "not a JSON object".to_owned(),
                });
            };
            let mut publication = WorldPublication::new(meta)
                .map_err(|reason| WorldError::Publication { index, reason })?;
            let files = dir.join(PUBLICATIONS_DIR).join(publication.id());
            publication.pdf = read_optional(&files.join(PDF_FILE))?;
            publication.iocs = read_optional(&files.join(IOCS_FILE))?;
            publication.yara = read_optional(&files.join(YARA_FILE))?;
            world.push(publication);
        }
        world.master_ioc = read_optional(&dir.join(MASTER_IOC_FILE))?;
        world.master_yara = read_optional(&dir.join(MASTER_YARA_FILE))?;
        Ok(world)
    }

    /// Writes the world in the layout [`World::load`] reads, creating `dir` if needed.
    pub fn write(&self, dir: &Path) -> Result<(), WorldError> {
        let metas: Vec<&Map<String, Value>> = self.publications.iter().map(|p| &p.meta).collect();
        let list = serde_json::to_vec_pretty(&metas).expect("JSON maps always serialize");
        write(&dir.join(PUBLICATIONS_FILE), &list)?;

        for publication in &self.publications {
            let files = dir.join(PUBLICATIONS_DIR).join(publication.id());
            for (name, payload) in [
                (PDF_FILE, &publication.pdf),
                (IOCS_FILE, &publication.iocs),
                (YARA_FILE, &publication.yara),
            ] {
                if let Some(payload) = payload {
                    write(&files.join(name), payload.raw())?;
                }
            }
        }
        if let Some(master) = &self.master_ioc {
            write(&dir.join(MASTER_IOC_FILE), master.raw())?;
        }
        if let Some(master) = &self.master_yara {
            write(&dir.join(MASTER_YARA_FILE), master.raw())?;
        }
        if let Some(description) = &self.description {
            let text = serde_json::to_vec_pretty(description).expect("JSON always serializes");
            write(&dir.join(DESCRIPTION_FILE), &text)?;
        }
        Ok(())
    }
}

fn publication_array(list: Value) -> Option<Vec<Value>> {
    match list {
        Value::Array(entries) => Some(entries),
        Value::Object(mut object) => {
            if let Some(data) = object.remove("return_data") {
                return publication_array(data);
            }
            match object.remove("publications") {
                Some(Value::Array(entries)) => Some(entries),
                _ => None,
            }
        }
        _ => None,
    }
}

fn read(path: &Path) -> Result<Vec<u8>, WorldError> {
    std::fs::read(path).map_err(|source| WorldError::Io {
        path: path.to_path_buf(),
        source,
    })
}

fn read_optional(path: &Path) -> Result<Option<Payload>, WorldError> {
    match std::fs::read(path) {
        Ok(raw) => Ok(Some(Payload::new(raw))),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(WorldError::Io {
            path: path.to_path_buf(),
            source,
        }),
    }
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), WorldError> {
    let io_error = |source| WorldError::Io {
        path: path.to_path_buf(),
        source,
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io_error)?;
    }
    std::fs::write(path, bytes).map_err(io_error)
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use flate2::read::GzDecoder;
    use serde_json::json;

    use super::*;

    fn meta(id: &str, updated: Value) -> Map<String, Value> {
        let Value::Object(map) = json!({"id": id, "name": "n", "updated": updated}) else {
            unreachable!()
        };
        map
    }

    #[test]
    fn encode_is_gzip_then_base64() {
        let encoded = encode(b"hello world");
        assert!(encoded.starts_with("H4sI"), "{encoded}");
        let compressed = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .unwrap();
        let mut text = String::new();
        GzDecoder::new(&compressed[..])
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(text, "hello world");
    }

    #[test]
    fn publications_need_an_id_and_a_readable_update_time() {
        assert!(WorldPublication::new(meta("a", json!(1700000000))).is_ok());
        assert!(WorldPublication::new(meta("a", json!("2023-11-23T23:01:59Z"))).is_ok());
        assert!(WorldPublication::new(meta("a", json!("yesterday"))).is_err());
        assert!(WorldPublication::new(meta("", json!(1))).is_err());
    }

    #[test]
    fn a_world_survives_a_write_and_load() {
        let dir = tempfile::tempdir().unwrap();
        let mut world = World::new();
        let mut first = WorldPublication::new(meta("p1", json!(1700000000))).unwrap();
        first.iocs = Some(Payload::new(b"<ioc/>".to_vec()));
        world.push(first);
        world.push(WorldPublication::new(meta("p2", json!("2024-01-01T00:00:00Z"))).unwrap());
        world.master_yara = Some(Payload::new(b"rule a { condition: true }".to_vec()));
        world.write(dir.path()).unwrap();

        let loaded = World::load(dir.path()).unwrap();
        let ids: Vec<&str> = loaded.publications().iter().map(|p| p.id()).collect();
        assert_eq!(ids, ["p1", "p2"]);
        let p1 = loaded.publication("p1").unwrap();
        assert_eq!(p1.iocs.as_ref().unwrap().raw(), b"<ioc/>");
        assert!(p1.pdf.is_none() && p1.yara.is_none());
        assert_eq!(p1.meta()["updated"], json!(1700000000));
        assert!(loaded.master_ioc.is_none());
        assert!(loaded.master_yara.is_some());
    }

    #[test]
    fn the_list_file_may_be_a_whole_get_list_answer() {
        let dir = tempfile::tempdir().unwrap();
        let answer = json!({"status": "ok", "return_data": {"count": 1, "publications": [
            {"id": "x", "updated": 1}
        ]}});
        std::fs::write(dir.path().join(PUBLICATIONS_FILE), answer.to_string()).unwrap();
        assert_eq!(World::load(dir.path()).unwrap().publications().len(), 1);

        std::fs::write(dir.path().join(PUBLICATIONS_FILE), "{\"count\": 1}").unwrap();
        assert!(matches!(
            World::load(dir.path()),
            Err(WorldError::Invalid { .. })
        ));
    }
}
