//! One lenient date parser for every date form seen in Kaspersky data.
//!
//! YARA `last_modified` meta, OpenIOC `authored_date`/`last-modified` and the TIP's own
//! timestamps all come through here, so the scopes never guess at a format themselves
//! (DESIGN.md difference 5).

use jiff::Timestamp;
use jiff::civil::{Date, DateTime};
use jiff::fmt::strtime;
use jiff::tz::Offset;

/// The earliest year taken as a real date; older ones are placeholders such as the
/// `0001-01-01T00:00:00` that some OpenIOC writers put in empty fields. The Master IoC
/// reader holds its strict dates to the same window.
pub(crate) const MIN_YEAR: i16 = 1900;

/// The latest year taken as a real date.
pub(crate) const MAX_YEAR: i16 = 9999;

/// Day-first and dotted numeric forms, tried in this order. The ISO forms (with dashes,
/// `T` or a space, `YYYYMMDD`) are read by jiff's own ISO 8601 parser before these.
const NUMERIC_FORMATS: &[&str] = &["%d-%m-%Y", "%d.%m.%Y", "%Y.%m.%d"];

/// Forms with a month name; jiff matches names case-insensitively, and `%b` takes only
/// the abbreviation while `%B` takes only the full name, hence both.
const MONTH_NAME_FORMATS: &[&str] = &[
    "%b %d %Y",
    "%b %d, %Y",
    "%B %d %Y",
    "%B %d, %Y",
    "%d %b %Y",
    "%d %B %Y",
    "%d %b, %Y",
    "%d %B, %Y",
];

/// Parses a date or date-time in any of the forms of DESIGN.md difference 5, as UTC.
///
/// Accepted, after trimming blanks:
///
/// - RFC 3339 / ISO 8601 date-times with `Z` or a numeric offset, with or without
///   fractional seconds (`2024-03-14T10:22:01.5+02:00`);
/// - the same without an offset, read as UTC (`2024-03-14T10:22:01`,
///   `2024-03-14 10:22:01`);
/// - dates at midnight UTC: `2024-03-14`, `20240314` (always a date, never Unix
///   seconds), `14-03-2024` and `14.03.2024` (day first), `2024.03.14`, `2024-03` (the
///   first of the month), and month names in any case: `Mar 14 2024`, `Mar 14, 2024`,
///   `March 14 2024`, `March 14, 2024`, `14 Mar 2024`, `14 March 2024`;
/// - any of those wrapped in a one-element list literal, `['2024-03-14']` or
///   `["2024-03-14"]` (the first element is read).
///
/// Returns `None` for blanks, `-`, anything unreadable, impossible dates (`31.02.2024`)
/// and years outside 1900..=9999 (placeholders such as `0001-01-01`).
///
/// ```
/// use connector_kaspersky::formats::dates::parse;
///
/// let day = parse("2024-03-14").unwrap();
/// assert_eq!(parse("14.03.2024"), Some(day));
/// assert_eq!(parse("['March 14, 2024']"), Some(day));
/// assert_eq!(parse("-"), None);
/// ```
pub fn parse(text: &str) -> Option<Timestamp> {
    let text = unwrap_list(text.trim()).trim();
    if text.is_empty() || text == "-" {
        return None;
    }

    let timestamp = parse_iso(text)
        .or_else(|| parse_year_month(text))
        .or_else(|| parse_with_formats(text, NUMERIC_FORMATS))
        .or_else(|| parse_with_formats(text, MONTH_NAME_FORMATS))?;

    let year = Offset::UTC.to_datetime(timestamp).year();
    (MIN_YEAR..=MAX_YEAR).contains(&year).then_some(timestamp)
}

/// The first element of a Python-style list literal (`['a', 'b']`), or the text itself.
/// A quoted element runs to its closing quote, so it may hold commas.
fn unwrap_list(text: &str) -> &str {
    let Some(inner) = text.strip_prefix('[').and_then(|t| t.strip_suffix(']')) else {
        return text;
    };
    let inner = inner.trim_start();
    for quote in ['\'', '"'] {
        if let Some(quoted) = inner.strip_prefix(quote) {
            return quoted.split(quote).next().unwrap_or_default();
        }
    }
    inner.split(',').next().unwrap_or_default()
}

/// ISO 8601 with an offset, then without one (read as UTC).
fn parse_iso(text: &str) -> Option<Timestamp> {
    // Only texts that start like a year: jiff also reads `+002024-...` and
    // the like, which no source here writes, but nothing else must slip in.
    if !text.as_bytes().first().is_some_and(u8::is_ascii_digit) {
        return None;
    }
    if let Ok(timestamp) = text.parse::<Timestamp>() {
        return Some(timestamp);
    }
    let datetime = text.parse::<DateTime>().ok()?;
    Offset::UTC.to_timestamp(datetime).ok()
}

