//! Documentation generated from the settings table: the README's configuration table and
//! the JSON Schema of the environment variables in `__metadata__/`.
//!
//! Nothing here is read at run time. Both outputs are pure functions of [`settings()`], and
//! tests compare them with the committed files, so the documentation cannot drift from
//! what the program reads.

use serde_json::{Map, Value, json};

use super::settings;
use super::settings::{Kind, Required, Setting};
use super::values::Scope;

/// The JSON Schema dialect of the generated schema, the one OpenCTI's connectors use.
pub const JSON_SCHEMA_DIALECT: &str = "https://json-schema.org/draft/2020-12/schema";

/// The `$id` of the generated schema: a name of our own, not a fetchable address.
pub const JSON_SCHEMA_ID: &str = "urn:connector-kaspersky:connector-config-schema";

/// The TLP words offered by the schema. Any case is read, with or without `TLP:`; these
/// spellings follow the documented default `Amber`.
const TLP_WORDS: [&str; 6] = ["White", "Clear", "Green", "Amber", "Amber+Strict", "Red"];

/// The README's configuration table in Markdown: YAML path, environment variable,
/// default, whether `run` needs it, and description, one row per setting, in the order
/// of `config.yml.sample`. Ends with a newline.
pub fn markdown_table() -> String {
    let mut table = String::from(
        "| Parameter | Environment variable | Default | Required | Description |\n\
         | --- | --- | --- | --- | --- |\n",
    );
    for setting in settings() {
        let default = setting
            .default
            .map(|text| format!("`{text}`"))
            .unwrap_or_default();
        let required = match setting.required {
            Required::No => "",
            Required::Yes => "yes",
            Required::WithQueue => "with `send_to_queue`",
        };
        table.push_str(&format!(
            "| `{}` | `{}` | {} | {} | {} |\n",
            setting.path,
            setting.env,
            default,
            required,
            setting.description.replace('|', "\\|"),
        ));
    }
    table
}

/// A JSON Schema (draft 2020-12) of the environment variables, as OpenCTI connectors ship
/// it in `__metadata__/connector_config_schema.json`.
///
/// One property per setting, named by its variable, with its type, its default as a typed
/// value, its description, bounds for numbers and an `enum` for closed sets (read in any
/// case by the program; the schema offers one spelling). `required` lists the settings
/// without a usable default: those `run` refuses to start without under the default
/// `send_to_queue: true`; they carry no default, since theirs (`ChangeMe`) is a
/// placeholder. Secrets are marked `writeOnly`. Other variables (proxies) are allowed.
pub fn json_schema() -> Value {
    let mut properties = Map::new();
    for setting in settings() {
        properties.insert(setting.env.to_owned(), property(setting));
    }

    let required: Vec<&str> = settings()
        .iter()
        .filter(|setting| setting.required != Required::No)
        .map(|setting| setting.env)
        .collect();

    json!({
        "$schema": JSON_SCHEMA_DIALECT,
        "$id": JSON_SCHEMA_ID,
        "title": "connector-kaspersky",
        "description": "Environment variables of the Kaspersky Threat Intelligence Portal \
                        connector for OpenCTI.",
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": true,
    })
}

/// The schema of one setting's variable.
fn property(setting: &Setting) -> Value {
    let mut fields: Map<String, Value> = kind_fields(setting.kind)
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value))
        .collect();

    fields.insert("description".to_owned(), json!(setting.description));
    if setting.required == Required::No
        && let Some(default) = setting.default
    {
        fields.insert("default".to_owned(), typed_default(setting.kind, default));
    }
    if let Kind::Choice([only]) = setting.kind {
        fields.insert("const".to_owned(), json!(only));
    }
    Value::Object(fields)
}

