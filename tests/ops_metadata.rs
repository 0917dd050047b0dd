//! The `__metadata__/` files OpenCTI's connector catalog reads: the configuration schema
//! is the one generated from the settings table, and the manifest names the image that
//! docker-compose.yml runs.
//!
//! When a setting changes, regenerate the schema with
//! `UPDATE_METADATA=1 cargo test --test ops_metadata` and commit it.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use connector_kaspersky::config::{JSON_SCHEMA_DIALECT, json_schema, settings};
use serde::Deserialize;
use serde_json::{Value, json};

const REGENERATE: &str = "UPDATE_METADATA=1 cargo test --test ops_metadata";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read_json(relative: &str) -> Value {
    let text = std::fs::read_to_string(root().join(relative)).unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{relative} is not JSON: {e}"))
}

/// The schema file's text: pretty-printed, two-space indent, a final newline.
fn generated_schema_text() -> String {
    let mut text = serde_json::to_string_pretty(&json_schema()).unwrap();
    text.push('\n');
    text
}

#[test]
fn config_schema_matches_the_settings() {
    let path = root().join("__metadata__/connector_config_schema.json");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    let generated = generated_schema_text();
    if committed == generated {
        return;
    }

    if std::env::var("UPDATE_METADATA").as_deref() == Ok("1") {
        std::fs::write(&path, generated).unwrap();
        eprintln!("__metadata__/connector_config_schema.json regenerated");
        return;
    }
    panic!(
        "__metadata__/connector_config_schema.json differs from config::json_schema().\n\
         Regenerate it with `{REGENERATE}` and commit it."
    );
}

#[test]
fn config_schema_describes_every_variable() {
    let schema = json_schema();
    assert_eq!(schema["$schema"], JSON_SCHEMA_DIALECT);
    assert_eq!(schema["type"], "object");

    let properties = schema["properties"].as_object().unwrap();
    assert_eq!(properties.len(), settings().len());
    for setting in settings() {
        let property = &properties[setting.env];
        assert!(
            property["type"].is_string() || property["type"].is_array(),
            "{setting}"
        );
        assert_eq!(property["description"], setting.description, "{setting}");
    }

    let required: Vec<&str> = schema["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|name| name.as_str().unwrap())
        .collect();
    for name in required.iter().copied() {
        assert!(
            properties.contains_key(name),
            "required {name} is not a property"
        );
    }
    assert!(required.contains(&"KASPERSKY_CERTIFICATE_PATH"));
    assert!(required.contains(&"OPENCTI_TOKEN"));
}

/// The keys current OpenCTI connectors carry in their manifest.
const MANIFEST_KEYS: [&str; 17] = [
    "title",
    "slug",
    "description",
    "short_description",
    "logo",
    "use_cases",
    "verified",
    "last_verified_date",
    "playbook_supported",
    "max_confidence_level",
    "support_version",
    "subscription_link",
    "source_code",
    "manager_supported",
    "container_version",
    "container_image",
    "container_type",
];

#[test]
fn manifest_has_the_catalog_keys() {
    let manifest = read_json("__metadata__/connector_manifest.json");
    for key in MANIFEST_KEYS {
        assert!(
            manifest.get(key).is_some(),
            "connector_manifest.json lacks {key}"
        );
    }

    assert_eq!(manifest["container_type"], "EXTERNAL_IMPORT");
    assert_eq!(
        json_schema()["properties"]["CONNECTOR_TYPE"]["const"],
        manifest["container_type"]
    );
    let confidence = manifest["max_confidence_level"].as_u64().unwrap();
    assert!(confidence <= 100);
    assert!(!manifest["use_cases"].as_array().unwrap().is_empty());
    assert!(manifest["short_description"].as_str().unwrap().len() < 200);
}

/// What this test reads of docker-compose.yml.
#[derive(Deserialize)]
struct Compose {
    services: BTreeMap<String, Service>,
}

#[derive(Deserialize)]
struct Service {
    image: Option<String>,
}

#[test]
fn manifest_names_the_image_docker_compose_runs() {
    let manifest = read_json("__metadata__/connector_manifest.json");
    let text = std::fs::read_to_string(root().join("docker-compose.yml")).unwrap();
    let compose: Compose = serde_saphyr::from_str(&text).unwrap();

    let image = compose.services["connector-kaspersky"]
        .image
        .as_deref()
        .expect("docker-compose.yml names the connector's image");
    let expected = format!(
        "{}:{}",
        manifest["container_image"].as_str().unwrap(),
        manifest["container_version"].as_str().unwrap()
    );
    assert_eq!(
        image, expected,
        "docker-compose.yml image vs manifest image:version"
    );
}

/// The variables docker-compose.yml sets, commented-out examples included, with values.
fn compose_variables() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(root().join("docker-compose.yml")).unwrap();
    text.lines()
        .filter_map(|line| {
            let item = line.trim().trim_start_matches('#').trim();
            let (name, value) = item.strip_prefix("- ")?.split_once('=')?;
            name.chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
                .then(|| (name.to_owned(), value.to_owned()))
        })
        .collect()
}

