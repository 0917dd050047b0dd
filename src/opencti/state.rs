//! The connector state as the platform stores it: a JSON string carried by pings.
//!
//! pycti keeps the state as text, pings it in Python's JSON style, and treats anything
//! but a non-empty JSON object as "no state", which it pings as the string `"null"`
//! (reference/opencti-protocol.md §4 and §5). These functions give the same answers.

use serde_json::{Map, Value};

use super::pyjson;

/// A connector state: a JSON object of the connector's own keys.
pub type StateMap = Map<String, Value>;

/// The state stored in `raw`: only a non-empty JSON object counts (null, `""`, `"null"`,
/// `{}`, arrays and invalid JSON are all "no state").
pub fn parse_state(raw: Option<&str>) -> Option<StateMap> {
    match serde_json::from_str::<Value>(raw?) {
        Ok(Value::Object(map)) if !map.is_empty() => Some(map),
        _ => None,
    }
}

/// The `state` variable of a ping: the state in Python's JSON style, or `"null"`.
pub fn ping_text(state: Option<&StateMap>) -> String {
    match state {
        Some(map) if !map.is_empty() => pyjson::to_string(map).unwrap_or_else(|_| "null".into()),
        _ => "null".to_owned(),
    }
}

/// The answer to a ping was not JSON; pycti counts that as a failed ping.
#[derive(Debug, thiserror::Error)]
#[error("the platform returned a connector state that is not JSON: {0}")]
pub struct UnreadableState(#[source] pub serde_json::Error);

/// Whether the state the platform returned differs from the one pinged, compared as
/// parsed JSON values (formatting is irrelevant). A returned null or `""` is no state.
/// A difference means the state was reset in the platform.
///
/// # Errors
///
/// When the returned state is not JSON.
pub fn differs(sent: &str, returned: Option<&str>) -> Result<bool, UnreadableState> {
    let returned = match returned {
        None | Some("") => Value::Null,
        Some(text) => serde_json::from_str(text).map_err(UnreadableState)?,
    };
    let sent: Value = serde_json::from_str(sent).unwrap_or(Value::Null);
    Ok(sent != returned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_non_empty_objects_are_state() {
        for raw in [
            None,
            Some(""),
            Some("null"),
            Some("{}"),
            Some("[1]"),
            Some("{bad"),
        ] {
            assert_eq!(parse_state(raw), None, "{raw:?}");
        }
        let state = parse_state(Some(r#"{"latest_run_timestamp": 1}"#)).unwrap();
        assert_eq!(state["latest_run_timestamp"], json!(1));
    }

    #[test]
    fn pings_use_python_json_or_null() {
        assert_eq!(ping_text(None), "null");
        assert_eq!(ping_text(Some(&StateMap::new())), "null");
        let state = parse_state(Some(r#"{"b": 2, "a": "é"}"#)).unwrap();
        assert_eq!(ping_text(Some(&state)), r#"{"a": "\u00e9", "b": 2}"#);
    }

    #[test]
    fn resets_are_differences_of_values() {
        assert!(!differs("null", None).unwrap());
        assert!(!differs("null", Some("")).unwrap());
        assert!(!differs(r#"{"a": 1}"#, Some(r#"{"a":1}"#)).unwrap());
        assert!(differs(r#"{"a": 1}"#, Some("")).unwrap());
        assert!(differs(r#"{"a": 1}"#, None).unwrap());
        assert!(differs("{bad", Some("{}")).unwrap());
        assert!(differs("null", Some("{not json")).is_err());
    }
}
