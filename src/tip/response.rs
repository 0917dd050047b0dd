//! Reading the JSON answers of the four endpoints: the envelope, then the typed data.
//!
//! Every answer is `{"status": "ok", "return_data": ...}`. Anything else is a failure of
//! the TIP, reported with the start of the body; an `ok` answer whose data has the wrong
//! shape is reported with what was wrong. These are pure functions over the body bytes, so
//! `convert` can read saved answers the same way the client reads live ones.

use std::borrow::Cow;
use std::collections::HashMap;

use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::error::Category;
use serde_json::value::RawValue;

use super::error::excerpt;
use super::{Endpoint, Publication, TipError};

/// The `return_data` of `get_list`.
#[derive(Clone, Debug)]
pub struct PublicationList {
    /// The `count` the TIP announced, when it sent one.
    pub count: Option<u64>,
    /// The publications, metadata only.
    pub publications: Vec<Publication>,
    /// Entries that are not publications, each named by position (and id when it has
    /// one) with what was wrong: left out, the others go on.
    pub rejected: Vec<String>,
}

#[derive(Deserialize)]
struct Head {
    #[serde(default)]
    status: Option<serde_json::Value>,
    #[serde(default)]
    return_data: Option<IgnoredAny>,
}

#[derive(Deserialize)]
struct Envelope<T> {
    return_data: T,
}

#[derive(Deserialize)]
struct ListData {
    #[serde(default)]
    count: Option<u64>,
    publications: Vec<serde_json::Value>,
}

/// Checks `status == "ok"` and the presence of `return_data`.
pub fn check_envelope(endpoint: Endpoint, body: &[u8]) -> Result<(), TipError> {
    let head: Head = serde_json::from_slice(body).map_err(|error| match error.classify() {
        Category::Data => TipError::Envelope {
            endpoint,
            reason: "not a JSON object with `status` and `return_data`".to_owned(),
            excerpt: excerpt(body),
        },
        _ => TipError::Json {
            endpoint,
            reason: error.to_string(),
            excerpt: excerpt(body),
        },
    })?;

    let status_ok = matches!(&head.status, Some(serde_json::Value::String(s)) if s == "ok");
    if !status_ok {
        let reason = match &head.status {
            None => "no `status`".to_owned(),
            Some(status) => format!("status {status}"),
        };
        return Err(TipError::Envelope {
            endpoint,
            reason,
            excerpt: excerpt(body),
        });
    }
    if head.return_data.is_none() {
        return Err(TipError::Envelope {
            endpoint,
            reason: "no `return_data`".to_owned(),
            excerpt: excerpt(body),
        });
    }
    Ok(())
}

/// Reads a `get_list` answer.
///
/// # Errors
///
/// [`TipError::Envelope`] / [`TipError::Json`] as [`check_envelope`];
/// [`TipError::Shape`] when `return_data` is not a list of publications at all. One bad
/// entry does not spoil the list: it goes to [`PublicationList::rejected`].
pub fn parse_list(body: &[u8]) -> Result<PublicationList, TipError> {
    let endpoint = Endpoint::GetList;
    check_envelope(endpoint, body)?;

    let envelope: Envelope<ListData> = serde_json::from_slice(body)
        .map_err(|error| shape(endpoint, "return_data", error, body))?;
    let ListData {
        count,
        publications,
    } = envelope.return_data;

    let total = publications.len();
    let mut parsed = Vec::with_capacity(total);
    let mut rejected = Vec::new();
    for (index, value) in publications.into_iter().enumerate() {
        let id = value
            .get("id")
            .and_then(|id| id.as_str())
            .map(str::to_owned);
        match serde_json::from_value::<Publication>(value) {
            Ok(publication) => parsed.push(publication),
            Err(error) => {
                let mut place = format!("publications[{index}] of {total}");
                if let Some(id) = id {
                    place.push_str(&format!(" (id {id:?})"));
                }
                rejected.push(format!("{place}: {error}"));
            }
        }
    }
    Ok(PublicationList {
        count,
        publications: parsed,
        rejected,
    })
}

/// Reads a `get_one` answer: `return_data` is the publication itself.
pub fn parse_one(body: &[u8]) -> Result<Publication, TipError> {
    let endpoint = Endpoint::GetOne;
    check_envelope(endpoint, body)?;
    let envelope: Envelope<Publication> = serde_json::from_slice(body)
        .map_err(|error| shape(endpoint, "return_data (the publication)", error, body))?;
    Ok(envelope.return_data)
}

