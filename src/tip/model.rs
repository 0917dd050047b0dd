//! The publication object of the TIP, read leniently where the API is undocumented.
//!
//! The date fields have no published format (integer Unix seconds is the best guess), and
//! the tag lists appear as comma-joined strings in one client, so both are read in every
//! shape seen or plausible. Files stay base64 text here; `formats::payload` decodes them.

use std::fmt;

use jiff::Timestamp;
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

use crate::stix::PyDateTime;

/// One publication, as `get_list` (metadata only) or `get_one` (with files) returns it.
#[derive(Clone, PartialEq, Eq, Deserialize)]
pub struct Publication {
    /// Opaque id used by `get_one` (a number is read as its decimal text).
    #[serde(deserialize_with = "id_text")]
    pub id: String,
    /// Report title.
    pub name: String,
    /// Short description; empty when absent or null.
    #[serde(default, deserialize_with = "text_or_null")]
    pub desc: String,
    /// First publication time.
    #[serde(deserialize_with = "tip_time")]
    pub published: PyDateTime,
    /// Last change; drives the incremental state.
    #[serde(deserialize_with = "tip_time")]
    pub updated: PyDateTime,
    /// `apt`, `fin`, `ics`, ...; empty when absent.
    #[serde(default, deserialize_with = "text_or_null")]
    pub report_group: String,
    /// Labels.
    #[serde(default, deserialize_with = "tag_list")]
    pub tags: Vec<String>,
    /// Sector names.
    #[serde(default, deserialize_with = "tag_list")]
    pub tags_industry: Vec<String>,
    /// Country or region names.
    #[serde(default, deserialize_with = "tag_list")]
    pub tags_geo: Vec<String>,
    /// Intrusion set names.
    #[serde(default, deserialize_with = "tag_list")]
    pub tags_actors: Vec<String>,
    /// Base64 of the gzipped PDF (only from `get_one` with `pdf`).
    #[serde(default, deserialize_with = "payload")]
    pub report_pdf: Option<String>,
    /// Base64 of the gzipped YARA text (only from `get_one` with `yara`).
    #[serde(default, deserialize_with = "payload")]
    pub report_yara: Option<String>,
    /// Base64 of the gzipped OpenIOC XML (only from `get_one` with `iocs`).
    #[serde(default, deserialize_with = "payload")]
    pub report_iocs: Option<String>,
}

impl fmt::Debug for Publication {
    /// Everything but the payloads, which can be megabytes: those show their length.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let length = |payload: &Option<String>| payload.as_ref().map(String::len);
        f.debug_struct("Publication")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("desc", &self.desc)
            .field("published", &self.published.isoformat())
            .field("updated", &self.updated.isoformat())
            .field("report_group", &self.report_group)
            .field("tags", &self.tags)
            .field("tags_industry", &self.tags_industry)
            .field("tags_geo", &self.tags_geo)
            .field("tags_actors", &self.tags_actors)
            .field("report_pdf_len", &length(&self.report_pdf))
            .field("report_yara_len", &length(&self.report_yara))
            .field("report_iocs_len", &length(&self.report_iocs))
            .finish()
    }
}

/// Reads a TIP time: integer or float Unix seconds, a numeric string, or an ISO 8601 /
/// RFC 3339 string with `Z` or an offset. A string without offset is read as UTC.
///
/// ```
/// use connector_kaspersky::tip::model::parse_tip_time;
/// let a = parse_tip_time("1700780519").unwrap();
/// let b = parse_tip_time("2023-11-23T23:01:59Z").unwrap();
/// let c = parse_tip_time("2023-11-24T01:01:59+02:00").unwrap();
/// let d = parse_tip_time("2023-11-23T23:01:59").unwrap();
/// assert!(a == b && b == c && c == d);
/// ```
pub fn parse_tip_time(text: &str) -> Option<Timestamp> {
    let text = text.trim();
    if let Ok(seconds) = text.parse::<i64>() {
        return Timestamp::from_second(seconds).ok();
    }
    if text
        .bytes()
        .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-')
    {
        return text.parse::<f64>().ok().and_then(float_time);
    }
    if let Ok(timestamp) = text.parse::<Timestamp>() {
        return Some(timestamp);
    }
    let naive = text.parse::<jiff::civil::DateTime>().ok()?;
    jiff::tz::TimeZone::UTC.to_timestamp(naive).ok()
}

