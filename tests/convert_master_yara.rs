//! `convert master-yara`: rules grouped by their `report` meta, one bundle per group, a
//! report only where the group has a name, self-contained patterns, and a rule that does
//! not compile skipped by name while the others go on.
//!
//! The input is the fictional `tests/data/convert/master_yara.yar`; the stability of
//! report ids is also checked on the sample Master YARA file when `../shared` is there.

#[path = "support/convert_cli.rs"]
mod cli;

use std::collections::BTreeMap;
use std::path::Path;

use connector_kaspersky::testdata;
use serde_json::Value;

use cli::{Convert, convert, fixture, objects_of, stix_type};

/// One bundle, seen as its report (if any) and its indicators by name.
#[derive(Debug)]
struct Group {
    report: Option<Value>,
    indicators: BTreeMap<String, Value>,
}

fn groups(command: Convert) -> Vec<Group> {
    command
        .success()
        .bundles()
        .iter()
        .map(|bundle| {
            let objects = objects_of(bundle);
            let reports: Vec<&Value> = objects
                .iter()
                .filter(|o| stix_type(o) == "report")
                .collect();
            assert!(reports.len() <= 1, "{bundle}");
            Group {
                report: reports.first().map(|r| (*r).clone()),
                indicators: objects
                    .iter()
                    .filter(|o| stix_type(o) == "indicator")
                    .map(|o| (o["name"].as_str().unwrap().to_owned(), o.clone()))
                    .collect(),
            }
        })
        .collect()
}

fn report_name(group: &Group) -> Option<&str> {
    group.report.as_ref().and_then(|r| r["name"].as_str())
}

fn names(group: &Group) -> Vec<&str> {
    group.indicators.keys().map(String::as_str).collect()
}

/// Report ids by report name.
fn report_ids(file: &Path, now: &str) -> BTreeMap<String, String> {
    groups(convert("master-yara", file).now(Some(now)))
        .iter()
        .filter_map(|g| g.report.as_ref())
        .map(|r| {
            let text = |key: &str| r[key].as_str().unwrap().to_owned();
            (text("name"), text("id"))
        })
        .collect()
}