/// Reads a Master file answer: the base64 text of `return_data.<field>`.
///
/// The answer is taken by value because its buffer becomes the result: the base64 text
/// is moved to the front of the body and the rest is released, so a Master file of
/// hundreds of megabytes is never held twice (its JSON answer is little more than that
/// one string).
///
/// # Errors
///
/// [`TipError::Envelope`] / [`TipError::Json`] as [`check_envelope`];
/// [`TipError::Shape`] when `return_data` has no `field` or it is not a string.
pub fn parse_master(
    endpoint: Endpoint,
    field: &str,
    mut body: Vec<u8>,
) -> Result<String, TipError> {
    check_envelope(endpoint, &body)?;
    let envelope: Envelope<HashMap<Cow<'_, str>, &RawValue>> = serde_json::from_slice(&body)
        .map_err(|error| shape(endpoint, "return_data", error, &body))?;
    let missing = || TipError::Shape {
        endpoint,
        what: format!("return_data has no `{field}`"),
        excerpt: excerpt(&body),
    };
    let raw = envelope.return_data.get(field).ok_or_else(missing)?.get();

    let Some(quoted) = raw.strip_prefix('"').and_then(|r| r.strip_suffix('"')) else {
        let value: serde_json::Value = serde_json::from_str(raw).unwrap_or_default();
        return Err(TipError::Shape {
            endpoint,
            what: format!("return_data.{field} is {}, expected a string", kind(&value)),
            excerpt: excerpt(&body),
        });
    };
    if quoted.contains('\\') {
        // Escapes (`\/`, `\n`): rare in base64, worth a copy to get them right.
        return serde_json::from_str(raw).map_err(|error| shape(endpoint, field, error, &body));
    }

    // The text lies inside `body`: move it to the front and give the rest back.
    let start = quoted.as_ptr() as usize - body.as_ptr() as usize;
    let len = quoted.len();
    drop(envelope);
    body.copy_within(start..start + len, 0);
    body.truncate(len);
    body.shrink_to_fit();
    String::from_utf8(body).map_err(|error| TipError::Shape {
        endpoint,
        what: format!("return_data.{field} is not UTF-8"),
        excerpt: excerpt(error.as_bytes()),
    })
}

fn shape(endpoint: Endpoint, place: &str, error: serde_json::Error, body: &[u8]) -> TipError {
    TipError::Shape {
        endpoint,
        what: format!("{place}: {error}"),
        excerpt: excerpt(body),
    }
}

fn kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "a list",
        serde_json::Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PUBLICATION: &str = r#"{"id": "p1", "name": "Fictional", "desc": "d",
        "published": 1700000000, "updated": 1700000100, "report_group": "apt",
        "tags": [], "tags_industry": [], "tags_geo": [], "tags_actors": []}"#;

    #[test]
    fn a_list_answer_is_read() {
        let body = format!(
            r#"{{"status": "ok", "return_data": {{"count": 1, "publications": [{PUBLICATION}]}}}}"#
        );
        let list = parse_list(body.as_bytes()).unwrap();
        assert_eq!(list.count, Some(1));
        assert_eq!(list.publications[0].id, "p1");
    }

    #[test]
    fn a_non_ok_status_quotes_the_body() {
        let body = br#"{"status": "error", "status_msg": "quota exceeded"}"#;
        let error = parse_list(body).unwrap_err();
        assert!(matches!(error, TipError::Envelope { .. }));
        let text = error.to_string();
        assert!(
            text.contains("quota exceeded") && text.contains("\"error\""),
            "{text}"
        );
    }

    #[test]
    fn missing_return_data_and_non_json_are_errors() {
        let error = parse_one(br#"{"status": "ok"}"#).unwrap_err();
        assert!(error.to_string().contains("no `return_data`"), "{error}");
        let error = parse_one(br#"{"status": "ok", "return_data": null}"#).unwrap_err();
        assert!(matches!(error, TipError::Envelope { .. }));
        let error = parse_one(b"<html>Bad gateway</html>").unwrap_err();
        assert!(matches!(error, TipError::Json { .. }));
        assert!(error.to_string().contains("<html>Bad gateway"), "{error}");
        let error = parse_one(b"[1, 2]").unwrap_err();
        assert!(matches!(error, TipError::Envelope { .. }));
    }

    #[test]
    fn wrong_shapes_name_what_was_wrong() {
        let error = parse_list(br#"{"status": "ok", "return_data": "nothing"}"#).unwrap_err();
        assert!(matches!(error, TipError::Shape { .. }));
        assert!(
            error.to_string().contains("invalid type: string"),
            "{error}"
        );

        let body = format!(
            r#"{{"status": "ok", "return_data": {{"publications": [{PUBLICATION}, {{"id": "p2",
            "name": "n", "published": 1}}]}}}}"#
        );
        let list = parse_list(body.as_bytes()).unwrap();
        assert_eq!(list.publications.len(), 1, "the good entry is kept");
        let rejected = &list.rejected[0];
        assert!(
            rejected.contains("publications[1] of 2 (id \"p2\")"),
            "{rejected}"
        );
        assert!(rejected.contains("missing field `updated`"), "{rejected}");
    }

    #[test]
    fn master_answers_give_the_payload_text() {
        let body = br#"{"status": "ok", "return_data": {"master_ioc": "H4sIAAAA"}}"#;
        let text = parse_master(Endpoint::GetMasterIoc, "master_ioc", body.to_vec()).unwrap();
        assert_eq!(text, "H4sIAAAA");
        let body = br#"{"status": "ok", "return_data": {"master_yara": 7}}"#;
        let error = parse_master(Endpoint::GetMasterYara, "master_yara", body.to_vec());
        let error = error.unwrap_err();
        assert!(
            error
                .to_string()
                .contains("return_data.master_yara is a number"),
            "{error}"
        );
        let error = parse_master(Endpoint::GetMasterIoc, "master_ioc", body.to_vec());
        let error = error.unwrap_err();
        assert!(error.to_string().contains("no `master_ioc`"), "{error}");
    }
}
