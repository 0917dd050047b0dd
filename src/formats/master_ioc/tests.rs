//! Master IoC rows: the shared sample file and our own fixtures.

use super::*;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/formats/master_ioc");

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{FIXTURES}/{name}")).unwrap()
}

fn day(text: &str) -> Timestamp {
    format!("{text}T00:00:00Z").parse().unwrap()
}

/// `(line, uid)` of each row, or `(line, reason)` of each error.
fn summary(text: &str) -> Vec<Result<(u64, String), (u64, String)>> {
    rows(text)
        .map(|row| match row {
            Ok(row) => Ok((row.line, row.uid.into_owned())),
            Err(err) => Err((err.line, err.reason)),
        })
        .collect()
}

fn ok(line: u64, uid: &str) -> Result<(u64, String), (u64, String)> {
    Ok((line, uid.to_owned()))
}

fn err(line: u64, reason: &str) -> Result<(u64, String), (u64, String)> {
    Err((line, reason.to_owned()))
}

#[test]
fn mixed_rows_report_each_problem_and_go_on() {
    let text = fixture("mixed.csv");
    assert_eq!(
        summary(&text),
        [
            ok(2, "u1"),
            err(4, "expected at least 5 fields, found 3"),
            err(
                6,
                "invalid detection_date \"2024-13-40\" (expected YYYY-MM-DD)"
            ),
            err(7, "empty publication"),
            err(8, "empty indicator"),
            ok(9, "u6"),
            ok(11, "u7"),
            err(
                12,
                "invalid detection_date \"02-03-2024\" (expected YYYY-MM-DD)"
            ),
        ]
    );

    let rows: Vec<_> = rows(&text).filter_map(Result::ok).collect();
    assert_eq!(
        rows[0],
        MasterIocRow {
            line: 2,
            uid: "u1".into(),
            publication: "Example Report One".into(),
            indicator: "00000000000000000000000000000001".into(),
            detection_date: day("2024-01-02"),
            indicator_type: "md5Hash".into(),
        }
    );
    // An unknown type is still a row; a one-digit month and day are accepted.
    assert_eq!(rows[1].indicator_type, "fileName");
    assert_eq!(rows[1].detection_date, day("2024-01-04"));
    // A quoted comma, and extra columns ignored.
    assert_eq!(rows[2].publication, "Example Report Two, part 2");
    assert_eq!(rows[2].indicator_type, "networkActivity");
    assert!(
        rows.iter()
            .all(|row| matches!(row.publication, Cow::Borrowed(_)))
    );
}

#[test]
fn quotes_in_odd_places() {
    let text = fixture("quotes.csv");
    assert_eq!(
        summary(&text),
        [
            ok(2, "q1"),
            ok(3, "q2"),
            err(4, "a quote opened on this line is not closed on it"),
            ok(5, "q4"),
            ok(6, "q5"),
            err(7, "empty publication"),
            ok(8, "q7"),
        ]
    );

    let rows: Vec<_> = rows(&text).filter_map(Result::ok).collect();
    // A doubled quote is unescaped, so that value is a copy; the fields after it too.
    assert_eq!(rows[0].publication, "O'Brien's report");
    assert!(matches!(rows[0].publication, Cow::Owned(_)));
    assert_eq!(rows[0].indicator, "www.example.com");
    assert!(matches!(rows[0].uid, Cow::Borrowed(_)));
    // A quote inside a bare value is kept.
    assert_eq!(rows[1].indicator, "O'Brien.doc");
    assert!(matches!(rows[1].indicator, Cow::Borrowed(_)));
    // A wholly quoted value borrows what is between the quotes.
    assert_eq!(rows[3].indicator, "quoted.example.com");
    assert!(matches!(rows[3].indicator, Cow::Borrowed(_)));
    // The last line has no line break.
    assert_eq!(rows[4].detection_date, day("2024-03-07"));
}

#[test]
fn crlf_line_endings() {
    let text = fixture("crlf.csv");
    assert!(text.contains("\r\n"));
    let rows: Vec<_> = rows(&text).collect::<Result<_, _>>().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!((rows[0].line, rows[1].line), (2, 4));
    assert_eq!(rows[0].indicator_type, "md5Hash");
    assert_eq!(rows[1].publication, "Example Report Four, again");
    assert_eq!(rows[1].indicator_type, "sha1Hash");
    assert!(
        rows.iter()
            .all(|row| matches!(row.indicator_type, Cow::Borrowed(_)))
    );
}

