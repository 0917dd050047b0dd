//! `run --once` in directory mode over the shared samples (issue #3): the simulator serves
//! `../shared/samples/decoded`, the real binary imports every scope into bundle files and
//! a state file, and a second run with that state fetches and writes nothing again.
//!
//! The expectations are computed here from the sample files themselves, not with the
//! connector's own parsers.
#![cfg(feature = "simulator")]

#[path = "support/run_harness.rs"]
mod harness;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use connector_kaspersky::simulator::tip::World;
use connector_kaspersky::tip::Endpoint;
use harness::{IGNORE_PREFIX, RunHarness, of_scope, report, unix_seconds};
use serde_json::Value;

/// What the samples should become under the default configuration.
struct Expected {
    /// Publication id to name, the ignored monthly report left out.
    publications: BTreeMap<String, String>,
    /// The newest `updated` of all publications, Unix seconds.
    newest_updated: i64,
    /// Master IoC groups with at least one row of a kind that is neither excluded by
    /// default (`md5Hash`, `sha1Hash`) nor unknown, by lower-case trimmed name.
    master_ioc_groups: BTreeSet<String>,
    /// Master YARA `report` values, trimmed, lower-case.
    master_yara_groups: BTreeSet<String>,
    /// Whether some Master YARA rule has no `report`.
    yara_without_report: bool,
}

fn group_key(name: &str) -> String {
    name.trim().to_lowercase()
}

fn expected(decoded: &Path) -> Expected {
    let list: Vec<Value> =
        serde_json::from_slice(&std::fs::read(decoded.join("publications.json")).unwrap()).unwrap();
    let publications = list
        .iter()
        .filter(|p| !p["name"].as_str().unwrap().starts_with(IGNORE_PREFIX))
        .map(|p| {
            (
                p["id"].as_str().unwrap().to_owned(),
                p["name"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let newest_updated = list
        .iter()
        .map(|p| unix_seconds(&p["updated"]))
        .max()
        .unwrap();

    let mut csv = csv::ReaderBuilder::new()
        .quote(b'\'')
        .from_path(decoded.join("master_ioc.csv"))
        .unwrap();
    let mut master_ioc_groups = BTreeSet::new();
    for record in csv.records() {
        let record = record.unwrap();
        if matches!(&record[4], "sha256Hash" | "networkActivity") {
            master_ioc_groups.insert(group_key(&record[1]));
        }
    }

    let yara = std::fs::read_to_string(decoded.join("master_yara.yar")).unwrap();
    let mut reports: Vec<Option<String>> = Vec::new();
    for line in yara.lines().map(str::trim) {
        let starts_rule = ["rule ", "private rule ", "global rule "]
            .iter()
            .any(|k| line.starts_with(k));
        if starts_rule {
            reports.push(None);
        } else if line.starts_with("report") && line.contains('=') {
            let value = &line[line.find('"').unwrap() + 1..line.rfind('"').unwrap()];
            *reports.last_mut().expect("report meta inside a rule") = Some(group_key(value));
        }
    }
    Expected {
        publications,
        newest_updated,
        master_ioc_groups,
        master_yara_groups: reports.iter().flatten().cloned().collect(),
        yara_without_report: reports.iter().any(Option::is_none),
    }
}

/// The lower-case names of the reports in a scope's bundles.
fn report_names(bundles: &BTreeMap<String, Value>, scope: &str) -> BTreeSet<String> {
    of_scope(bundles, scope)
        .values()
        .flat_map(|bundle| harness::objects(bundle, "report"))
        .map(|report| group_key(report["name"].as_str().unwrap()))
        .collect()
}

fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

/// Everything of the samples arrives once, every bundle validates, the state holds the
/// four keys of the Python connector, and a second run with that state fetches no
/// publication and rewrites no file.
#[tokio::test(flavor = "multi_thread")]
async fn the_samples_are_imported_once_and_only_once() {
    let Some(decoded) = connector_kaspersky::testdata::shared("samples/decoded") else {
        return;
    };
    let expected = expected(&decoded);
    assert!(
        expected.publications.len() < 6,
        "the samples hold one monthly report"
    );
    let h = RunHarness::start(World::load(&decoded).unwrap()).await;

    let before = now();
    h.run_once().await.assert_success();
    let after = now();
    let bundles = h.bundles();

    // One bundle per publication but the monthly report, carrying its report.
    let publications = of_scope(&bundles, "publication");
    let written: BTreeSet<String> = publications
        .keys()
        .map(|name| name.split('-').nth(1).unwrap().to_owned())
        .collect();
    let wanted: BTreeSet<String> = expected.publications.keys().cloned().collect();
    assert_eq!(
        written,
        wanted,
        "one file per publication: {:?}",
        bundles.keys()
    );
    for (file, bundle) in &publications {
        let id = file.split('-').nth(1).unwrap();
        assert_eq!(report(bundle)["name"], expected.publications[id].as_str());
    }

    // One bundle per master group.
    assert_eq!(
        report_names(&bundles, "master_ioc"),
        expected.master_ioc_groups
    );
    assert_eq!(
        of_scope(&bundles, "master_ioc").len(),
        expected.master_ioc_groups.len()
    );
    assert_eq!(
        report_names(&bundles, "master_yara"),
        expected.master_yara_groups
    );
    let bare = usize::from(expected.yara_without_report);
    assert_eq!(
        of_scope(&bundles, "master_yara").len(),
        expected.master_yara_groups.len() + bare
    );
    assert_eq!(
        bundles
            .keys()
            .filter(|name| name.starts_with("master_yara-without-report-"))
            .count(),
        bare
    );
    assert_eq!(
        bundles.len(),
        wanted.len() + expected.master_ioc_groups.len() + expected.master_yara_groups.len() + bare
    );
    harness::validate_dir(&h.bundles_dir());

    // The state: the cursor at the newest `updated`, the other keys at the run's time.
    assert_eq!(
        h.state_seconds("latest_publication_timestamp"),
        Some(expected.newest_updated)
    );
    for key in [
        "latest_master_ioc_timestamp",
        "latest_master_yara_timestamp",
        "latest_run_timestamp",
    ] {
        let at = h
            .state_seconds(key)
            .unwrap_or_else(|| panic!("no {key} in {}", h.state()));
        assert!(
            (before..=after).contains(&at),
            "{key} = {at}, run between {before} and {after}"
        );
    }
    let first_state = h.state();
    assert!(
        first_state.to_string().len() < 64 * 1024,
        "the state stays compact: {first_state}"
    );

    // Again with the same state: nothing fetched twice, nothing written again.
    let files = h.snapshot();
    h.sim.counts().reset();
    h.run_once().await.assert_success();
    assert_eq!(
        h.sim.requests(Endpoint::GetOne),
        0,
        "no publication is fetched twice"
    );
    harness::assert_untouched(&files, &h.snapshot());
    assert_eq!(
        h.state()["latest_publication_timestamp"],
        first_state["latest_publication_timestamp"]
    );
}
