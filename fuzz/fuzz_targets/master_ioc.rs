//! The Master IoC CSV row iterator.
//!
//! Checks: line numbers (of rows and of errors) strictly increase and stay within the
//! text; no more items come out than the text has lines; a row has a non-blank
//! publication and indicator and a detection date at midnight within years 1900..=9999;
//! a value borrowed from the text lies on the row's own line; every row read again from
//! its position (as grouping does) is the row first read.

#![no_main]

use std::borrow::Cow;

use connector_kaspersky::formats::master_ioc;
use jiff::tz::Offset;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // Byte offset where each 1-based line starts, and one past the end. A line ends at
    // `\n`, `\r\n` or a lone `\r`, as csv ends a record.
    let bytes = text.as_bytes();
    let mut starts = vec![0];
    starts.extend(
        (0..bytes.len())
            .filter(|&i| {
                bytes[i] == b'\n' || (bytes[i] == b'\r' && bytes.get(i + 1) != Some(&b'\n'))
            })
            .map(|i| i + 1),
    );
    let lines = starts.len() as u64;
    starts.push(text.len() + 1);

    let mut last = 0;
    let mut count = 0u64;
    let mut read = Vec::new();
    let mut reader = master_ioc::rows(text);
    while let Some(item) = reader.next() {
        if let (Ok(row), Some(at)) = (&item, reader.last_at()) {
            read.push((at, row.clone()));
        }
        count += 1;
        assert!(count <= lines, "more items than lines");

        let line = match &item {
            Ok(row) => row.line,
            Err(error) => error.line,
        };
        assert!(line > last, "line {line} after line {last}");
        assert!(line <= lines, "line {line} of {lines}");
        last = line;

        let Ok(row) = item else {
            continue;
        };
        assert!(!row.publication.trim().is_empty());
        assert!(!row.indicator.trim().is_empty());
        let date = Offset::UTC.to_datetime(row.detection_date);
        assert!((1900..=9999).contains(&date.year()), "year {}", date.year());
        assert_eq!(date.time(), jiff::civil::Time::midnight());

        let on_line = starts[line as usize - 1]..starts[line as usize];
        for value in [
            &row.uid,
            &row.publication,
            &row.indicator,
            &row.indicator_type,
        ] {
            if let Cow::Borrowed(value) = value {
                let offset = value.as_ptr() as usize - text.as_ptr() as usize;
                assert!(
                    offset + value.len() <= text.len(),
                    "borrowed outside the text"
                );
                assert!(
                    on_line.contains(&offset) || value.is_empty(),
                    "{value:?} at byte {offset} is not on line {line} ({on_line:?})"
                );
            }
        }
    }

    for (at, row) in read.iter().rev() {
        assert_eq!(&reader.reread(*at).expect("a row read once reads again"), row);
    }
});
