//! Issue #5, the report fixes, offline (DESIGN.md differences 9 and 10):
//!
//! - a publication imported by the publication scope and later seen in a Master IoC or
//!   Master YARA group yields one report id, and the group's report carries the
//!   publication's name, `published`, type and status;
//! - Master YARA reports of groups without a known publication keep their id from one
//!   run to the next: the earliest `last_modified` of the group, or a first-seen date
//!   kept in the state for groups without any dated rule;
//! - a publication with nothing but a PDF (or nothing at all) still becomes a report
//!   that references the author only, never an invented organization.
#![cfg(feature = "simulator")]

#[path = "support/run_harness.rs"]
mod harness;

use std::collections::{BTreeMap, BTreeSet};

use connector_kaspersky::formats::yara;
use connector_kaspersky::scopes::BuildSettings;
use connector_kaspersky::scopes::master_yara::{anchor, build_group, groups};
use connector_kaspersky::simulator::tip::{
    GenerateParams, Payload, World, WorldPublication, generate,
};
use harness::{RunHarness, objects, of_scope, report};
use jiff::Timestamp;
use serde_json::{Value, json};

/// A report as the checks need it.
#[derive(Clone, Debug, PartialEq)]
struct ReportSeen {
    id: String,
    name: String,
    published: Timestamp,
    report_type: String,
    status: Option<i64>,
}

fn seen(report: &Value) -> ReportSeen {
    ReportSeen {
        id: report["id"].as_str().unwrap().to_owned(),
        name: report["name"].as_str().unwrap().to_owned(),
        published: report["published"].as_str().unwrap().parse().unwrap(),
        report_type: report["report_types"][0].as_str().unwrap().to_owned(),
        status: report["x_opencti_report_status"].as_i64(),
    }
}

fn key(name: &str) -> String {
    name.trim().to_lowercase()
}

/// Every report of a scope's bundles.
fn reports_of(bundles: &BTreeMap<String, Value>, scope: &str) -> Vec<ReportSeen> {
    of_scope(bundles, scope)
        .values()
        .flat_map(|bundle| objects(bundle, "report"))
        .map(seen)
        .collect()
}

/// Report types and statuses that differ per scope, so a joined report shows whose
/// settings it carries.
fn distinct_report_settings(h: &mut RunHarness) {
    h.set("KASPERSKY_PUBLICATION_REPORT_TYPE", "threat-report")
        .set("KASPERSKY_PUBLICATION_REPORT_STATUS", "Analyzed")
        .set("KASPERSKY_MASTER_IOC_REPORT_TYPE", "indicator")
        .set("KASPERSKY_MASTER_IOC_REPORT_STATUS", "In progress")
        .set("KASPERSKY_MASTER_YARA_REPORT_TYPE", "malware")
        .set("KASPERSKY_MASTER_YARA_REPORT_STATUS", "Closed");
}

/// Checks that every master group named after an imported publication has that
/// publication's report, and that the other groups have reports of their own scope.
/// Returns how many master reports joined a publication's report.
fn assert_one_report_per_publication(bundles: &BTreeMap<String, Value>) -> usize {
    let publications: BTreeMap<String, ReportSeen> = reports_of(bundles, "publication")
        .into_iter()
        .map(|report| (key(&report.name), report))
        .collect();
    assert!(!publications.is_empty());
    let mut joined = 0;
    for (scope, own_type, own_status) in [
        ("master_ioc", "indicator", 1),
        ("master_yara", "malware", 3),
    ] {
        for group in reports_of(bundles, scope) {
            match publications.get(&key(&group.name)) {
                Some(publication) => {
                    assert_eq!(&group, publication, "{scope} group joins its publication");
                    joined += 1;
                }
                None => {
                    assert_eq!(group.report_type, own_type, "{group:?}");
                    assert_eq!(group.status, Some(own_status), "{group:?}");
                }
            }
        }
    }

    // However the reports came, a publication's name has one id. (Groups naming a
    // publication the TIP does not list get one report per master scope: each scope
    // dates it its own way, as issue #5 allows.)
    let mut ids: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for scope in ["publication", "master_ioc", "master_yara"] {
        for report in reports_of(bundles, scope) {
            if publications.contains_key(&key(&report.name)) {
                ids.entry(key(&report.name)).or_default().insert(report.id);
            }
        }
    }
    for (name, ids) in &ids {
        assert_eq!(ids.len(), 1, "report {name:?} has several ids: {ids:?}");
    }
    joined
}

