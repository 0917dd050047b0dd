//! `convert` honours the configuration, given as environment variables of the child
//! process: TLP, create_observables, IoC exclusions, report type and status, confidence;
//! and an invalid value stops it before any work.
//!
//! The input is the fictional publication of `tests/data/convert/` (metadata, OpenIOC and
//! YARA), packed as a `get_one` response body, and the fictional Master IoC file.

#[path = "support/convert_cli.rs"]
mod cli;

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde_json::Value;

use cli::{Convert, convert, fixture, is_observable, stix_type};

/// The fixed TLP ids (opencti-protocol.md §10.5).
const TLP_AMBER: &str = "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82";
const TLP_RED: &str = "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed";

/// The fixture publication as a `get_one` body, kept alive with its directory.
struct Publication {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

impl Publication {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = cli::publication_body(dir.path(), |_| {});
        Publication { _dir: dir, path }
    }

    fn convert(&self) -> Convert {
        convert("publication", &self.path)
    }
}

/// The objects of one successful run.
fn converted(command: Convert) -> Vec<Value> {
    let objects = command.success().objects();
    assert!(!objects.is_empty(), "{command}");
    objects
}

fn of_type<'a>(objects: &'a [Value], kind: &str) -> Vec<&'a Value> {
    objects.iter().filter(|o| stix_type(o) == kind).collect()
}

fn the_report(objects: &[Value]) -> &Value {
    let reports = of_type(objects, "report");
    assert_eq!(reports.len(), 1, "one report");
    reports[0]
}