#[test]
fn header_in_another_order_maps_by_name() {
    let text = fixture("other_order.csv");
    let rows: Vec<_> = rows(&text).collect::<Result<_, _>>().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].uid, "o1");
    assert_eq!(rows[0].publication, "Example Report Five");
    assert_eq!(rows[0].indicator_type, "sha256Hash");
    assert_eq!(rows[1].indicator, "192.0.2.44");
    assert_eq!(rows[1].detection_date, day("2024-05-02"));
}

#[test]
fn no_header_loses_no_row() {
    let text = fixture("no_header.csv");
    assert_eq!(summary(&text), [ok(1, "n1"), ok(2, "n2")]);
}

#[test]
fn another_header_is_skipped_and_columns_go_by_position() {
    let text = fixture("other_header.csv");
    assert_eq!(summary(&text), [ok(2, "h1")]);
    let row = rows(&text).next().unwrap().unwrap();
    assert_eq!(row.indicator, "192.0.2.70");
}

#[test]
fn empty_and_blank_inputs_have_no_rows() {
    for text in [
        "",
        "\n\n",
        "uid,publication,indicator,detection_date,indicator_type\n",
        " \r\n",
    ] {
        assert_eq!(summary(text), [], "{text:?}");
    }
}

#[test]
fn values_keep_their_spaces() {
    let text = "u, Padded Name ,x.example.com , 2024-01-05 ,networkActivity\n";
    let row = rows(text).next().unwrap().unwrap();
    assert_eq!(row.publication, " Padded Name ");
    assert_eq!(row.indicator, "x.example.com ");
    assert_eq!(row.detection_date, day("2024-01-05"));
}

#[test]
fn strict_dates() {
    for bad in [
        "2024-02-30",
        "24-01-01",
        "2024/01/01",
        "2024-01-01T00:00:00",
        "2024-001-01",
        "",
    ] {
        assert_eq!(parse_date(bad), None, "{bad:?}");
    }
    assert_eq!(parse_date("2024-02-29"), Some(day("2024-02-29")));
}

/// Found by the `master_ioc` fuzz target: `0000-01-01` was a detection date, one that
/// no STIX consumer can hold. Years outside 1900..=9999 are refused as `dates` does.
#[test]
fn placeholder_years_are_refused() {
    for bad in ["0000-01-01", "0001-01-01", "1899-12-31", "99999-01-01"] {
        assert_eq!(parse_date(bad), None, "{bad:?}");
    }
    assert_eq!(parse_date("1900-01-01"), Some(day("1900-01-01")));
    assert_eq!(parse_date("9999-12-30"), Some(day("9999-12-30")));

    let text = "uid,publication,indicator,detection_date,indicator_type\n\
                z1,Report,zero.example.com,0000-01-01,networkActivity\n\
                z2,Report,fine.example.com,2024-01-01,networkActivity\n";
    assert_eq!(
        summary(text),
        [
            err(
                2,
                "invalid detection_date \"0000-01-01\" (expected YYYY-MM-DD)"
            ),
            ok(3, "z2"),
        ]
    );
}