/// The publication scope runs first; a later run of the master scopes sends the groups
/// that name those publications into the same reports.
#[tokio::test(flavor = "multi_thread")]
async fn master_groups_join_the_report_of_an_imported_publication() {
    let mut h = RunHarness::start(generate(&GenerateParams::default())).await;
    distinct_report_settings(&mut h);
    h.set("KASPERSKY_SCOPES", "publication");
    h.run_once().await.assert_success();
    let publications_only = h.bundles();
    assert!(of_scope(&publications_only, "master_ioc").is_empty());

    h.set("KASPERSKY_SCOPES", "master_ioc,master_yara");
    h.run_once().await.assert_success();
    let bundles = h.bundles();
    assert!(!of_scope(&bundles, "master_ioc").is_empty());
    assert!(!of_scope(&bundles, "master_yara").is_empty());

    let joined_ioc = reports_of(&bundles, "master_ioc")
        .iter()
        .filter(|group| reports_of(&bundles, "publication").contains(group))
        .count();
    let joined_yara = reports_of(&bundles, "master_yara")
        .iter()
        .filter(|group| reports_of(&bundles, "publication").contains(group))
        .count();
    assert!(joined_ioc > 0, "some Master IoC group names a publication");
    assert!(
        joined_yara > 0,
        "some Master YARA group names a publication"
    );
    assert_eq!(
        assert_one_report_per_publication(&bundles),
        joined_ioc + joined_yara
    );
    harness::validate_dir(&h.bundles_dir());
}

/// The same on the shared samples, every scope in one run.
#[tokio::test(flavor = "multi_thread")]
async fn sample_groups_join_the_report_of_their_publication() {
    let Some(decoded) = connector_kaspersky::testdata::shared("samples/decoded") else {
        return;
    };
    let mut h = RunHarness::start(World::load(&decoded).unwrap()).await;
    distinct_report_settings(&mut h);
    h.run_once().await.assert_success();
    assert!(assert_one_report_per_publication(&h.bundles()) > 0);
}

/// A fictional Master YARA file: group Alpha with dates in two forms, group Beta with no
/// usable date, group Gamma with a month name, and a rule without a report.
const MASTER_YARA: &str = r#"import "pe"

// Fictional rules written for these tests.
rule fict_alpha_one : fict {
    meta:
        description = "Fictional rule one"
        report = "Fictional Operation Alpha"
        last_modified = "14.03.2024"
    strings:
        $a = "alpha-one.example.com"
    condition:
        $a
}

rule fict_alpha_two {
    meta:
        report = "Fictional Operation Alpha  "
        last_modified = "2023-11"
    strings:
        $a = "alpha-two.example.com"
    condition:
        $a and pe.number_of_sections > 1
}

rule fict_beta_one {
    meta:
        description = "Fictional rule three"
        report = "Fictional Operation Beta"
        last_modified = "-"
    strings:
        $a = "beta-one.example.net"
    condition:
        $a
}

rule fict_beta_two {
    meta:
        report = "Fictional Operation Beta"
    strings:
        $a = "beta-two.example.net"
    condition:
        $a
}

rule fict_gamma {
    meta:
        report = "Fictional Operation Gamma"
        last_modified = "March 2, 2024"
    strings:
        $a = "gamma.example.org"
    condition:
        $a
}

rule fict_loose {
    meta:
        description = "A rule of no report"
        last_modified = "20240101"
    strings:
        $a = "loose.example.org"
    condition:
        $a
}
"#;

fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
}

/// Report ids of every group of `text` built on `day`; `first_seen` stands in for the
/// date the runtime keeps for groups without a dated rule.
fn report_ids_on(text: &str, day: Timestamp, first_seen: Timestamp) -> BTreeMap<String, String> {
    let settings = BuildSettings::default();
    let file = yara::split(text);
    assert!(file.errors.is_empty(), "{:?}", file.errors);
    groups(&file)
        .into_iter()
        .filter_map(|(name, rules)| {
            let anchor = anchor(&name, &rules, None, Some(first_seen), &settings);
            let built = build_group(&rules, anchor.as_ref(), &settings, day);
            Some((name, built.report_id?))
        })
        .collect()
}

