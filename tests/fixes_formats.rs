//! Issue #5, input shapes the Python connector misreads:
//!
//! - YARA `last_modified` in every form of DESIGN.md difference 5 is read by the YARA
//!   splitter into the rule's date (a bare `20240314` is a date, never Unix seconds);
//! - real OpenIOC files write mutexes as `ProcessItem/HandleList/Handle/Name`, which
//!   becomes a mutex, and partial IPs (`condition="contains"`, `174.142.57`), which
//!   become no IP observable and no indicator.
#![cfg(feature = "simulator")]

#[path = "support/run_harness.rs"]
mod harness;

use connector_kaspersky::formats::yara;
use harness::{connector, objects};
use jiff::Timestamp;
use serde_json::Value;

/// `last_modified` meta values as written in a rule (YARA source text), and the instant
/// each must mean, in UTC; `None` for values that are no date.
const LAST_MODIFIED: &[(&str, Option<&str>)] = &[
    (r#""2024-03-14T10:22:01Z""#, Some("2024-03-14T10:22:01Z")),
    (
        r#""2024-03-14T10:22:01+02:00""#,
        Some("2024-03-14T08:22:01Z"),
    ),
    (r#""2024-03-14T10:22:01""#, Some("2024-03-14T10:22:01Z")),
    (r#""2024-03-14 10:22:01""#, Some("2024-03-14T10:22:01Z")),
    (r#""2024-03-14""#, Some("2024-03-14T00:00:00Z")),
    (r#""14-03-2024""#, Some("2024-03-14T00:00:00Z")),
    (r#""05-09-2024""#, Some("2024-09-05T00:00:00Z")),
    (r#""14.03.2024""#, Some("2024-03-14T00:00:00Z")),
    (r#""2024.03.14""#, Some("2024-03-14T00:00:00Z")),
    (r#""2024-03""#, Some("2024-03-01T00:00:00Z")),
    (r#""20240314""#, Some("2024-03-14T00:00:00Z")),
    ("20240314", Some("2024-03-14T00:00:00Z")),
    (r#""March 14, 2024""#, Some("2024-03-14T00:00:00Z")),
    (r#""March 14 2024""#, Some("2024-03-14T00:00:00Z")),
    (r#""Mar 14, 2024""#, Some("2024-03-14T00:00:00Z")),
    (r#""14 Mar 2024""#, Some("2024-03-14T00:00:00Z")),
    (r#""14 March 2024""#, Some("2024-03-14T00:00:00Z")),
    (r#""December 06, 2023""#, Some("2023-12-06T00:00:00Z")),
    (r#""03 Dec 2023""#, Some("2023-12-03T00:00:00Z")),
    (r#""january 17, 2024""#, Some("2024-01-17T00:00:00Z")),
    (r#""['2024-03-14']""#, Some("2024-03-14T00:00:00Z")),
    (r#""[\"2024-03-14\"]""#, Some("2024-03-14T00:00:00Z")),
    (r#""['14.03.2024']""#, Some("2024-03-14T00:00:00Z")),
    (r#""  2024-03-14  ""#, Some("2024-03-14T00:00:00Z")),
    (r#""-""#, None),
    (r#""""#, None),
    (r#""31.02.2024""#, None),
    (r#""0001-01-01T00:00:00""#, None),
];

/// One rule per value of the table, plus one without the meta; each rule is named after
/// its row.
fn rules_file() -> String {
    let mut text = String::from("import \"pe\"\n\n");
    for (row, (value, _)) in LAST_MODIFIED.iter().enumerate() {
        text.push_str(&format!(
            "rule fict_date_{row} : fict {{\n    meta:\n        \
             description = \"row {row}\"\n        report = \"Fictional dates\"\n        \
             last_modified = {value}\n    strings:\n        \
             $a = \"date-{row}.example.com\"\n    condition:\n        $a\n}}\n\n"
        ));
    }
    text.push_str(
        "rule fict_date_none {\n    meta:\n        report = \"Fictional dates\"\n    \
         condition:\n        true\n}\n",
    );
    text
}

/// Every form of DESIGN.md difference 5 is read by the splitter as its date.
#[test]
fn yara_last_modified_is_read_in_every_form() {
    let file = yara::split(&rules_file());
    assert!(file.errors.is_empty(), "{:?}", file.errors);
    assert_eq!(file.rules.len(), LAST_MODIFIED.len() + 1);

    let mut wrong = Vec::new();
    for (row, (value, expected)) in LAST_MODIFIED.iter().enumerate() {
        let rule = &file.rules[row];
        assert_eq!(rule.name, format!("fict_date_{row}"));
        assert_eq!(rule.report.as_deref(), Some("Fictional dates"));
        let expected: Option<Timestamp> = expected.map(|t| t.parse().unwrap());
        if rule.last_modified != expected {
            wrong.push(format!(
                "last_modified = {value}: read {:?}, expected {expected:?}",
                rule.last_modified
            ));
        }
    }
    assert!(wrong.is_empty(), "misread dates:\n{}", wrong.join("\n"));
    let undated = file.rules.last().unwrap();
    assert_eq!(undated.last_modified_text, None);
    assert_eq!(undated.last_modified, None);
}

/// Every `last_modified` of the shared Master YARA sample and of the real rule files
/// that is not `-` is read as a date.
#[test]
fn every_dated_sample_rule_is_read() {
    let Some(samples) = connector_kaspersky::testdata::shared("samples") else {
        return;
    };
    let mut files = vec![samples.join("decoded/master_yara.yar")];
    for entry in std::fs::read_dir(samples.join("real/yara")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "yar") {
            files.push(path);
        }
    }

    let mut dated = 0;
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        for rule in yara::split(&text).rules {
            let Some(written) = rule.last_modified_text.as_deref() else {
                continue;
            };
            if written.trim() == "-" {
                assert_eq!(rule.last_modified, None);
                continue;
            }
            assert!(
                rule.last_modified.is_some(),
                "{}: rule {} last_modified {written:?} is not read",
                path.display(),
                rule.name
            );
            dated += 1;
        }
    }
    assert!(dated > 20, "only {dated} dated rules");
}

/// `convert openioc` of a file and its one bundle.
async fn convert_openioc(relative: &str) -> Option<Value> {
    let file = connector_kaspersky::testdata::shared(relative)?;
    let work = tempfile::tempdir().unwrap();
    let mut command = connector(work.path());
    command.args(["convert", "openioc"]).arg(file);
    let output = harness::output(command).await;
    output.assert_success();
    let lines: Vec<&str> = output.stdout.lines().collect();
    assert_eq!(lines.len(), 1, "one bundle:\n{}", output.stderr);
    Some(serde_json::from_str(lines[0]).unwrap())
}

fn patterns(bundle: &Value) -> Vec<&str> {
    objects(bundle, "indicator")
        .iter()
        .map(|i| i["pattern"].as_str().unwrap())
        .collect()
}

/// The Madi campaign IOC: its `HandleList/Handle/Name` mutex is a mutex; its three
/// partial IPs are neither observables nor indicators.
#[tokio::test(flavor = "multi_thread")]
async fn handle_names_are_mutexes_and_partial_ips_are_left_out() {
    let Some(bundle) = convert_openioc("samples/real/openioc/iocbucket_mahdi_campaign.ioc").await
    else {
        return;
    };
    let mutexes: Vec<&Value> = objects(&bundle, "mutex");
    assert_eq!(mutexes.len(), 1, "{mutexes:?}");
    assert_eq!(mutexes[0]["name"], "miMutexCopy");
    let patterns = patterns(&bundle);
    assert!(
        patterns.contains(&"[mutex:name = 'miMutexCopy']"),
        "{patterns:?}"
    );

    assert!(objects(&bundle, "ipv4-addr").is_empty());
    assert!(objects(&bundle, "ipv6-addr").is_empty());
    for partial in ["174.142.57", "67.205.106"] {
        assert!(
            !patterns.iter().any(|p| p.contains(partial)),
            "{partial} is in a pattern: {patterns:?}"
        );
        assert!(
            !bundle.to_string().contains(partial),
            "{partial} is in the bundle"
        );
    }
    assert!(
        !patterns.iter().any(|p| p.starts_with("[ipv4-addr:")),
        "{patterns:?}"
    );
}

/// The Duqu methodology IOC writes its mutexes the same way: each becomes a mutex.
#[tokio::test(flavor = "multi_thread")]
async fn every_handle_name_of_the_duqu_ioc_is_a_mutex() {
    let Some(bundle) = convert_openioc("samples/real/openioc/mandiant_duqu_methodology.ioc").await
    else {
        return;
    };
    let names: Vec<&str> = objects(&bundle, "mutex")
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    for expected in [
        "{0de1ac9d-35da-433f-937a-8553016874f1}",
        "{0df29544-7ded-4091-a8e6-b87402e6064c}2",
        "{92D9FA5C-D148-476E-BCC9-A4BEAC2E70D7}",
    ] {
        assert!(names.contains(&expected), "{expected} in {names:?}");
    }
}