/// The 300 rows of the shared sample, all readable, borrowed where unescaped.
#[test]
fn shared_sample() {
    let Some(path) = crate::testdata::shared("samples/decoded/master_ioc.csv") else {
        return;
    };
    let text = std::fs::read_to_string(path).unwrap();
    let rows: Vec<_> = rows(&text).collect::<Result<_, _>>().unwrap();
    assert_eq!(rows.len(), 300);
    assert_eq!(rows.first().unwrap().line, 2);
    assert_eq!(rows.last().unwrap().line, 301);

    let first = &rows[0];
    assert_eq!(first.uid, "2a174f828e4341ef9c3aa0b6b7f4d766");
    assert_eq!(first.publication, "Junipershrike infrastructure update 005");
    assert_eq!(first.detection_date, day("2023-09-27"));

    let quoted = rows.iter().find(|row| row.line == 14).unwrap();
    assert_eq!(
        quoted.publication,
        "Umberibis infrastructure update 000, stage 2"
    );
    assert_eq!(quoted.indicator_type, "sha1Hash");
    assert!(matches!(quoted.publication, Cow::Borrowed(_)));

    let count = |kind: &str| rows.iter().filter(|row| row.indicator_type == kind).count();
    assert_eq!(
        [
            count("md5Hash"),
            count("sha1Hash"),
            count("sha256Hash"),
            count("networkActivity")
        ],
        [96, 33, 63, 101]
    );
    assert_eq!(
        (count("fileName"), count("mutexName"), count("urlActivity")),
        (4, 2, 1)
    );

    let borrowed = |value: &Cow<str>| matches!(value, Cow::Borrowed(_));
    assert!(rows.iter().all(|row| {
        borrowed(&row.uid)
            && borrowed(&row.publication)
            && borrowed(&row.indicator)
            && borrowed(&row.indicator_type)
    }));
}

/// Found by the `master_ioc` fuzz target: a lone `\r` ends a record for csv, and the two
/// rows around it were both called line 2. A lone `\r` is a line break for the numbers
/// too, so every row and error has a line of its own.
#[test]
fn a_lone_carriage_return_is_a_line_break() {
    let text = "uid,publication,indicator,detection_date,indicator_type\n\
                a1,Report,one.example.com,2024-01-01,networkActivity\r\
                a2,Report,two.example.com,2024-01-02,networkActivity\r\n\
                a3,Report\r\
                a4,Report,four.example.com,2024-01-04,networkActivity\n";
    assert_eq!(
        summary(text),
        [
            ok(2, "a1"),
            ok(3, "a2"),
            err(4, "expected at least 5 fields, found 2"),
            ok(5, "a4"),
        ]
    );
}

/// Old Mac line endings throughout: a stray quote costs its own line only.
#[test]
fn a_stray_quote_with_carriage_returns_costs_one_line() {
    let text = "uid,publication,indicator,detection_date,indicator_type\r\
                b1,'Report,one.example.com,2024-01-01,networkActivity\r\
                b2,Report,two.example.com,2024-01-02,networkActivity\r\
                b3,Report,three.example.com,2024-01-03,networkActivity\r";
    assert_eq!(
        summary(text),
        [
            err(2, "a quote opened on this line is not closed on it"),
            ok(3, "b2"),
            ok(4, "b3"),
        ]
    );
}

/// Every row read again from where it was is the row first read, in any order, whatever
/// the file's quoting, line endings and broken lines around it.
#[test]
fn rows_read_again_are_the_rows_first_read() {
    let mut texts: Vec<String> = std::fs::read_dir(FIXTURES)
        .unwrap()
        .map(|entry| std::fs::read_to_string(entry.unwrap().path()).unwrap())
        .collect();
    texts.push("uid,publication,indicator,detection_date,indicator_type\r\n\r\n".to_owned());
    texts.push("u1,'P ''x''',a,2024-01-02,md5Hash\ru2,P,'b\n,u3,P,c,2024-01-02,md5Hash\n".into());
    texts.push("u1,P,a,2024-01-02,md5Hash\n\n  \nu2,P,'b,c',2024-01-03,md5Hash".into());
    // A byte-order mark starting a line inside the file is part of its first value.
    texts.push("u1,P,a,2024-01-02,md5Hash\r\n\u{feff}u2,P,b,2024-01-02,md5Hash\n".into());
    texts.push("u1,'P,a,2024-01-02,md5Hash\n\u{feff}u2,P,b,2024-01-02,md5Hash\n".into());

    let mut checked = 0;
    for text in &texts {
        let mut reader = rows(text);
        let mut first = Vec::new();
        while let Some(row) = reader.next() {
            if let Ok(row) = row {
                first.push((reader.last_at().unwrap(), row));
            }
        }
        for (at, row) in first.iter().rev() {
            assert_eq!(&reader.reread(*at).unwrap(), row, "{text:?}");
            assert_eq!(at.line(), row.line);
            checked += 1;
        }
    }
    assert!(checked >= 10, "{checked}");
}
