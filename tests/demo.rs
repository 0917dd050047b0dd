//! `demo --out DIR` end to end (issue #3): the real binary with no configuration at all
//! starts its embedded simulator, imports every scope, prints its table, and every
//! bundle file it writes passes the OASIS STIX 2.1 validator.
#![cfg(feature = "simulator")]

#[path = "support/run_harness.rs"]
mod harness;

use std::collections::BTreeMap;

use connector_kaspersky::simulator::tip::{GenerateParams, generate};
use harness::{IGNORE_PREFIX, RunOutput, connector, objects, of_scope, read_bundles};

/// The table's rows, by label: `files written  24  in DIR` becomes
/// ("files written", "24").
fn table(stdout: &str) -> BTreeMap<String, String> {
    stdout
        .lines()
        .filter_map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            let at = words.iter().position(|w| w.parse::<f64>().is_ok())?;
            Some((words[..at].join(" "), words[at].to_owned()))
        })
        .collect()
}

fn count(table: &BTreeMap<String, String>, label: &str) -> usize {
    table
        .get(label)
        .unwrap_or_else(|| panic!("the table has no {label:?} row: {table:?}"))
        .parse()
        .unwrap_or_else(|_| panic!("{label:?} is not a count: {table:?}"))
}

/// The demo exits 0, writes one bundle per publication (the monthly report excepted) and
/// per master group, prints counts that match the files, and every file validates.
#[tokio::test(flavor = "multi_thread")]
async fn demo_writes_valid_bundles_and_tells_what_it_did() {
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("bundles");
    let mut command = connector(work.path());
    command.arg("demo").arg("--out").arg(&out);
    let result: RunOutput = harness::output(command).await;
    result.assert_success();

    // The table names every row the README promises.
    for label in [
        "publications",
        "IoC indicators",
        "YARA rules",
        "objects by type",
        "files written",
        "time taken",
    ] {
        assert!(
            result.stdout.contains(label),
            "no {label:?} in the table:\n{}",
            result.stdout
        );
    }
    let rows = table(&result.stdout);

    // One publication file per publication of the demo world but the monthly report.
    let world = generate(&GenerateParams::default());
    let expected = world
        .publications()
        .iter()
        .filter(|p| !p.name().starts_with(IGNORE_PREFIX))
        .count();
    assert!(
        expected > 0 && expected < world.publications().len(),
        "the demo world has a monthly report"
    );
    let bundles = read_bundles(&out);
    assert_eq!(of_scope(&bundles, "publication").len(), expected);
    assert_eq!(count(&rows, "publications"), expected);
    assert!(!of_scope(&bundles, "master_ioc").is_empty());
    assert!(!of_scope(&bundles, "master_yara").is_empty());
    assert_eq!(count(&rows, "files written"), bundles.len());

    // The counts are those of the files.
    let mut by_type: BTreeMap<String, usize> = BTreeMap::new();
    let (mut iocs, mut yara) = (0, 0);
    for bundle in bundles.values() {
        for object in bundle["objects"].as_array().unwrap() {
            *by_type
                .entry(object["type"].as_str().unwrap().to_owned())
                .or_default() += 1;
        }
        for indicator in objects(bundle, "indicator") {
            match indicator["pattern_type"].as_str() {
                Some("yara") => yara += 1,
                Some("stix") => iocs += 1,
                other => panic!("unexpected pattern type {other:?}"),
            }
        }
    }
    assert!(iocs > 0 && yara > 0);
    assert_eq!(count(&rows, "IoC indicators"), iocs);
    assert_eq!(count(&rows, "YARA rules"), yara);
    for (kind, n) in &by_type {
        assert_eq!(count(&rows, kind), *n, "objects of type {kind}");
    }
    assert_eq!(count(&rows, "total"), by_type.values().sum::<usize>());

    harness::validate_dir(&out);
}

/// Run again into the same folder, the demo writes the same files (no group's file name
/// depends on the time of the run) and prints the same counts: it counts the bundles it
/// wrote, not whatever the folder holds, such as a JSON file of the user's.
#[tokio::test(flavor = "multi_thread")]
async fn demo_run_again_into_the_same_folder_shows_the_same_counts() {
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("d5");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("notes.json"), "[\"not a bundle\"]").unwrap();
    let demo = || {
        let mut command = connector(work.path());
        command.arg("demo").arg("--out").arg(&out);
        harness::output(command)
    };
    let rows = |result: &RunOutput| {
        result.assert_success();
        let mut rows = table(&result.stdout);
        rows.remove("time taken");
        rows
    };
    let files = || -> Vec<_> { harness::json_files(&out) };

    let first = rows(&demo().await);
    let written = files();
    assert!(count(&first, "YARA rules") > 0, "{first:?}");
    assert_eq!(
        count(&first, "files written"),
        written.len() - 1,
        "notes.json not counted"
    );
    for _ in 0..2 {
        assert_eq!(rows(&demo().await), first);
        assert_eq!(files(), written, "the same file names");
    }
}

/// `demo` runs on built-in settings: its help says so, and a `--config` it is given is
/// not read (a missing file is no error) but named, so that nobody thinks it applied.
#[tokio::test(flavor = "multi_thread")]
async fn demo_says_it_does_not_read_the_configuration() {
    let work = tempfile::tempdir().unwrap();
    let mut help = connector(work.path());
    help.args(["demo", "--help"]);
    let help = harness::output(help).await;
    help.assert_success();
    assert!(help.stdout.contains("built-in settings"), "{}", help.stdout);

    let mut command = connector(work.path());
    command
        .args(["demo", "--config", "absent.yml", "--out"])
        .arg(work.path().join("bundles"))
        .env("KASPERSKY_TLP", "purple");
    let result = harness::output(command).await;
    result.assert_success();
    assert!(
        result
            .stderr
            .contains("built-in settings; absent.yml is not read"),
        "{}",
        result.stderr
    );
}
