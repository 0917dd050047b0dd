//! Running `connector-kaspersky convert` on hostile files a test writes, the way an
//! operator would: a fresh process, no configuration file, only the environment the test
//! gives; and the builders of those files (TIP bodies, payloads, OpenIOC, YARA).
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use flate2::Compression;
use flate2::write::GzEncoder;
use serde_json::{Value, json};

/// The fixed time every conversion is stamped with.
pub const NOW: &str = "2026-12-04T00:00:00Z";

/// What one conversion did.
#[derive(Debug)]
pub struct Converted {
    pub success: bool,
    pub stdout: String,
    pub stderr: String,
    /// The bundles written into the output directory, with their paths.
    pub bundles: Vec<(PathBuf, Value)>,
}

impl Converted {
    /// Every object of every bundle.
    pub fn objects(&self) -> impl Iterator<Item = &Value> {
        self.bundles
            .iter()
            .flat_map(|(_, bundle)| bundle["objects"].as_array().unwrap())
    }

    /// The objects of one STIX type.
    pub fn of_type<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
        self.objects().filter(move |o| o["type"] == kind)
    }

    /// The lines of standard error that are not log lines.
    pub fn stderr_lines(&self) -> Vec<&str> {
        self.stderr.lines().filter(|l| !l.is_empty()).collect()
    }
}

/// Runs `convert KIND FILE --out DIR --now NOW` in `dir` (which holds no config.yml),
/// with a clean environment plus `env`.
pub fn convert(dir: &Path, kind: &str, file: &Path, env: &[(&str, &str)]) -> Converted {
    let out = dir.join(format!(
        "out-{}",
        file.file_name().unwrap().to_string_lossy()
    ));
    let output = Command::new(env!("CARGO_BIN_EXE_connector-kaspersky"))
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .envs(env.iter().copied())
        .args(["--log-format", "text", "convert", kind])
        .arg(file)
        .arg("--out")
        .arg(&out)
        .args(["--now", NOW])
        .output()
        .expect("run connector-kaspersky");

    let mut bundles = Vec::new();
    if let Ok(entries) = std::fs::read_dir(&out) {
        let mut paths: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).collect();
        paths.sort();
        for path in paths {
            let bundle: Value = serde_json::from_slice(&std::fs::read(&path).unwrap())
                .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()));
            assert_eq!(bundle["type"], "bundle");
            bundles.push((path, bundle));
        }
    }
    Converted {
        success: output.status.success(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        bundles,
    }
}

/// Writes `bytes` to `dir/name` and returns the path.
pub fn write(dir: &Path, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// Gzip then base64, as the TIP ships every file.
pub fn pack(data: &[u8]) -> String {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
    encoder.write_all(data).unwrap();
    STANDARD.encode(encoder.finish().unwrap())
}

/// A gzip bomb: `size` zero bytes, packed (about a thousandth of that).
pub fn bomb(size: usize) -> String {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
    let block = vec![0u8; 1 << 20];
    let mut left = size;
    while left > 0 {
        let n = left.min(block.len());
        encoder.write_all(&block[..n]).unwrap();
        left -= n;
    }
    STANDARD.encode(encoder.finish().unwrap())
}

/// A `get_one` answer for a fictional publication `p1`, with `extra` fields merged into
/// the publication (payloads, or fields that break its shape).
pub fn get_one(extra: Value) -> Value {
    let mut publication = json!({
        "id": "p1",
        "name": "Fictional Campaign",
        "desc": "A made-up publication for hostile input tests.",
        "published": 1_700_000_000,
        "updated": 1_700_000_100,
        "report_group": "apt",
        "tags": ["test"],
        "tags_industry": [],
        "tags_geo": [],
        "tags_actors": [],
    });
    for (key, value) in extra.as_object().unwrap() {
        if value.is_null() {
            publication.as_object_mut().unwrap().remove(key);
        } else {
            publication[key] = value.clone();
        }
    }
    json!({"status": "ok", "return_data": publication})
}

/// An OpenIOC 1.0 document with these `(id, search, content type, content)` items.
pub fn openioc(items: &[(&str, &str, &str, &str)]) -> String {
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\
         <ioc xmlns=\"http://schemas.mandiant.com/2010/ioc\" id=\"hostile-doc\" \
         last-modified=\"2024-05-06T07:08:09Z\">\n\
         <short_description>Hostile test document</short_description>\n\
         <authored_date>2024-05-01</authored_date>\n\
         <definition><Indicator operator=\"OR\" id=\"root\">\n",
    );
    for (id, search, kind, content) in items {
        let document = search.split('/').next().unwrap();
        xml.push_str(&format!(
            "<IndicatorItem id=\"{id}\" condition=\"is\">\
             <Context document=\"{document}\" search=\"{search}\" type=\"mir\"/>\
             <Content type=\"{kind}\">{content}</Content></IndicatorItem>\n"
        ));
    }
    xml.push_str("</Indicator></definition>\n</ioc>\n");
    xml
}

/// A harmless YARA rule.
pub fn yara_rule(name: &str) -> String {
    format!(
        "rule {name}\n{{\n    meta:\n        description = \"fictional\"\n    strings:\n        \
         $a = \"{name}-marker\"\n    condition:\n        $a\n}}\n"
    )
}
