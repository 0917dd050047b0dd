//! The OpenIOC parser.
//!
//! Checks: text that is not UTF-8 is refused with the offset of the first bad byte; a
//! parsed document has no more items than the text names `IndicatorItem`, every
//! `content` is trimmed and non-empty, `negate` comes only from a `negate` attribute,
//! every date lies within years 1900..=9999, and parsing is deterministic.

#![no_main]

use connector_kaspersky::formats::openioc::{self, OpenIocError};
use jiff::Timestamp;
use jiff::tz::Offset;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let parsed = openioc::parse(data);

    let body = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
    let bom = data.len() - body.len();
    let text = match std::str::from_utf8(body) {
        Ok(text) => text,
        Err(err) => {
            let want = bom + err.valid_up_to();
            assert!(
                matches!(parsed, Err(OpenIocError::NotUtf8 { offset }) if offset == want),
                "{parsed:?}, expected NotUtf8 at {want}"
            );
            return;
        }
    };

    let Ok(document) = parsed else {
        return;
    };
    assert!(document.items.len() <= text.matches("IndicatorItem").count());
    for date in [document.authored_date, document.last_modified]
        .into_iter()
        .flatten()
    {
        assert_year_in_range(date);
    }
    for item in &document.items {
        if let Some(content) = &item.content {
            assert!(!content.is_empty());
            assert_eq!(content.trim(), content);
        }
        assert!(!item.negate || text.contains("negate"));
    }

    assert_eq!(openioc::parse(data).ok(), Some(document));
});

fn assert_year_in_range(date: Timestamp) {
    let year = Offset::UTC.to_datetime(date).year();
    assert!((1900..=9999).contains(&year), "year {year}");
}