/// Type, format, bounds and allowed words of a kind, as schema keywords.
fn kind_fields(kind: Kind) -> Vec<(&'static str, Value)> {
    let string = json!("string");
    match kind {
        Kind::Text | Kind::Path | Kind::Pem => vec![("type", string)],
        Kind::Secret => vec![
            ("type", string),
            ("format", json!("password")),
            ("writeOnly", json!(true)),
        ],
        Kind::Bool => vec![("type", json!("boolean"))],
        Kind::Integer { min, max } => vec![
            ("type", json!("integer")),
            ("minimum", json!(min)),
            ("maximum", json!(max)),
        ],
        Kind::List => vec![
            ("type", json!("array")),
            ("items", json!({ "type": "string" })),
        ],
        Kind::Url => vec![("type", string), ("format", json!("uri"))],
        Kind::Tlp => vec![("type", string), ("enum", json!(TLP_WORDS))],
        Kind::Weekday => vec![
            ("type", json!("integer")),
            ("minimum", json!(0)),
            ("maximum", json!(7)),
        ],
        Kind::Scopes => vec![
            ("type", json!("array")),
            (
                "items",
                json!({ "type": "string", "enum": Scope::ALL.map(Scope::as_str) }),
            ),
            ("minItems", json!(1)),
            ("uniqueItems", json!(true)),
        ],
        Kind::Choice(words) => vec![("type", string), ("enum", json!(words))],
        Kind::Duration => vec![("type", string), ("format", json!("duration"))],
        Kind::TlsVerify => vec![("type", json!(["boolean", "string"]))],
    }
}

/// A default written as text, as the JSON value of its kind's type.
///
/// A default that does not read as its kind stays text; a unit test makes sure none of
/// the table's does.
fn typed_default(kind: Kind, text: &str) -> Value {
    let boolean = |text: &str| match text {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    };
    let typed = match kind {
        Kind::Bool | Kind::TlsVerify => boolean(text).map(Value::Bool),
        Kind::Integer { .. } | Kind::Weekday => text.parse::<i64>().ok().map(Value::from),
        Kind::List | Kind::Scopes => Some(
            text.split(',')
                .map(str::trim)
                .filter(|item| !item.is_empty())
                .collect::<Vec<_>>()
                .into(),
        ),
        _ => None,
    };
    typed.unwrap_or_else(|| Value::from(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema_of(env: &str) -> Value {
        json_schema()["properties"][env].clone()
    }

    #[test]
    fn every_default_has_its_kinds_json_type() {
        let schema = json_schema();
        for setting in settings() {
            let property = &schema["properties"][setting.env];
            let Some(default) = property.get("default") else {
                continue;
            };
            let expected = match &property["type"] {
                Value::String(name) => name.as_str(),
                _ => "boolean",
            };
            let matches = match expected {
                "boolean" => default.is_boolean(),
                "integer" => default.is_i64(),
                "array" => default.is_array(),
                _ => default.is_string(),
            };
            assert!(
                matches,
                "{}: default {default} is not {expected}",
                setting.env
            );
        }
    }

    #[test]
    fn closed_sets_are_enums_holding_their_default() {
        let tlp = schema_of("KASPERSKY_TLP");
        assert!(tlp["enum"].as_array().unwrap().contains(&tlp["default"]));

        let level = schema_of("CONNECTOR_LOG_LEVEL");
        assert_eq!(level["default"], "error");
        assert!(
            level["enum"]
                .as_array()
                .unwrap()
                .contains(&json!("warning"))
        );

        let scopes = schema_of("KASPERSKY_SCOPES");
        assert_eq!(
            scopes["default"],
            json!(["publication", "master_ioc", "master_yara"])
        );

        assert_eq!(schema_of("CONNECTOR_TYPE")["const"], "EXTERNAL_IMPORT");
    }

    #[test]
    fn required_settings_have_no_placeholder_default() {
        let schema = json_schema();
        let required = schema["required"].as_array().unwrap();
        for name in [
            "KASPERSKY_PASSWORD",
            "KASPERSKY_CERTIFICATE_PATH",
            "OPENCTI_URL",
        ] {
            assert!(required.contains(&json!(name)), "{name} not required");
            assert!(
                schema_of(name).get("default").is_none(),
                "{name} has a default"
            );
        }
        assert!(!required.contains(&json!("KASPERSKY_TLP")));
    }

    #[test]
    fn numbers_carry_their_bounds_and_secrets_are_write_only() {
        let port = schema_of("CONNECTOR_METRICS_PORT");
        assert_eq!(
            (port["minimum"].clone(), port["maximum"].clone()),
            (json!(1), json!(65535))
        );
        assert_eq!(port["default"], 9095);

        assert_eq!(schema_of("MQ_PASS")["writeOnly"], true);
        assert_eq!(
            schema_of("KASPERSKY_MASTER_IOC_FETCH_WEEKDAY")["default"],
            1
        );
        assert_eq!(schema_of("OPENCTI_SSL_VERIFY")["default"], true);
    }
}