#[test]
fn rules_are_grouped_by_their_trimmed_report_name() {
    let groups = groups(convert("master-yara", &fixture("master_yara.yar")));
    let by_name: BTreeMap<Option<&str>, Vec<&str>> =
        groups.iter().map(|g| (report_name(g), names(g))).collect();

    assert_eq!(groups.len(), 3, "{by_name:#?}");
    assert_eq!(
        by_name[&Some("Glasswing test campaign")],
        ["Glasswing_Dropper", "Glasswing_Packed"]
    );
    assert_eq!(
        by_name[&Some("Quietfinch undated notes")],
        ["Quietfinch_Undated"]
    );
    assert_eq!(
        by_name[&None],
        ["Glasswing_Marker", "Stray_Rule"],
        "rules without a report: indicators only"
    );

    for group in &groups {
        let Some(report) = &group.report else {
            continue;
        };
        let mut refs: Vec<&str> = report["object_refs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_str().unwrap())
            .collect();
        let mut ids: Vec<&str> = group
            .indicators
            .values()
            .map(|i| i["id"].as_str().unwrap())
            .collect();
        refs.sort();
        ids.sort();
        assert_eq!(refs, ids, "the report references its group's indicators");
        assert_eq!(report["report_types"], serde_json::json!(["threat-report"]));
    }
}

#[test]
fn a_rule_that_does_not_compile_is_skipped_by_name() {
    let outcome = convert("master-yara", &fixture("master_yara.yar")).success();
    assert!(
        outcome.stderr.starts_with("read: 6 YARA rules"),
        "{outcome}"
    );
    assert!(outcome.stderr.contains("skipped: 1"), "{outcome}");
    let reason = outcome
        .stderr
        .lines()
        .find(|l| l.contains("Glasswing_Broken"))
        .unwrap_or_else(|| panic!("the skipped rule is named\n{outcome}"));
    assert!(
        reason.contains("glasswing_undefined_identifier"),
        "{outcome}"
    );
    assert_eq!(
        cli::count_types(&outcome.objects())["indicator"],
        5,
        "{outcome}"
    );
}

#[test]
fn patterns_carry_imports_and_referenced_rules_but_no_comments() {
    let groups = groups(convert("master-yara", &fixture("master_yara.yar")));
    let indicator = |name: &str| {
        groups
            .iter()
            .find_map(|g| g.indicators.get(name))
            .unwrap_or_else(|| panic!("{name} is there"))
    };

    let dropper = indicator("Glasswing_Dropper");
    assert_eq!(dropper["pattern_type"], "yara");
    let pattern = dropper["pattern"].as_str().unwrap();
    assert!(
        pattern.starts_with("import \"pe\"\nimport \"math\"\n\nprivate rule Glasswing_Marker\n"),
        "{pattern}"
    );
    assert!(
        pattern.contains("}\n\nrule Glasswing_Dropper : dropper\n"),
        "{pattern}"
    );
    assert!(pattern.ends_with("pe.is_pe\n}\n"), "{pattern}");
    assert!(!pattern.contains("//"), "{pattern}");
    assert_eq!(
        dropper["description"],
        "Fictional dropper that carries the \"marker\""
    );

    let stray = indicator("Stray_Rule")["pattern"].as_str().unwrap();
    assert!(
        stray.starts_with("import \"pe\"\nimport \"math\"\n\nrule Stray_Rule\n"),
        "{stray}"
    );
    assert!(!stray.contains("Glasswing_Marker"), "{stray}");
}

#[test]
fn include_report_false_gives_indicators_only() {
    let groups = groups(
        convert("master-yara", &fixture("master_yara.yar"))
            .env("KASPERSKY_MASTER_YARA_INCLUDE_REPORT", "false"),
    );
    assert!(groups.iter().all(|g| g.report.is_none()), "{groups:#?}");
    let indicators: usize = groups.iter().map(|g| g.indicators.len()).sum();
    assert_eq!(indicators, 5);
}

#[test]
fn report_type_and_status_are_the_master_yara_ones() {
    let groups = groups(
        convert("master-yara", &fixture("master_yara.yar"))
            .env("KASPERSKY_MASTER_YARA_REPORT_TYPE", "malware")
            .env("KASPERSKY_MASTER_YARA_REPORT_STATUS", "Analyzed")
            .env("KASPERSKY_PUBLICATION_REPORT_TYPE", "not-this-one"),
    );
    let reports: Vec<&Value> = groups.iter().filter_map(|g| g.report.as_ref()).collect();
    assert_eq!(reports.len(), 2);
    for report in reports {
        assert_eq!(report["report_types"], serde_json::json!(["malware"]));
        assert_eq!(report["x_opencti_report_status"], 2);
    }
}

/// Difference 9: a group whose rules carry dates keeps its report id from run to run.
#[test]
fn dated_groups_keep_their_report_ids_from_run_to_run() {
    let file = fixture("master_yara.yar");
    let first = report_ids(&file, "2025-01-06T08:00:00Z");
    let later = report_ids(&file, "2026-07-19T23:59:59Z");
    let name = "Glasswing test campaign";
    assert_eq!(first[name], later[name]);

    let Some(sample) = testdata::shared("samples/decoded/master_yara.yar") else {
        return;
    };
    let first = report_ids(&sample, "2025-01-06T08:00:00Z");
    assert!(first.len() >= 2, "{first:#?}");
    assert_eq!(first, report_ids(&sample, "2026-07-19T23:59:59Z"));
}

#[test]
fn undated_groups_keep_their_report_ids_from_run_to_run() {
    let file = fixture("master_yara.yar");
    let first = report_ids(&file, "2025-01-06T08:00:00Z");
    let later = report_ids(&file, "2026-07-19T23:59:59Z");
    let name = "Quietfinch undated notes";
    assert_eq!(first[name], later[name]);
}

/// A byte that is not UTF-8 in a condition's comment: blanking the line would change the
/// rule (here `filesize < 64` would go and the rule would match everything). The rule is
/// dropped and named with its lines; every other rule converts exactly as before.
#[test]
fn a_rule_with_a_line_that_is_not_utf8_is_dropped_whole() {
    let clean = std::fs::read(fixture("master_yara.yar")).unwrap();
    let text = String::from_utf8(clean.clone()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let first = 1 + lines
        .iter()
        .position(|l| *l == "rule Quietfinch_Undated")
        .unwrap();
    let bad = 1 + lines
        .iter()
        .position(|l| l.trim() == "filesize < 64")
        .unwrap();
    let last = bad + 1;
    assert_eq!(lines[last - 1], "}");
    let mut damaged = Vec::new();
    for (index, line) in text.split_inclusive('\n').enumerate() {
        damaged.extend_from_slice(line.trim_end_matches('\n').as_bytes());
        if index + 1 == bad {
            damaged.extend_from_slice(b" // caf\xe9");
        }
        if line.ends_with('\n') {
            damaged.push(b'\n');
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("damaged.yar");
    std::fs::write(&file, &damaged).unwrap();

    let outcome = convert("master-yara", &file).success();
    let named =
        format!("not UTF-8 at line {bad} (YARA rule Quietfinch_Undated (lines {first}-{last}))");
    assert!(outcome.stderr.contains(&named), "{named}\n{outcome}");
    let indicators = |outcome: &cli::Outcome| -> BTreeMap<String, Value> {
        outcome
            .objects()
            .into_iter()
            .filter(|o| stix_type(o) == "indicator")
            .map(|o| (o["name"].as_str().unwrap().to_owned(), o["pattern"].clone()))
            .collect()
    };
    let mut expected = indicators(&convert("master-yara", &fixture("master_yara.yar")).success());
    assert!(expected.remove("Quietfinch_Undated").is_some());
    assert_eq!(indicators(&outcome), expected, "the other rules are intact");
}
