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
        let mut text = String::with_capacity(32);
        match Civil::of(self.timestamp) {
            Some(civil) => text.push_str(civil.seconds_text()),
            None => text.push_str(&self.timestamp.strftime("%Y-%m-%dT%H:%M:%S").to_string()),
        }
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
    match Civil::of(timestamp) {
        Some(civil) => civil.stix_text().to_owned(),
        None => timestamp.strftime(STIX_FORMAT).to_string(),
    }
}

/// Serde adapter writing a [`Timestamp`] as a STIX timestamp.
pub fn serialize<S: Serializer>(timestamp: &Timestamp, serializer: S) -> Result<S::Ok, S::Error> {
    match Civil::of(*timestamp) {
        Some(civil) => serializer.serialize_str(civil.stix_text()),
        None => serializer.collect_str(&timestamp.strftime(STIX_FORMAT)),
    }
}

const STIX_FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.3fZ";

/// `YYYY-MM-DDTHH:MM:SS.mmmZ` written digit by digit: every object carries two or three
/// timestamps, and the general `strftime` was a tenth of a Master IoC run.
struct Civil {
    text: [u8; 24],
}

impl Civil {
    /// The text of `timestamp`, for years of four digits (others go through `strftime`).
    fn of(timestamp: Timestamp) -> Option<Civil> {
        let time = jiff::tz::Offset::UTC.to_datetime(timestamp);
        let year = u32::try_from(time.year()).ok().filter(|y| *y <= 9999)?;
        let millis = time.subsec_nanosecond() as u32 / 1_000_000;
        let mut text = *b"0000-00-00T00:00:00.000Z";
        let mut put = |at: usize, width: usize, mut value: u32| {
            for slot in text[at..at + width].iter_mut().rev() {
                *slot = b'0' + (value % 10) as u8;
                value /= 10;
            }
        };
        put(0, 4, year);
        put(5, 2, time.month() as u32);
        put(8, 2, time.day() as u32);
        put(11, 2, time.hour() as u32);
        put(14, 2, time.minute() as u32);
        put(17, 2, time.second() as u32);
        put(20, 3, millis);
        Some(Civil { text })
    }

    fn stix_text(&self) -> &str {
        std::str::from_utf8(&self.text).expect("ASCII digits and separators")
    }

    /// Up to the seconds: `YYYY-MM-DDTHH:MM:SS`.
    fn seconds_text(&self) -> &str {
        &self.stix_text()[..19]
    }
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

    proptest::proptest! {
        /// The digit-by-digit text is what `strftime` writes, over the whole range.
        #[test]
        fn civil_text_is_strftime(
            seconds in -62_135_596_800i64..253_402_300_799,
            ms in 0i32..1000,
        ) {
            let t = Timestamp::new(seconds, ms * 1_000_000 + 999).unwrap();
            proptest::prop_assert_eq!(stix_timestamp(t), t.strftime(STIX_FORMAT).to_string());
            proptest::prop_assert_eq!(
                PyDateTime::naive(t).isoformat(),
                {
                    let mut text = t.strftime("%Y-%m-%dT%H:%M:%S").to_string();
                    if t.subsec_microsecond() != 0 {
                        text.push_str(&format!(".{:06}", t.subsec_microsecond()));
                    }
                    text
                }
            );
        }
    }

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