/// `YYYY-MM`, the first of that month.
fn parse_year_month(text: &str) -> Option<Timestamp> {
    let (year, month) = text.split_once('-')?;
    if year.len() != 4 || month.len() != 2 {
        return None;
    }
    if !(year.bytes().all(|b| b.is_ascii_digit()) && month.bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    let date = Date::new(year.parse().ok()?, month.parse().ok()?, 1).ok()?;
    midnight_utc(date)
}

/// The first of `formats` that reads the whole text as a date.
fn parse_with_formats(text: &str, formats: &[&str]) -> Option<Timestamp> {
    formats
        .iter()
        .find_map(|format| {
            strtime::parse(format, text)
                .and_then(|tm| tm.to_date())
                .ok()
        })
        .and_then(midnight_utc)
}

fn midnight_utc(date: Date) -> Option<Timestamp> {
    Offset::UTC
        .to_timestamp(date.to_datetime(jiff::civil::Time::midnight()))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ts(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    /// Every form the upstream fix (#5941) and our samples name, with its answer.
    #[test]
    fn table() {
        let cases: &[(&str, &str)] = &[
            // RFC 3339 / ISO with offset, fractions, lower case
            ("2018-10-12T00:00:00Z", "2018-10-12T00:00:00Z"),
            ("2024-03-14T10:22:01Z", "2024-03-14T10:22:01Z"),
            ("2024-03-14T10:22:01.123456Z", "2024-03-14T10:22:01.123456Z"),
            ("2024-03-14T10:22:01+02:00", "2024-03-14T08:22:01Z"),
            ("2024-03-14T10:22:01.5-01:00", "2024-03-14T11:22:01.5Z"),
            ("2024-03-14t10:22:01z", "2024-03-14T10:22:01Z"),
            ("2024-03-14 10:22:01Z", "2024-03-14T10:22:01Z"),
            // without offset: UTC
            ("2024-03-14T10:22:01", "2024-03-14T10:22:01Z"),
            ("2024-03-14T10:22:01.250", "2024-03-14T10:22:01.25Z"),
            ("2024-03-14 10:22:01", "2024-03-14T10:22:01Z"),
            // dates
            ("2018-10-12", "2018-10-12T00:00:00Z"),
            ("12-10-2018", "2018-10-12T00:00:00Z"),
            ("12.10.2018", "2018-10-12T00:00:00Z"),
            ("2018.10.12", "2018-10-12T00:00:00Z"),
            ("2023.01.01", "2023-01-01T00:00:00Z"),
            ("2018-10", "2018-10-01T00:00:00Z"),
            ("20240314", "2024-03-14T00:00:00Z"),
            ("Oct 12 2018", "2018-10-12T00:00:00Z"),
            ("Oct 12, 2018", "2018-10-12T00:00:00Z"),
            ("October 12 2018", "2018-10-12T00:00:00Z"),
            ("October 12, 2018", "2018-10-12T00:00:00Z"),
            ("oct 12, 2018", "2018-10-12T00:00:00Z"),
            ("OCTOBER 12 2018", "2018-10-12T00:00:00Z"),
            ("14 Mar 2024", "2024-03-14T00:00:00Z"),
            ("14 March 2024", "2024-03-14T00:00:00Z"),
            ("March 14, 2024", "2024-03-14T00:00:00Z"),
            ("Mar 4 2024", "2024-03-04T00:00:00Z"),
            // list-wrapped
            ("['2020-03-05']", "2020-03-05T00:00:00Z"),
            ("[\"2020-03-05\"]", "2020-03-05T00:00:00Z"),
            ("['2020-03-05', '2021-01-01']", "2020-03-05T00:00:00Z"),
            ("[2020-03-05]", "2020-03-05T00:00:00Z"),
            ("['March 5, 2020', 'x']", "2020-03-05T00:00:00Z"),
            ("[ \"5 Mar 2020\" ]", "2020-03-05T00:00:00Z"),
            ("  2024-03-14  ", "2024-03-14T00:00:00Z"),
        ];
        for (text, want) in cases {
            assert_eq!(parse(text), Some(ts(want)), "{text:?}");
        }
    }

    /// Blanks, placeholders, garbage and impossible dates give no date.
    #[test]
    fn rejects() {
        let cases = [
            "",
            "   ",
            "-",
            "['-']",
            "[]",
            "not-a-date",
            "2024",
            "1710400000",
            "31.02.2024",
            "2024-13-01",
            "2024-02-30",
            "32-01-2024",
            "0001-01-01T00:00:00",
            "0001-01-01",
            "14-03-24",
            "1899-12-31",
            "+002024-03-14",
            "2024-03-14 junk",
            "Smarch 14, 2024",
            "2024/03/14x",
        ];
        for text in cases {
            assert_eq!(parse(text), None, "{text:?}");
        }
    }

    /// Every `last_modified` form of the synthetic Master YARA file.
    #[test]
    fn master_yara_forms() {
        let day = Some(ts("2024-03-14T00:00:00Z"));
        for text in [
            "2024-03-14",
            "14-03-2024",
            "14.03.2024",
            "2024.03.14",
            "March 14, 2024",
            "14 Mar 2024",
            "20240314",
            "['2024-03-14']",
        ] {
            assert_eq!(parse(text), day, "{text:?}");
        }
        let time = Some(ts("2024-03-14T10:22:01Z"));
        for text in [
            "2024-03-14T10:22:01",
            "2024-03-14T10:22:01Z",
            "2024-03-14 10:22:01",
        ] {
            assert_eq!(parse(text), time, "{text:?}");
        }
        assert_eq!(parse("2024-03"), Some(ts("2024-03-01T00:00:00Z")));
        assert_eq!(parse("January 17, 2024"), Some(ts("2024-01-17T00:00:00Z")));
        assert_eq!(parse("03 Dec 2023"), Some(ts("2023-12-03T00:00:00Z")));
        assert_eq!(parse("December 06, 2023"), Some(ts("2023-12-06T00:00:00Z")));
        assert_eq!(parse("-"), None);
    }

    /// The same, read from the shared sample file itself.
    #[test]
    fn master_yara_sample_values() {
        let Some(path) = crate::testdata::shared("samples/decoded/master_yara.yar") else {
            return;
        };
        let text = std::fs::read_to_string(path).unwrap();
        let values: Vec<&str> = text
            .lines()
            .filter_map(|line| line.trim().strip_prefix("last_modified = "))
            .map(|value| value.trim_matches('"'))
            .collect();
        assert!(values.len() > 30);
        for value in values {
            assert_eq!(parse(value).is_some(), value != "-", "{value:?}");
        }
    }

    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];

    /// A random date written in each supported shape reads back to itself.
    fn shapes(date: Date) -> Vec<String> {
        let (y, m, d) = (date.year(), date.month(), date.day());
        let full = MONTHS[usize::try_from(m - 1).unwrap()];
        let abbr = &full[..3];
        vec![
            format!("{y:04}-{m:02}-{d:02}"),
            format!("{y:04}{m:02}{d:02}"),
            format!("{d:02}-{m:02}-{y:04}"),
            format!("{d:02}.{m:02}.{y:04}"),
            format!("{y:04}.{m:02}.{d:02}"),
            format!("{abbr} {d} {y}"),
            format!("{abbr} {d:02}, {y}"),
            format!("{full} {d} {y}"),
            format!("{full} {d}, {y}"),
            format!("{d} {abbr} {y}"),
            format!("['{y:04}-{m:02}-{d:02}']"),
            format!("[\"{d:02}.{m:02}.{y:04}\"]"),
            format!("['{full} {d}, {y}']"),
            format!("{y:04}-{m:02}-{d:02}T00:00:00Z"),
            format!("{y:04}-{m:02}-{d:02}T00:00:00"),
            format!("{y:04}-{m:02}-{d:02} 00:00:00"),
            format!("{y:04}-{m:02}-{d:02}T00:00:00.000+00:00"),
        ]
    }

    proptest! {
        #[test]
        fn every_shape_round_trips(y in 1900i16..=9999, m in 1i8..=12, d in 1i8..=31) {
            let Ok(date) = Date::new(y, m, d) else {
                return Ok(());
            };
            let want = midnight_utc(date);
            for text in shapes(date) {
                prop_assert_eq!(parse(&text), want, "{}", text);
            }
            let month = format!("{y:04}-{m:02}");
            prop_assert_eq!(parse(&month), midnight_utc(Date::new(y, m, 1).unwrap()));
        }

        #[test]
        fn times_round_trip(
            seconds in -2_208_988_800i64..253_402_300_799,
            nanos in 0i32..1_000_000_000,
        ) {
            let want = Timestamp::new(seconds, nanos).unwrap();
            prop_assert_eq!(parse(&want.to_string()), Some(want));
            let naive = Offset::UTC.to_datetime(want).to_string();
            prop_assert_eq!(parse(&naive), Some(want));
        }

        #[test]
        fn never_panics(text in "\\PC{0,40}") {
            let _ = parse(&text);
        }
    }
}