/// Indicator patterns, for checking which IoCs came through.
fn patterns(objects: &[Value]) -> BTreeSet<String> {
    of_type(objects, "indicator")
        .iter()
        .filter(|o| o["pattern_type"] == "stix")
        .map(|o| o["pattern"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn defaults_give_amber_no_confidence_and_the_documented_exclusions() {
    let objects = converted(Publication::new().convert());

    for object in &objects {
        if let Some(markings) = object["object_marking_refs"].as_array() {
            assert_eq!(markings, &[Value::from(TLP_AMBER)], "{object}");
        }
        assert!(object.get("confidence").is_none(), "{object}");
    }
    let report = the_report(&objects);
    assert_eq!(report["report_types"], serde_json::json!(["threat-report"]));
    assert_eq!(report["x_opencti_report_status"], 0);

    let patterns = patterns(&objects);
    assert!(
        patterns.contains("[ipv4-addr:value = '192.0.2.44']"),
        "{patterns:#?}"
    );
    assert!(
        !patterns.iter().any(|p| p.contains("MD5")),
        "FileItem/Md5sum is excluded by default: {patterns:#?}"
    );
    assert!(
        of_type(&objects, "relationship")
            .iter()
            .any(|r| r["relationship_type"] == "based-on")
    );
}

#[test]
fn tlp_red_marks_every_object() {
    let objects = converted(Publication::new().convert().env("KASPERSKY_TLP", "red"));

    let markings = of_type(&objects, "marking-definition");
    assert_eq!(markings.len(), 1);
    assert_eq!(markings[0]["id"], TLP_RED);

    let mut marked_types = BTreeSet::new();
    for object in &objects {
        assert!(!object.to_string().contains(TLP_AMBER), "{object}");
        if let Some(markings) = object["object_marking_refs"].as_array() {
            assert_eq!(markings, &[Value::from(TLP_RED)], "{object}");
            marked_types.insert(stix_type(object).to_owned());
        }
    }
    for kind in [
        "report",
        "indicator",
        "relationship",
        "intrusion-set",
        "ipv4-addr",
    ] {
        assert!(
            marked_types.contains(kind),
            "{kind} carries the marking: {marked_types:?}"
        );
    }

    // Master IoC bundles too.
    let objects =
        converted(convert("master-ioc", &fixture("master_ioc.csv")).env("KASPERSKY_TLP", "RED"));
    for object in objects
        .iter()
        .filter(|o| o.get("object_marking_refs").is_some())
    {
        assert_eq!(
            object["object_marking_refs"],
            serde_json::json!([TLP_RED]),
            "{object}"
        );
    }
}

#[test]
fn create_observables_false_gives_indicators_only() {
    let publication = Publication::new();
    let objects = converted(
        publication
            .convert()
            .env("KASPERSKY_CREATE_OBSERVABLES", "false"),
    );

    let observables: Vec<&str> = objects
        .iter()
        .map(stix_type)
        .filter(|t| is_observable(t))
        .collect();
    assert!(observables.is_empty(), "no observables: {observables:?}");
    let based_on = of_type(&objects, "relationship")
        .into_iter()
        .filter(|r| r["relationship_type"] == "based-on")
        .count();
    assert_eq!(based_on, 0, "no based-on relationships");
    assert_eq!(
        patterns(&objects).len(),
        5,
        "every IoC indicator is still there"
    );

    let report = the_report(&objects);
    let ids: BTreeSet<&str> = objects.iter().filter_map(|o| o["id"].as_str()).collect();
    for reference in report["object_refs"].as_array().unwrap() {
        assert!(
            ids.contains(reference.as_str().unwrap()),
            "{reference} is in the bundle"
        );
    }
}

#[test]
fn excluded_ioc_types_are_left_out_by_search_or_last_segment() {
    let publication = Publication::new();
    let objects = converted(publication.convert().env(
        "KASPERSKY_PUBLICATION_EXCLUDED_IOC_INDICATOR_TYPES",
        "Network/DNS,remoteIP",
    ));

    let patterns = patterns(&objects);
    assert!(
        !patterns.iter().any(|p| p.contains("domain-name")),
        "{patterns:#?}"
    );
    assert!(
        !patterns.iter().any(|p| p.contains("ipv4-addr")),
        "{patterns:#?}"
    );
    assert!(of_type(&objects, "domain-name").is_empty());
    assert!(of_type(&objects, "ipv4-addr").is_empty());
    // The list replaces the default one, so the MD5 hash comes in.
    assert!(
        patterns.iter().any(|p| p.contains("file:hashes.MD5")),
        "{patterns:#?}"
    );
    assert!(
        patterns.contains("[mutex:name = 'Global\\\\GlasswingTestMutex']"),
        "{patterns:#?}"
    );
}

#[test]
fn excluding_yara_leaves_the_yara_rules_out() {
    let publication = Publication::new();
    let with = converted(publication.convert());
    let without = converted(
        publication
            .convert()
            .env("KASPERSKY_PUBLICATION_EXCLUDED_IOC_INDICATOR_TYPES", "Yara"),
    );
    let yara = |objects: &[Value]| {
        of_type(objects, "indicator")
            .iter()
            .filter(|o| o["pattern_type"] == "yara")
            .count()
    };
    assert_eq!(yara(&with), 2);
    assert_eq!(yara(&without), 0);
}

#[test]
fn report_type_and_status_are_the_configured_ones() {
    let publication = Publication::new();
    let objects = converted(
        publication
            .convert()
            .env("KASPERSKY_PUBLICATION_REPORT_TYPE", "internal-report")
            .env("KASPERSKY_PUBLICATION_REPORT_STATUS", "in progress"),
    );
    let report = the_report(&objects);
    assert_eq!(
        report["report_types"],
        serde_json::json!(["internal-report"])
    );
    assert_eq!(report["x_opencti_report_status"], 1);

    let objects = converted(
        convert("master-ioc", &fixture("master_ioc.csv"))
            .env("KASPERSKY_MASTER_IOC_REPORT_TYPE", "observed-data")
            .env("KASPERSKY_MASTER_IOC_REPORT_STATUS", "Closed"),
    );
    let reports = of_type(&objects, "report");
    assert_eq!(reports.len(), 2);
    for report in reports {
        assert_eq!(report["report_types"], serde_json::json!(["observed-data"]));
        assert_eq!(report["x_opencti_report_status"], 3);
    }
}

#[test]
fn confidence_level_is_sent_when_set() {
    let publication = Publication::new();
    let objects = converted(
        publication
            .convert()
            .env("CONNECTOR_CONFIDENCE_LEVEL", "80"),
    );

    let mut with_confidence = BTreeSet::new();
    for object in &objects {
        if let Some(confidence) = object.get("confidence") {
            assert_eq!(confidence, 80, "{object}");
            with_confidence.insert(stix_type(object).to_owned());
        }
    }
    for kind in ["report", "indicator", "relationship", "intrusion-set"] {
        assert!(
            with_confidence.contains(kind),
            "{kind}: {with_confidence:?}"
        );
    }
    for object in of_type(&objects, "indicator")
        .into_iter()
        .chain(of_type(&objects, "relationship"))
    {
        assert_eq!(object["confidence"], 80, "{object}");
    }
}

#[test]
fn master_ioc_exclusions_are_the_configured_ones() {
    let file = fixture("master_ioc.csv");
    let objects = converted(convert("master-ioc", &file).env(
        "KASPERSKY_MASTER_IOC_EXCLUDED_IOC_INDICATOR_TYPES",
        "networkActivity",
    ));
    let patterns = patterns(&objects);
    assert_eq!(patterns.len(), 2, "the SHA-256 and MD5 rows: {patterns:#?}");
    assert!(
        patterns.iter().all(|p| p.starts_with("[file:hashes.")),
        "{patterns:#?}"
    );
}

#[test]
fn an_invalid_tlp_stops_before_any_work() {
    let out = tempfile::tempdir().unwrap();
    let outcome = Publication::new()
        .convert()
        .out(&out.path().join("bundles"))
        .env("KASPERSKY_TLP", "purple")
        .run();

    assert_eq!(outcome.code, Some(2), "{outcome}");
    let lines = outcome.stderr_lines();
    assert_eq!(lines.len(), 1, "{outcome}");
    assert!(
        lines[0].contains("KASPERSKY_TLP"),
        "names the key: {outcome}"
    );
    assert!(lines[0].contains("purple"), "names the value: {outcome}");
    assert!(
        lines[0].contains("amber"),
        "says what is allowed: {outcome}"
    );
    assert!(!out.path().join("bundles").exists(), "nothing was done");
}

#[test]
fn create_indicators_false_gives_observables_only() {
    let publication = Publication::new();
    let objects = converted(
        publication
            .convert()
            .env("KASPERSKY_CREATE_INDICATORS", "no"),
    );

    assert!(of_type(&objects, "indicator").is_empty());
    let kinds: BTreeSet<&str> = of_type(&objects, "relationship")
        .iter()
        .filter_map(|r| r["relationship_type"].as_str())
        .collect();
    assert_eq!(
        kinds,
        BTreeSet::from(["targets"]),
        "only actor → target remains"
    );
    assert!(objects.iter().any(|o| is_observable(stix_type(o))));

    // A YARA file becomes nothing, and the summary says why.
    let outcome = convert("master-yara", &fixture("rules.yar"))
        .env("KASPERSKY_CREATE_INDICATORS", "false")
        .success();
    assert_eq!(outcome.stdout, "", "{outcome}");
    assert!(
        outcome.stderr.contains("note: create_indicators is false"),
        "{outcome}"
    );
}