/// Two runs a day apart build the same report ids; a dated group's report is published
/// at its earliest `last_modified`, whatever the run's time or first-seen date.
#[test]
fn master_yara_report_ids_do_not_move_from_one_day_to_the_next() {
    let day1 = at("2026-12-01T08:00:00Z");
    let day2 = at("2026-12-02T08:00:00Z");
    let first = report_ids_on(MASTER_YARA, day1, day1);
    let second = report_ids_on(MASTER_YARA, day2, day1);
    assert_eq!(first.len(), 3, "Alpha, Beta, Gamma: {first:?}");
    assert_eq!(first, second);

    // Dated groups do not even depend on the first-seen date.
    let other_first_seen = report_ids_on(MASTER_YARA, day2, day2);
    for group in ["Fictional Operation Alpha", "Fictional Operation Gamma"] {
        assert_eq!(first[group], other_first_seen[group], "{group}");
    }
    assert_ne!(
        first["Fictional Operation Beta"], other_first_seen["Fictional Operation Beta"],
        "an undated group's id follows its first-seen date, which the state must keep"
    );

    let settings = BuildSettings::default();
    let file = yara::split(MASTER_YARA);
    for (name, published) in [
        ("Fictional Operation Alpha", "2023-11-01T00:00:00Z"),
        ("Fictional Operation Gamma", "2024-03-02T00:00:00Z"),
    ] {
        let rules = groups(&file)
            .into_iter()
            .find(|(group, _)| group == name)
            .unwrap()
            .1;
        let anchor = anchor(name, &rules, None, Some(day1), &settings).unwrap();
        assert_eq!(anchor.published.timestamp, at(published), "{name}");
    }
}

/// The same on the shared samples' Master YARA file.
#[test]
fn sample_master_yara_report_ids_do_not_move_from_one_day_to_the_next() {
    let Some(path) = connector_kaspersky::testdata::shared("samples/decoded/master_yara.yar")
    else {
        return;
    };
    let text = std::fs::read_to_string(path).unwrap();
    let first_seen = at("2026-11-20T00:00:00Z");
    let first = report_ids_on(&text, at("2026-12-01T08:00:00Z"), first_seen);
    assert!(!first.is_empty());
    assert_eq!(
        first,
        report_ids_on(&text, at("2026-12-02T08:00:00Z"), first_seen)
    );
}

/// A world of the fictional Master YARA file only: no publication is known.
fn master_yara_world() -> World {
    let mut world = World::new();
    world.master_yara = Some(Payload::new(MASTER_YARA.as_bytes().to_vec()));
    world
}

/// Reports of the Master YARA bundles by group name.
fn yara_reports(h: &RunHarness) -> BTreeMap<String, ReportSeen> {
    reports_of(&h.bundles(), "master_yara")
        .into_iter()
        .map(|report| (report.name.clone(), report))
        .collect()
}

