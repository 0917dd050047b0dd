//! Times in the two textual forms that matter: STIX timestamps inside objects, and the
//! Python `isoformat()` text that pycti hashes into report and relationship ids.

use jiff::Timestamp;
use serde::Serializer;

/// A point in time as the Python connector held it: aware (UTC) or naive.
///
/// The distinction exists only for ids. A naive Python datetime prints no offset, so a
/// Master IoC detection date `2024-07-31` hashes as `2024-07-31T00:00:00`, while a
/// publication time in Unix seconds hashes as `2024-07-31T00:00:00+00:00`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PyDateTime {
    /// The instant, read as UTC when it was naive.
    pub timestamp: Timestamp,
    /// True when the source text carried no time zone.
    pub naive: bool,
}

impl PyDateTime {
    /// An aware UTC time.
    pub fn utc(timestamp: Timestamp) -> Self {
        PyDateTime {
            timestamp,
            naive: false,
        }
    }

    /// A time whose source text had no zone.
    pub fn naive(timestamp: Timestamp) -> Self {
        PyDateTime {
            timestamp,
            naive: true,
        }
    }

    /// Python's `datetime.isoformat()`: microseconds only when non-zero, `+00:00` when aware.
    ///
    /// ```
    /// use connector_kaspersky::stix::PyDateTime;
    /// let t: jiff::Timestamp = "2024-01-15T10:11:12Z".parse().unwrap();
    /// assert_eq!(PyDateTime::utc(t).isoformat(), "2024-01-15T10:11:12+00:00");
    /// assert_eq!(PyDateTime::naive(t).isoformat(), "2024-01-15T10:11:12");
    /// ```
    pub fn isoformat(&self) -> String {
        let mut text = self.timestamp.strftime("%Y-%m-%dT%H:%M:%S").to_string();
        let micros = self.timestamp.subsec_microsecond();
        if micros != 0 {
            text.push_str(&format!(".{micros:06}"));
        }
        if !self.naive {
            text.push_str("+00:00");
        }
        text
    }
}

/// A STIX 2.1 timestamp with millisecond precision: `2024-01-15T10:11:12.000Z`.
pub fn stix_timestamp(timestamp: Timestamp) -> String {
    timestamp.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// Serde adapter writing a [`Timestamp`] as a STIX timestamp.
pub fn serialize<S: Serializer>(timestamp: &Timestamp, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(&timestamp.strftime("%Y-%m-%dT%H:%M:%S%.3fZ"))
}

/// Serde adapter for an optional [`Timestamp`]; use with `skip_serializing_if`.
pub fn serialize_option<S: Serializer>(
    timestamp: &Option<Timestamp>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match timestamp {
        Some(timestamp) => serialize(timestamp, serializer),
        None => serializer.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn isoformat_keeps_microseconds_only_when_present() {
        let t: Timestamp = "2024-01-15T10:11:12.000250Z".parse().unwrap();
        assert_eq!(
            PyDateTime::utc(t).isoformat(),
            "2024-01-15T10:11:12.000250+00:00"
        );
        let t: Timestamp = "2024-01-15T10:11:12Z".parse().unwrap();
        assert_eq!(stix_timestamp(t), "2024-01-15T10:11:12.000Z");
    }

    #[test]
    fn naive_dates_print_without_offset() {
        let t: Timestamp = "2024-07-31T00:00:00Z".parse().unwrap();
        assert_eq!(PyDateTime::naive(t).isoformat(), "2024-07-31T00:00:00");
    }
}