#[test]
fn docker_compose_sets_only_variables_of_the_schema() {
    let schema = json_schema();
    let variables = compose_variables();
    for (name, _) in &variables {
        assert!(
            schema["properties"].get(name).is_some(),
            "docker-compose.yml sets {name}, which the schema does not describe"
        );
    }
    assert!(
        variables.len() > 40,
        "only {} variables in docker-compose.yml",
        variables.len()
    );
}

/// An environment value as the JSON value the schema describes (what a form would hold).
fn typed(value: &str, property: &Value) -> Value {
    let boolean = match value.to_ascii_lowercase().as_str() {
        "true" | "yes" | "1" => Some(true),
        "false" | "no" | "0" => Some(false),
        _ => None,
    };
    match &property["type"] {
        Value::String(name) if name == "boolean" => boolean.map_or(json!(value), Value::Bool),
        Value::String(name) if name == "integer" => {
            value.parse::<i64>().map_or(json!(value), Value::from)
        }
        Value::String(name) if name == "array" => value
            .split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .collect::<Vec<_>>()
            .into(),
        Value::Array(_) => boolean.map_or(json!(value), Value::Bool),
        _ => json!(value),
    }
}

/// Checks the schema against the 2020-12 meta-schema, and validates two instances with
/// it: docker-compose.yml's values, and the same with every default in place. Needs the
/// `jsonschema` package that `scripts/test` installs into `.venv` (with stix2-validator).
#[test]
fn config_schema_is_valid_and_accepts_the_compose_file_and_the_defaults() {
    let python = root().join(".venv/bin/python");
    let has_jsonschema = python.is_file()
        && Command::new(&python)
            .args(["-c", "import jsonschema"])
            .status()
            .is_ok_and(|status| status.success());
    if !has_jsonschema {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true and .venv has no jsonschema: scripts/test installs it"
        );
        eprintln!("skipped: no .venv with jsonschema (run scripts/test)");
        return;
    }

    let schema = json_schema();
    let properties = schema["properties"].as_object().unwrap();
    let compose: serde_json::Map<String, Value> = compose_variables()
        .into_iter()
        .map(|(name, value)| {
            let value = typed(&value, &properties[&name]);
            (name, value)
        })
        .collect();
    let mut defaults = compose.clone();
    for (name, property) in properties {
        if let Some(default) = property.get("default") {
            defaults.insert(name.clone(), default.clone());
        }
    }

    let mut child = Command::new(&python)
        .args(["-c", VALIDATE])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let input = json!({ "schema": schema, "instances": [compose, defaults] });
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.to_string().as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "the schema or an instance is invalid:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Meta-schema check, then every error of every instance, one per line.
const VALIDATE: &str = r#"
import json, sys
from jsonschema import Draft202012Validator, FormatChecker
data = json.load(sys.stdin)
Draft202012Validator.check_schema(data["schema"])
validator = Draft202012Validator(data["schema"], format_checker=FormatChecker())
errors = [f"instance {i}: {e.json_path}: {e.message}"
          for i, instance in enumerate(data["instances"])
          for e in validator.iter_errors(instance)]
print("\n".join(errors))
sys.exit(1 if errors else 0)
"#;