/// Starts the next run with the groups forgotten (as a changed file would), the bundle
/// directory emptied, and the clock past the second of the previous run.
async fn forget_groups(h: &RunHarness, previous_run_ended: i64) {
    let mut state = h.state();
    state
        .as_object_mut()
        .unwrap()
        .remove("kaspersky_master_yara_groups")
        .expect("the state remembers the delivered groups");
    h.write_state(&state);
    std::fs::remove_dir_all(h.bundles_dir()).unwrap();
    while Timestamp::now().as_second() <= previous_run_ended {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// In `run`, a group without any dated rule gets a first-seen date kept in the state,
/// which its report keeps as `published` on later runs; dated groups use their rules'
/// dates.
#[tokio::test(flavor = "multi_thread")]
async fn master_yara_reports_keep_their_ids_across_runs() {
    let mut h = RunHarness::start(master_yara_world()).await;
    h.set("KASPERSKY_SCOPES", "master_yara");
    let before = Timestamp::now().as_second();
    h.run_once().await.assert_success();
    let after = Timestamp::now().as_second();

    let first = yara_reports(&h);
    let names: Vec<&str> = first.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "Fictional Operation Alpha",
            "Fictional Operation Beta",
            "Fictional Operation Gamma"
        ]
    );
    assert_eq!(
        first["Fictional Operation Alpha"].published,
        at("2023-11-01T00:00:00Z")
    );
    assert_eq!(
        first["Fictional Operation Gamma"].published,
        at("2024-03-02T00:00:00Z")
    );
    let beta = first["Fictional Operation Beta"].published.as_second();
    assert!((before..=after).contains(&beta), "Beta is first seen now");

    let state = h.state();
    let first_seen = state["kaspersky_master_yara_first_seen"]
        .as_object()
        .unwrap_or_else(|| panic!("no first-seen dates in {state}"));
    let values: Vec<&Value> = first_seen.values().collect();
    assert_eq!(values, [&json!(beta)], "only the undated group needs one");
    assert!(
        state.to_string().len() < 64 * 1024,
        "the state stays compact"
    );
    harness::validate_dir(&h.bundles_dir());

    // A later run that sends the groups again builds the same reports.
    forget_groups(&h, after).await;
    h.run_once().await.assert_success();
    assert_eq!(yara_reports(&h), first);
    assert_eq!(
        h.state()["kaspersky_master_yara_first_seen"],
        state["kaspersky_master_yara_first_seen"]
    );

    // The stored date, not the run's time, is what the undated group's report keeps.
    let day_before = beta - 86_400;
    let mut state = h.state();
    for value in state["kaspersky_master_yara_first_seen"]
        .as_object_mut()
        .unwrap()
        .values_mut()
    {
        *value = json!(day_before);
    }
    h.write_state(&state);
    forget_groups(&h, Timestamp::now().as_second()).await;
    h.run_once().await.assert_success();
    let third = yara_reports(&h);
    assert_eq!(
        third["Fictional Operation Beta"].published.as_second(),
        day_before
    );
    assert_eq!(
        third["Fictional Operation Alpha"],
        first["Fictional Operation Alpha"]
    );
}

/// A publication of this id and name with no tags; `published`/`updated` fixed.
fn bare_publication(id: &str, name: &str) -> WorldPublication {
    let Value::Object(meta) = json!({
        "id": id,
        "name": name,
        "desc": "Fictional publication without indicators, written for tests.",
        "published": 1_700_000_000,
        "updated": 1_700_000_100,
        "report_group": "apt",
        "tags": [],
        "tags_industry": [],
        "tags_geo": [],
        "tags_actors": [],
    }) else {
        unreachable!()
    };
    WorldPublication::new(meta).unwrap()
}

/// A publication with only a PDF, and one with nothing at all, each become a report whose
/// only reference is the author; no other identity is made up.
#[tokio::test(flavor = "multi_thread")]
async fn a_publication_with_nothing_to_reference_references_the_author_only() {
    let mut world = World::new();
    let mut with_pdf = bare_publication("f1c7100000a1", "Fictional notes with a PDF only");
    with_pdf.pdf = Some(Payload::new(b"%PDF-1.4\n% fictional\n%%EOF\n".to_vec()));
    world.push(with_pdf);
    world.push(bare_publication(
        "f1c7100000b2",
        "Fictional notes with nothing",
    ));
    let mut h = RunHarness::start(world).await;
    h.set("KASPERSKY_SCOPES", "publication");
    h.run_once().await.assert_success();

    let bundles = h.bundles();
    let publications = of_scope(&bundles, "publication");
    assert_eq!(publications.len(), 2, "{:?}", bundles.keys());
    for (file, bundle) in publications {
        let identities = objects(bundle, "identity");
        assert_eq!(identities.len(), 1, "{file}: the author only");
        let author = identities[0];
        assert_eq!(author["name"], "Kaspersky");
        assert_eq!(author["identity_class"], "organization");
        let types: Vec<&str> = bundle["objects"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["type"].as_str().unwrap())
            .collect();
        assert_eq!(
            types,
            ["identity", "marking-definition", "report"],
            "{file}"
        );

        let report = report(bundle);
        assert_eq!(report["object_refs"], json!([author["id"]]), "{file}");
        let files = report["x_opencti_files"].as_array().map_or(0, Vec::len);
        let expected_files = usize::from(file.contains("f1c7100000a1"));
        assert_eq!(files, expected_files, "{file}: the PDF rides on the report");
    }
    harness::validate_dir(&h.bundles_dir());
}