fn float_time(seconds: f64) -> Option<Timestamp> {
    if !seconds.is_finite() {
        return None;
    }
    let nanos = (seconds * 1e9).round();
    if nanos.abs() > 1e30 {
        return None;
    }
    // Keep microseconds like Python's float-to-datetime does; nanoseconds are noise.
    let micros = (nanos / 1e3).round() as i128;
    Timestamp::from_nanosecond(micros * 1000).ok()
}

fn tip_time<'de, D: Deserializer<'de>>(deserializer: D) -> Result<PyDateTime, D::Error> {
    struct TimeVisitor;

    impl Visitor<'_> for TimeVisitor {
        type Value = PyDateTime;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("Unix seconds or an ISO 8601 date-time")
        }

        fn visit_i64<E: de::Error>(self, v: i64) -> Result<PyDateTime, E> {
            Timestamp::from_second(v)
                .map(PyDateTime::utc)
                .map_err(|_| E::custom(format!("time {v} is out of range")))
        }

        fn visit_u64<E: de::Error>(self, v: u64) -> Result<PyDateTime, E> {
            let seconds = i64::try_from(v).map_err(|_| E::custom("time is out of range"))?;
            self.visit_i64(seconds)
        }

        fn visit_f64<E: de::Error>(self, v: f64) -> Result<PyDateTime, E> {
            float_time(v)
                .map(PyDateTime::utc)
                .ok_or_else(|| E::custom(format!("time {v} is out of range")))
        }

        fn visit_str<E: de::Error>(self, v: &str) -> Result<PyDateTime, E> {
            parse_tip_time(v)
                .map(PyDateTime::utc)
                .ok_or_else(|| E::custom(format!("unreadable time {v:?}")))
        }
    }

    deserializer.deserialize_any(TimeVisitor)
}

fn id_text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    struct IdVisitor;

    impl Visitor<'_> for IdVisitor {
        type Value = String;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a publication id (string)")
        }

        fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
            if v.trim().is_empty() {
                return Err(E::custom("empty publication id"));
            }
            Ok(v.to_owned())
        }

        fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
            Ok(v.to_string())
        }

        fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
            Ok(v.to_string())
        }
    }

    deserializer.deserialize_any(IdVisitor)
}

fn text_or_null<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(deserializer)?.unwrap_or_default())
}

/// A payload; null and blank strings count as absent.
fn payload<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    let value = Option::<String>::deserialize(deserializer)?;
    Ok(value.filter(|text| !text.trim().is_empty()))
}

