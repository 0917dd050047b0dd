//! TIP responses of the wrong shape: `return_data` a string, `publications` a number,
//! missing fields, payloads that are not text. A file that is no publication at all is
//! refused in one line that says what is wrong; the response readers name the place.

#[path = "support/hostile_input.rs"]
mod convert;

use connector_kaspersky::tip::response::{parse_list, parse_master, parse_one};
use connector_kaspersky::tip::{Endpoint, TipError};
use convert::{convert, get_one, write};
use serde_json::json;

/// Converts `body` as a publication and returns the one line it printed.
fn refused_line(kind: &str, body: &serde_json::Value) -> String {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "body.json", body.to_string());
    let run = convert(dir.path(), kind, &file, &[]);
    assert!(!run.success, "{body} was converted");
    let lines = run.stderr_lines();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].starts_with("error: "), "{lines:?}");
    assert!(run.bundles.is_empty());
    lines[0].to_owned()
}

#[test]
fn a_publication_of_the_wrong_shape_is_refused_in_one_line() {
    let cases = [
        (
            json!({"status": "ok", "return_data": "a string"}),
            "not a TIP publication",
        ),
        (
            json!({"status": "ok", "return_data": 42}),
            "not a TIP publication",
        ),
        (json!({"status": "ok"}), "no return_data"),
        (
            json!({"status": "error", "return_data": {}}),
            "status is \"error\"",
        ),
        (get_one(json!({"name": null})), "missing field `name`"),
        (
            get_one(json!({"published": "yesterday"})),
            "not a TIP publication",
        ),
        (
            get_one(json!({"report_iocs": 12345})),
            "not a TIP publication",
        ),
        (
            get_one(json!({"tags": {"a": 1}})),
            "expected a list of strings or a string",
        ),
        (json!([1, 2, 3]), "not a TIP publication"),
    ];
    for (body, reason) in cases {
        let line = refused_line("publication", &body);
        assert!(line.contains(reason), "{body}: {line}");
    }
}

#[test]
fn a_master_file_of_the_wrong_shape_is_refused_in_one_line() {
    let cases = [
        (
            json!({"status": "ok", "return_data": "a string"}),
            "no return_data.master_ioc text",
        ),
        (
            json!({"status": "ok", "return_data": {"master_ioc": 7}}),
            "no return_data.master_ioc text",
        ),
        (
            json!({"status": "ok", "return_data": {}}),
            "no return_data.master_ioc text",
        ),
        (json!({"return_data": {}}), "not a TIP response"),
    ];
    for (body, reason) in cases {
        let line = refused_line("master-ioc", &body);
        assert!(line.contains(reason), "{body}: {line}");
    }
}

#[test]
fn nulls_and_odd_but_readable_fields_still_convert() {
    let dir = tempfile::tempdir().unwrap();
    let body = get_one(json!({
        "id": 987_654,
        "desc": null,
        "report_group": null,
        "tags": "one, two,,",
        "tags_geo": [null, "  "],
        "report_pdf": "   ",
        "report_yara": null,
        "unknown_field": {"nested": [1, 2]},
    }));
    let file = write(dir.path(), "odd.json", body.to_string());

    let run = convert(dir.path(), "publication", &file, &[]);

    assert!(run.success, "{}", run.stderr);
    let report = run.of_type("report").next().unwrap();
    assert_eq!(report["name"], "Fictional Campaign");
}

#[test]
fn list_answers_of_the_wrong_shape_name_the_place() {
    let shape = |body: serde_json::Value| match parse_list(body.to_string().as_bytes()) {
        Err(TipError::Shape { what, .. }) => what,
        other => panic!("{body}: {other:?}"),
    };

    let what = shape(json!({"status": "ok", "return_data": {"publications": 3}}));
    assert!(
        what.contains("return_data") && what.contains("invalid type"),
        "{what}"
    );

    let what = shape(json!({"status": "ok", "return_data": "text"}));
    assert!(what.contains("return_data"), "{what}");

    // One bad entry is named and left out; the list goes on.
    let body = json!({"status": "ok", "return_data": {"publications": [
        {"id": "ok1", "name": "Fine", "published": 1_700_000_000, "updated": 1_700_000_000},
        {"id": "bad2", "published": 1_700_000_000, "updated": 1_700_000_000},
    ]}});
    let list = parse_list(body.to_string().as_bytes()).unwrap();
    assert_eq!(list.publications.len(), 1);
    let what = &list.rejected[0];
    assert!(
        what.contains("publications[1] of 2")
            && what.contains("\"bad2\"")
            && what.contains("missing field `name`"),
        "{what}"
    );

    assert!(matches!(
        parse_list(b"{\"status\": \"ok\"}"),
        Err(TipError::Envelope { .. })
    ));
    assert!(matches!(
        parse_list(b"<html>503</html>"),
        Err(TipError::Json { .. })
    ));
}

#[test]
fn one_and_master_answers_of_the_wrong_shape_are_errors() {
    let body = json!({"status": "ok", "return_data": "text"}).to_string();
    assert!(matches!(
        parse_one(body.as_bytes()),
        Err(TipError::Shape { .. })
    ));

    let body = json!({"status": "ok", "return_data": {"master_yara": 5}}).to_string();
    match parse_master(Endpoint::GetMasterYara, "master_yara", body.into_bytes()) {
        Err(TipError::Shape { what, .. }) => {
            assert_eq!(
                what,
                "return_data.master_yara is a number, expected a string"
            );
        }
        other => panic!("{other:?}"),
    }
}
