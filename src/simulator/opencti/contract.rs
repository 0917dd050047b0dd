//! The wire contract the stand-in enforces: which documents exist and the exact shape of
//! their variables (reference/opencti-protocol.md appendices A and C).

use serde_json::{Value, json};

use crate::opencti::documents::{self as doc, Operation};

/// The expected shape of a variable value.
#[derive(Clone, Debug)]
pub(super) enum Shape {
    Str,
    OptStr,
    Bool,
    Int,
    Float,
    Null,
    StrList,
    Exact(Value),
    /// A list of exactly these items.
    Tuple(Vec<Shape>),
    /// An object with exactly these keys.
    Object(Vec<(&'static str, Shape)>),
}

fn object(fields: Vec<(&'static str, Shape)>) -> Shape {
    Shape::Object(fields)
}

/// The operation a document is, after whitespace normalisation.
pub(super) fn operation_of(query: &str) -> Option<Operation> {
    let normalised = doc::normalise(query);
    doc::ALL
        .iter()
        .copied()
        .find(|op| op.document == normalised)
}

/// The variables `operation` must have.
pub(super) fn variables_of(operation: Operation) -> Shape {
    use Shape::*;
    match operation.name {
        "healthCheck" => object(vec![]),
        "RegisterConnector" => object(vec![(
            "input",
            object(vec![
                ("id", Str),
                ("name", Str),
                ("type", Exact(json!("EXTERNAL_IMPORT"))),
                ("scope", StrList),
                ("auto", Bool),
                ("auto_update", Bool),
                ("enrichment_resolution", Str),
                ("only_contextual", Bool),
                ("playbook_compatible", Bool),
                ("listen_callback_uri", Null),
            ]),
        )]),
        "PingConnector" => object(vec![
            ("id", Str),
            ("state", Str),
            (
                "connectorInfo",
                object(vec![
                    ("run_and_terminate", Bool),
                    ("buffering", Bool),
                    ("queue_threshold", Float),
                    ("queue_messages_size", Float),
                    ("next_run_datetime", OptStr),
                    ("last_run_datetime", OptStr),
                ]),
            ),
        ]),
        "GetConnector" => object(vec![("id", Str)]),
        "workAdd" => object(vec![
            ("connectorId", Str),
            ("friendlyName", Str),
            ("isMultiPartWork", Bool),
        ]),
        "addExpectations" => object(vec![("id", Str), ("expectations", Int)]),
        "workToProcessed" => object(vec![("id", Str), ("message", Str), ("inError", Bool)]),
        "StixBundlePush" => object(vec![
            ("connectorId", Str),
            ("bundle", Str),
            ("work_id", OptStr),
        ]),
        "Locations" => object(vec![
            ("types", Exact(json!(["Region"]))),
            ("filters", Null),
            ("search", Null),
            ("first", Exact(json!(50))),
            ("after", OptStr),
            ("orderBy", Exact(json!("created_at"))),
            ("orderMode", Exact(json!("asc"))),
        ]),
        "Indicators" => object(vec![
            (
                "filters",
                object(vec![
                    ("mode", Exact(json!("and"))),
                    (
                        "filters",
                        Tuple(vec![object(vec![
                            ("key", Exact(json!("name"))),
                            ("values", StrList),
                            ("operator", Exact(json!("eq"))),
                        ])]),
                    ),
                    ("filterGroups", Exact(json!([]))),
                ]),
            ),
            ("search", Null),
            ("first", Exact(json!(500))),
            ("after", OptStr),
            ("orderBy", Null),
            ("orderMode", Null),
            ("toStix", Exact(json!(false))),
        ]),
        "StixDomainObjectEdit" => object(vec![
            ("id", Str),
            (
                "input",
                object(vec![("key", Exact(json!("pattern"))), ("value", Str)]),
            ),
        ]),
        "SubTypeStatuses" => object(vec![("id", Exact(json!("Report")))]),
        _ => object(vec![]),
    }
}

/// Checks `value` against `shape`; the error names the first mismatch by its path.
pub(super) fn check(shape: &Shape, value: &Value, path: &str) -> Result<(), String> {
    let ok = match shape {
        Shape::Str => value.is_string(),
        Shape::OptStr => value.is_string() || value.is_null(),
        Shape::Bool => value.is_boolean(),
        Shape::Int => value.is_u64() || value.is_i64(),
        Shape::Float => value.is_f64(),
        Shape::Null => value.is_null(),
        Shape::StrList => value
            .as_array()
            .is_some_and(|items| items.iter().all(Value::is_string)),
        Shape::Exact(expected) => value == expected,
        Shape::Tuple(items) => {
            let Some(list) = value.as_array().filter(|l| l.len() == items.len()) else {
                return Err(format!("{path}: expected a list of {}", items.len()));
            };
            for (index, (shape, value)) in items.iter().zip(list).enumerate() {
                check(shape, value, &format!("{path}[{index}]"))?;
            }
            true
        }
        Shape::Object(fields) => {
            let Some(map) = value.as_object() else {
                return Err(format!("{path}: expected an object"));
            };
            if let Some(extra) = map.keys().find(|k| !fields.iter().any(|(f, _)| f == k)) {
                return Err(format!("{path}.{extra}: unexpected variable"));
            }
            for (key, shape) in fields {
                let Some(value) = map.get(*key) else {
                    return Err(format!("{path}.{key}: missing variable"));
                };
                check(shape, value, &format!("{path}.{key}"))?;
            }
            true
        }
    };
    if ok {
        Ok(())
    } else {
        Err(format!("{path}: unexpected value {value}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_are_recognised_after_whitespace_normalisation() {
        let spaced = "query   healthCheck {\n  about {\n version } }";
        assert_eq!(operation_of(spaced), Some(doc::HEALTH_CHECK));
        assert_eq!(
            operation_of("query healthCheck { about { version name } }"),
            None
        );
    }

    #[test]
    fn variables_are_checked_exactly() {
        let shape = variables_of(doc::ADD_EXPECTATIONS);
        assert!(check(&shape, &json!({"id": "w", "expectations": 3}), "$").is_ok());
        assert!(
            check(&shape, &json!({"id": "w"}), "$")
                .unwrap_err()
                .contains("missing")
        );
        assert!(
            check(&shape, &json!({"id": "w", "expectations": 3, "x": 1}), "$")
                .unwrap_err()
                .contains("unexpected variable")
        );
        assert!(check(&shape, &json!({"id": "w", "expectations": "3"}), "$").is_err());
    }
}
