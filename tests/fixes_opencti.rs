//! Where the Python connector is wrong and we must be right, against the OpenCTI stand-in
//! and the real broker (issue #5): every due YARA update is made whatever the date format
//! and whatever the case of the rule name; report statuses resolve to the platform's
//! workflow.

#[path = "support/ocfixture.rs"]
mod ocfixture;
#[path = "support/opencti_env.rs"]
mod opencti_env;
#[path = "support/proxy.rs"]
mod proxy;

use connector_kaspersky::simulator::opencti::IndicatorRecord;
use connector_kaspersky::simulator::tip::{Payload, World};
use ocfixture::{Fixture, Setup};

/// A rule as OpenCTI or the TIP holds it.
fn rule(name: &str, last_modified: &str, marker: &str) -> String {
    format!(
        "rule {name} {{\n    meta:\n        report = \"Fixes group\"\n        \
         last_modified = \"{last_modified}\"\n    strings:\n        $a = \"{marker}\"\n    \
         condition:\n        $a\n}}"
    )
}

/// The pattern the connector writes for a rule of an import-less file.
fn pattern(text: &str) -> String {
    format!("\n{text}\n")
}

/// Every date form of DESIGN.md difference 5, each on a rule whose stored copy is older
/// (written in yet another form) and whose name differs in case; plus rules that must
/// not be updated: an older or equal date, and dates nobody can read.
const CASES: &[(&str, &str, &str, bool)] = &[
    // (new date, stored date, rule name suffix, update due)
    ("2024-03-15T10:00:00Z", "2024-03-14", "iso", true),
    ("2024-03-15", "14.03.2024", "ymd", true),
    ("15-03-2024", "2024-03-14", "dmy_dash", true),
    ("15.03.2024", "20240314", "dmy_dot", true),
    ("2024.03.15", "March 14, 2024", "ymd_dot", true),
    ("2024-04", "2024-03-31", "year_month", true),
    ("20240315", "14 Mar 2024", "compact", true),
    ("March 15, 2024", "2024-03-14", "month_name", true),
    ("Mar 15 2024", "2024-03-14", "month_short", true),
    ("['2024-03-15']", "2024-03-14", "list", true),
    ("2024-03-14", "2024-03-15", "older", false),
    ("14.03.2024", "2024-03-14", "equal", false),
    ("-", "2024-03-14", "undated_new", false),
    ("2024-03-15", "not a date", "undated_stored", false),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_due_yara_update_is_made_whatever_the_date_format() {
    let mut master = String::new();
    let mut indicators = Vec::new();
    for (index, (new, stored, suffix, _)) in CASES.iter().enumerate() {
        let name = format!("Fixes_Rule_{suffix}");
        master.push_str(&rule(&name, new, "new"));
        master.push_str("\n\n");
        // OpenCTI has the rule under another case, with an older text.
        let stored_text = rule(&name.to_lowercase(), stored, "old");
        indicators.push(IndicatorRecord {
            id: format!("indicator-internal-{index}"),
            name: name.to_lowercase(),
            pattern: pattern(&stored_text),
        });
    }
    let mut world = World::new();
    world.master_yara = Some(Payload::new(master.into_bytes()));
    let mut setup = Setup {
        world,
        ..Setup::default()
    };
    setup.stand_in.indicators = indicators;
    let Some(fixture) = Fixture::start_with("yara-updates", setup).await else {
        return;
    };

    fixture
        .run(&[("KASPERSKY_SCOPES", "master_yara")])
        .await
        .assert_success();

    let stored = fixture.stand_in().indicators();
    let edits = fixture
        .stand_in()
        .operations()
        .into_iter()
        .filter(|op| op == "StixDomainObjectEdit")
        .count();
    let due = CASES.iter().filter(|case| case.3).count();
    assert_eq!(
        edits, due,
        "one in-place update per due rule, none for the others"
    );
    for (index, (new, _, suffix, update)) in CASES.iter().enumerate() {
        let record = &stored[index];
        let updated = record.pattern.contains("\"new\"");
        assert_eq!(
            updated, *update,
            "rule {suffix} (new date {new:?}): {}",
            record.pattern
        );
        if *update {
            let name = format!("Fixes_Rule_{suffix}");
            assert_eq!(record.pattern, pattern(&rule(&name, new, "new")));
        }
    }

    // Every rule is still referenced by its group's report, by the id OpenCTI has now.
    let messages = fixture.drain().await;
    let report = messages
        .iter()
        .map(|m| m.object())
        .find(|o| o["type"] == "report")
        .expect("the group's report");
    let refs = report["object_refs"].as_array().unwrap();
    assert_eq!(refs.len(), CASES.len());
    for record in &stored {
        let id = connector_kaspersky::stix::ids::indicator(&record.pattern);
        assert!(
            refs.iter().any(|r| r == &id),
            "{} is referenced",
            record.name
        );
        assert!(
            messages.iter().any(|m| m.object_id() == id),
            "{} is sent with the group, so the reference survives splitting",
            record.name
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_statuses_resolve_to_the_platforms_workflow() {
    let mut setup = Setup::default();
    setup.stand_in.report_statuses = Some(vec!["New".into(), "Analyzed".into()]);
    let Some(fixture) = Fixture::start_with("statuses", setup).await else {
        return;
    };
    fixture
        .run(&[
            ("KASPERSKY_SCOPES", "publication"),
            ("KASPERSKY_PUBLICATION_REPORT_STATUS", "analyzed"),
        ])
        .await
        .assert_success();
    let analyzed = uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, b"Analyzed").to_string();
    let reports: Vec<_> = fixture
        .drain()
        .await
        .into_iter()
        .filter(|m| m.object()["type"] == "report")
        .collect();
    assert!(!reports.is_empty());
    for message in reports {
        let report = message.object();
        assert_eq!(
            report["x_opencti_workflow_id"],
            analyzed.as_str(),
            "{report}"
        );
        assert_eq!(
            report["x_opencti_report_status"], 2,
            "the legacy code is kept"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_status_stops_start_up_listing_the_platforms() {
    let Some(fixture) = Fixture::start("status-unknown").await else {
        return;
    };
    let output = fixture
        .run(&[("KASPERSKY_PUBLICATION_REPORT_STATUS", "Triage")])
        .await;
    assert!(!output.status.success());
    assert!(output.stderr.contains("Triage"), "{}", output.stderr);
    assert!(output.stderr.contains("New, Analyzed"), "{}", output.stderr);
    let works = fixture.stand_in().works();
    assert!(works.is_empty(), "no work is opened: {works:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_workflow_only_the_legacy_status_is_sent() {
    let mut setup = Setup::default();
    setup.stand_in.report_statuses = None;
    let Some(fixture) = Fixture::start_with("status-none", setup).await else {
        return;
    };
    fixture
        .run(&[("KASPERSKY_SCOPES", "publication")])
        .await
        .assert_success();
    let messages = fixture.drain().await;
    let report = messages
        .iter()
        .map(|m| m.object())
        .find(|o| o["type"] == "report")
        .unwrap();
    assert!(report.get("x_opencti_workflow_id").is_none());
    assert_eq!(report["x_opencti_report_status"], 0);
}
