//! What `convert` writes and where: reproducible bytes with `--now`, ids that do not
//! depend on the run time, predictable file names, a directory it never cleans, and
//! bundles that pass the STIX validator.
//!
//! The inputs are the fictional fixtures of `tests/data/convert/`, so these run on a
//! fresh clone without `../shared`.

#[path = "support/convert_cli.rs"]
mod cli;
#[path = "support/validator.rs"]
mod validator;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use cli::{bundle_files, convert, fixture, objects_of, stix_type};

/// The fixture inputs that hold something convertible, with their KIND. The publication
/// is assembled into `dir`.
fn fixture_inputs(dir: &Path) -> Vec<(&'static str, PathBuf)> {
    vec![
        ("publication", cli::publication_body(dir, |_| {})),
        ("openioc", fixture("iocs.ioc")),
        ("master-ioc", fixture("master_ioc.csv")),
        ("master-yara", fixture("master_yara.yar")),
        ("master-yara", fixture("rules.yar")),
        ("master-yara", fixture("ungrouped.yar")),
    ]
}

fn file_names(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn fixture_bundles_pass_the_stix_validator() {
    let inputs = tempfile::tempdir().unwrap();
    let root = tempfile::tempdir().unwrap();
    for (n, (kind, file)) in fixture_inputs(inputs.path()).iter().enumerate() {
        let out = root.path().join(format!("{n}-{kind}"));
        convert(kind, file).out(&out).success();
        assert!(!bundle_files(&out).is_empty(), "{kind} {}", file.display());
    }
    validator::assert_valid_dir(root.path());
}

#[test]
fn a_fixed_now_gives_the_same_bytes() {
    let inputs = tempfile::tempdir().unwrap();
    for (kind, file) in fixture_inputs(inputs.path()) {
        let first = convert(kind, &file).success();
        let second = convert(kind, &file).success();
        assert!(!first.stdout.is_empty(), "{first}");
        assert_eq!(first.stdout, second.stdout, "{kind} {}", file.display());
        assert_eq!(first.stderr, second.stderr, "{kind} {}", file.display());
    }
}

/// Object ids never depend on when `convert` runs: only bundle ids and timestamps do.
#[test]
fn object_ids_do_not_depend_on_the_run_time() {
    let inputs = tempfile::tempdir().unwrap();
    let publication = cli::publication_body(inputs.path(), |_| {});
    let ids = |now: Option<&str>| -> BTreeSet<String> {
        convert("publication", &publication)
            .now(now)
            .success()
            .objects()
            .iter()
            .map(|o| o["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let fixed = ids(Some("2025-01-06T08:00:00Z"));
    assert_eq!(fixed, ids(Some("2031-12-31T23:59:59.5Z")));
    assert_eq!(fixed, ids(None), "without --now");
}

/// `<scope>-<item>-<short id>.json`, with the report names of the bundles in `dir`.
fn expected_names(dir: &Path, item: impl Fn(&str) -> String) -> BTreeSet<String> {
    bundle_files(dir)
        .iter()
        .map(|(_, bundle)| {
            let objects = objects_of(bundle);
            let report = objects.iter().find(|o| stix_type(o) == "report").unwrap();
            let id = report["id"].as_str().unwrap();
            let short = &id.split("--").nth(1).unwrap()[..8];
            format!("{}-{short}.json", item(report["name"].as_str().unwrap()))
        })
        .collect()
}

#[test]
fn files_are_named_scope_item_short_id() {
    let inputs = tempfile::tempdir().unwrap();
    let publication = cli::publication_body(inputs.path(), |_| {});
    let out = tempfile::tempdir().unwrap();
    convert("publication", &publication)
        .out(out.path())
        .success();
    let expected = expected_names(out.path(), |_| "publication-7e57c0de0001".into());
    assert_eq!(expected.len(), 1);
    assert_eq!(file_names(out.path()), expected);

    let out = tempfile::tempdir().unwrap();
    convert("master-ioc", &fixture("master_ioc.csv"))
        .out(out.path())
        .success();
    let expected = expected_names(out.path(), |name| match name {
        "Glasswing test campaign" => "master_ioc-glasswing-test-campaign".into(),
        "Quietfinch, second wave" => "master_ioc-quietfinch-second-wave".into(),
        other => panic!("unexpected report {other}"),
    });
    assert_eq!(expected.len(), 2);
    assert_eq!(file_names(out.path()), expected);
}

#[test]
fn the_output_directory_is_created_and_never_cleaned() {
    let root = tempfile::tempdir().unwrap();
    let out = root.path().join("nested/bundles");
    let file = fixture("master_ioc.csv");

    convert("master-ioc", &file).out(&out).success();
    let first = file_names(&out);
    assert_eq!(first.len(), 2, "{first:?}");

    std::fs::write(out.join("notes.txt"), "kept").unwrap();
    std::fs::write(out.join("older-bundle.json"), "{}").unwrap();
    convert("master-ioc", &file).out(&out).success();

    let mut expected = first.clone();
    expected.extend(["notes.txt".to_owned(), "older-bundle.json".to_owned()]);
    assert_eq!(
        file_names(&out),
        expected,
        "same names again, nothing deleted"
    );
    assert_eq!(
        std::fs::read_to_string(out.join("notes.txt")).unwrap(),
        "kept"
    );
}

#[test]
fn nameless_yara_groups_of_two_files_do_not_overwrite_each_other() {
    let out = tempfile::tempdir().unwrap();
    convert("master-yara", &fixture("master_yara.yar"))
        .out(out.path())
        .success();
    let outcome = convert("master-yara", &fixture("ungrouped.yar"))
        .out(out.path())
        .success();
    assert_eq!(outcome.summary_bundles(), 1, "{outcome}");

    let indicators: BTreeSet<String> = bundle_files(out.path())
        .iter()
        .flat_map(|(_, bundle)| objects_of(bundle))
        .filter(|o| stix_type(o) == "indicator")
        .map(|o| o["name"].as_str().unwrap().to_owned())
        .collect();
    for name in ["Stray_Rule", "Lonely_Rule"] {
        assert!(indicators.contains(name), "{name} survives: {indicators:?}");
    }
}

#[test]
fn openioc_documents_without_id_do_not_overwrite_each_other() {
    let inputs = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(fixture("iocs.ioc")).unwrap();
    let without_id = text.replace(" id=\"7e57c0de-0000-4000-8000-000000000001\"", "");
    assert_ne!(text, without_id);
    let first = inputs.path().join("first.ioc");
    let second = inputs.path().join("second.ioc");
    std::fs::write(&first, &without_id).unwrap();
    std::fs::write(&second, without_id.replace("192.0.2.44", "198.51.100.9")).unwrap();

    let out = tempfile::tempdir().unwrap();
    for file in [&first, &second] {
        convert("openioc", file).out(out.path()).success();
    }
    let values: BTreeSet<String> = bundle_files(out.path())
        .iter()
        .flat_map(|(_, bundle)| objects_of(bundle))
        .filter(|o| stix_type(o) == "ipv4-addr")
        .map(|o| o["value"].to_string())
        .collect();
    assert_eq!(
        values.len(),
        2,
        "both documents' addresses survive: {values:?}"
    );
}

/// Converted again at another time, a YARA file gives the same file names: the group
/// without a report is named after its rules, not after its bundle id (whose `created` is
/// the time of the conversion).
#[test]
fn a_yara_file_converted_again_keeps_its_file_names() {
    let out = tempfile::tempdir().unwrap();
    let yara = fixture("master_yara.yar");
    convert("master-yara", &yara)
        .now(Some("2025-01-01T00:00:00Z"))
        .out(out.path())
        .success();
    let first = file_names(out.path());
    convert("master-yara", &yara)
        .now(Some("2025-06-01T00:00:00Z"))
        .out(out.path())
        .success();
    assert_eq!(file_names(out.path()), first);
}