/// A list of strings, or one comma-joined string; null is empty. Entries are trimmed and
/// empty entries dropped.
fn tag_list<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Tags {
        List(Vec<Option<String>>),
        Joined(String),
    }

    let tags = match Option::<Tags>::deserialize(deserializer) {
        Ok(tags) => tags,
        Err(_) => return Err(de::Error::custom("expected a list of strings or a string")),
    };
    let entries: Vec<String> = match tags {
        None => Vec::new(),
        Some(Tags::List(list)) => list.into_iter().flatten().collect(),
        Some(Tags::Joined(text)) => text.split(',').map(str::to_owned).collect(),
    };
    Ok(entries
        .into_iter()
        .map(|entry| entry.trim().to_owned())
        .filter(|entry| !entry.is_empty())
        .collect())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn publication(value: serde_json::Value) -> Result<Publication, serde_json::Error> {
        serde_json::from_value(value)
    }

    fn minimal() -> serde_json::Value {
        json!({
            "id": "a1b2c3",
            "name": "Fictional report",
            "published": 1700000000,
            "updated": "2023-11-23T23:01:59Z",
        })
    }

    #[test]
    fn every_time_shape_is_read_as_utc() {
        let expected: Timestamp = "2023-11-14T22:13:20Z".parse().unwrap();
        for value in [
            json!(1700000000),
            json!(1700000000.0),
            json!("1700000000"),
            json!("1700000000.0"),
            json!("2023-11-14T22:13:20Z"),
            json!("2023-11-14T22:13:20+00:00"),
            json!("2023-11-15T01:13:20+03:00"),
            json!("2023-11-14T22:13:20"),
            json!("2023-11-14 22:13:20"),
            json!("2023-11-14T22:13:20.000Z"),
        ] {
            let mut body = minimal();
            body["published"] = value.clone();
            let parsed = publication(body).unwrap();
            assert_eq!(parsed.published.timestamp, expected, "{value}");
            assert!(!parsed.published.naive, "{value}");
        }
    }

    #[test]
    fn float_seconds_keep_microseconds() {
        let time = parse_tip_time("1700000000.25").unwrap();
        assert_eq!(time.subsec_microsecond(), 250_000);
    }

    #[test]
    fn unreadable_times_are_errors_naming_the_value() {
        let mut body = minimal();
        body["updated"] = json!("last Tuesday");
        let error = publication(body).unwrap_err().to_string();
        assert!(error.contains("last Tuesday"), "{error}");
        assert_eq!(parse_tip_time(""), None);
        assert_eq!(parse_tip_time("NaN"), None);
    }

    #[test]
    fn missing_optional_fields_default_and_missing_id_is_an_error() {
        let parsed = publication(minimal()).unwrap();
        assert_eq!(parsed.desc, "");
        assert!(parsed.tags.is_empty() && parsed.tags_geo.is_empty());
        assert_eq!(parsed.report_pdf, None);

        let mut body = minimal();
        body.as_object_mut().unwrap().remove("id");
        let error = publication(body).unwrap_err().to_string();
        assert!(error.contains("missing field `id`"), "{error}");
    }

    #[test]
    fn tags_accept_lists_comma_strings_and_null() {
        let mut body = minimal();
        body["tags"] = json!(["RAT", " loader ", "", null]);
        body["tags_geo"] = json!("Korea, Republic of");
        body["tags_actors"] = json!(null);
        body["tags_industry"] = json!("Energy, Government,");
        let parsed = publication(body).unwrap();
        assert_eq!(parsed.tags, ["RAT", "loader"]);
        // A comma string cannot tell a country name with a comma from two names.
        assert_eq!(parsed.tags_geo, ["Korea", "Republic of"]);
        assert!(parsed.tags_actors.is_empty());
        assert_eq!(parsed.tags_industry, ["Energy", "Government"]);

        let mut body = minimal();
        body["tags"] = json!(42);
        assert!(publication(body).is_err());
    }

    #[test]
    fn numeric_ids_become_text_and_blank_payloads_are_absent() {
        let mut body = minimal();
        body["id"] = json!(12345);
        body["report_pdf"] = json!("");
        body["report_iocs"] = json!("H4sI");
        let parsed = publication(body).unwrap();
        assert_eq!(parsed.id, "12345");
        assert_eq!(parsed.report_pdf, None);
        assert_eq!(parsed.report_iocs.as_deref(), Some("H4sI"));
    }

    #[test]
    fn debug_prints_payload_lengths_not_payloads() {
        let mut body = minimal();
        body["report_pdf"] = json!("A".repeat(10_000));
        let text = format!("{:?}", publication(body).unwrap());
        assert!(text.contains("report_pdf_len: Some(10000)"), "{text}");
        assert!(text.len() < 1000);
    }
}
