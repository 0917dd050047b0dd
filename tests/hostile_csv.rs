//! Hostile Master IoC CSV: wrong column counts, injected quotes, invalid UTF-8, absurd
//! dates and duplicate rows. A bad row is named by its line and the other rows convert;
//! a file that is not text at all is refused in one line.

#[path = "support/hostile_input.rs"]
mod convert;

use std::collections::HashSet;

use convert::{convert, pack, write};
use serde_json::json;

const HEADER: &str = "uid,publication,indicator,detection_date,indicator_type\n";

/// The `value` of every observable of the run.
fn values(run: &convert::Converted) -> HashSet<String> {
    run.objects()
        .filter_map(|o| o["value"].as_str())
        .map(str::to_owned)
        .collect()
}

#[test]
fn broken_rows_are_named_and_the_others_convert() {
    let dir = tempfile::tempdir().unwrap();
    let csv = format!(
        "{HEADER}\
         c1,Report A,good-one.example.com,2024-01-01,networkActivity\n\
         c2,Report A,short-row\n\
         c3,Report A,'injected, quote.example.com,2024-01-02,networkActivity\n\
         c4,Report A,extra.example.com,2024-01-03,networkActivity,extra,columns\n\
         c5,'Report A' injected',odd.example.com,2024-01-04,networkActivity\n\
         c6,Report B,198.51.100.7,2024-01-05,networkActivity\n\
         ,,,\n\
         c8,'Report B',quoted.example.com,2024-01-06,networkActivity\n"
    );
    let file = write(dir.path(), "master_ioc.csv", csv);

    let run = convert(dir.path(), "master-ioc", &file, &[]);

    assert!(run.success, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("expected at least 5 fields, found 3 (Master IoC line 3)"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("a quote opened on this line is not closed on it (Master IoC line 4)"),
        "{}",
        run.stderr
    );
    let values = values(&run);
    for kept in [
        "good-one.example.com",
        "extra.example.com",
        "odd.example.com",
        "198.51.100.7",
        "quoted.example.com",
    ] {
        assert!(values.contains(kept), "{kept} missing: {values:?}");
    }
    assert!(!values.iter().any(|v| v.contains("quote.example.com")));
}

#[test]
fn absurd_dates_are_named_and_the_others_convert() {
    let dir = tempfile::tempdir().unwrap();
    let csv = format!(
        "{HEADER}\
         d1,Report D,year-zero.example.com,0000-01-01,networkActivity\n\
         d2,Report D,far-future.example.com,99999-01-01,networkActivity\n\
         d3,Report D,feb-thirty.example.com,2024-02-30,networkActivity\n\
         d4,Report D,fine.example.com,2024-02-29,networkActivity\n"
    );
    let file = write(dir.path(), "dates.csv", csv);

    let run = convert(dir.path(), "master-ioc", &file, &[]);

    assert!(run.success, "{}", run.stderr);
    for (line, date) in [(2, "0000-01-01"), (3, "99999-01-01"), (4, "2024-02-30")] {
        let named = format!(
            "invalid detection_date \"{date}\" (expected YYYY-MM-DD) (Master IoC line {line})"
        );
        assert!(run.stderr.contains(&named), "{named}: {}", run.stderr);
    }
    assert_eq!(values(&run), HashSet::from(["fine.example.com".to_owned()]));
}

#[test]
fn identical_rows_make_one_set_of_objects() {
    let dir = tempfile::tempdir().unwrap();
    let row = "e1,Report E,twice.example.com,2024-03-01,networkActivity\n";
    let csv = format!("{HEADER}{row}{row}{row}");
    let file = write(dir.path(), "dups.csv", csv);

    let run = convert(dir.path(), "master-ioc", &file, &[]);

    assert!(run.success, "{}", run.stderr);
    let ids: Vec<&str> = run.objects().map(|o| o["id"].as_str().unwrap()).collect();
    let unique: HashSet<&str> = ids.iter().copied().collect();
    assert_eq!(ids.len(), unique.len(), "duplicate objects: {ids:?}");
    assert_eq!(run.of_type("domain-name").count(), 1);
    assert_eq!(run.of_type("indicator").count(), 1);
}

#[test]
fn a_line_of_invalid_utf8_is_named_and_the_others_convert() {
    let dir = tempfile::tempdir().unwrap();
    let mut csv = format!(
        "{HEADER}f1,Report F,ok.example.com,2024-01-01,networkActivity\n\
         f2,Report F,bad.example.com,2024-01-01,networkActivity\n"
    )
    .into_bytes();
    let at = HEADER.len() + 60;
    csv[at] = 0xFF;
    let file = write(dir.path(), "bad.csv", &csv);

    let run = convert(dir.path(), "master-ioc", &file, &[]);
    assert!(run.success, "{}", run.stderr);
    assert!(
        run.stderr.contains("line 3"),
        "the bad line is named: {}",
        run.stderr
    );
    assert!(run.stderr.contains("not UTF-8"), "{}", run.stderr);
    let values: Vec<&str> = run
        .of_type("domain-name")
        .map(|o| o["value"].as_str().unwrap())
        .collect();
    assert_eq!(values, ["ok.example.com"]);

    // The same inside a TIP answer.
    let body = json!({"status": "ok", "return_data": {"master_ioc": pack(&csv)}});
    let file = write(dir.path(), "get_master_ioc.json", body.to_string());
    let run = convert(dir.path(), "master-ioc", &file, &[]);
    assert!(run.success, "{}", run.stderr);
    assert!(run.stderr.contains("line 3"), "{}", run.stderr);
    assert_eq!(run.of_type("domain-name").count(), 1);
}
