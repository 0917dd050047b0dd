//! `convert` on every sample input of `../shared/samples`, each with its matching KIND:
//! it exits 0, writes bundles with `--out`, writes the same bundles one per line without
//! it, and every bundle passes the OASIS STIX 2.1 validator.
//!
//! Without `../shared` these tests say they were skipped (under `CI=true` they fail).

#[path = "support/convert_cli.rs"]
mod cli;
#[path = "support/validator.rs"]
mod validator;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use connector_kaspersky::testdata;
use serde_json::{Value, json};

use cli::{bundle_files, convert, objects_of};

/// One sample file and the KIND it is converted as.
#[derive(Clone, Debug)]
struct Input {
    kind: &'static str,
    /// The path under `samples/`, for messages and output directory names.
    relative: String,
    path: PathBuf,
}

impl Input {
    /// Synthetic inputs (`api/`, `decoded/`) all hold something convertible; some public
    /// files of `real/` hold only searches without a STIX mapping.
    fn is_synthetic(&self) -> bool {
        !self.relative.starts_with("real/")
    }

    /// A directory name for this input's bundles.
    fn slug(&self) -> String {
        self.relative.replace(['/', '.'], "_")
    }
}

/// Every input file of the samples with its KIND, or `None` without `../shared`.
fn inputs() -> Option<Vec<Input>> {
    let samples = testdata::shared("samples")?;
    let mut inputs = Vec::new();
    let mut add = |kind: &'static str, relative: String| {
        let path = samples.join(&relative);
        assert!(path.is_file(), "{} is missing", path.display());
        inputs.push(Input {
            kind,
            relative,
            path,
        });
    };

    for name in names(&samples.join("api"), |n| n.starts_with("get_one-")) {
        add("publication", format!("api/{name}"));
    }
    add("master-ioc", "api/get_master_ioc.json".into());
    add("master-ioc", "decoded/master_ioc.csv".into());
    add("master-yara", "api/get_master_yara.json".into());
    add("master-yara", "decoded/master_yara.yar".into());
    for id in names(&samples.join("decoded/publications"), |_| true) {
        let dir = samples.join("decoded/publications").join(&id);
        if dir.join("rules.yar").is_file() {
            add(
                "master-yara",
                format!("decoded/publications/{id}/rules.yar"),
            );
        }
        if dir.join("iocs.ioc").is_file() {
            add("openioc", format!("decoded/publications/{id}/iocs.ioc"));
        }
    }
    for name in names(&samples.join("real/yara"), |n| n.ends_with(".yar")) {
        add("master-yara", format!("real/yara/{name}"));
    }
    for name in names(&samples.join("real/openioc"), |n| n.ends_with(".ioc")) {
        add("openioc", format!("real/openioc/{name}"));
    }

    // The samples README promises six publications; each KIND must have inputs.
    let count = |kind: &str| inputs.iter().filter(|i| i.kind == kind).count();
    assert_eq!(count("publication"), 6, "{inputs:#?}");
    assert!(
        count("openioc") >= 4 && count("master-yara") >= 4,
        "{inputs:#?}"
    );
    Some(inputs)
}

/// The names in `dir` that `keep` accepts, sorted.
fn names(dir: &Path, keep: impl Fn(&str) -> bool) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| keep(name))
        .collect();
    names.sort();
    names
}

/// Checks that a bundle stands alone: unique ids, and every reference resolves inside it.
fn check_self_contained(bundle: &Value, origin: &str) -> Vec<String> {
    let objects = objects_of(bundle);
    let mut problems = Vec::new();
    let mut ids = BTreeSet::new();
    for object in &objects {
        let id = object["id"].as_str().unwrap_or_default().to_owned();
        if !ids.insert(id.clone()) {
            problems.push(format!("{origin}: {id} appears twice"));
        }
    }
    for object in &objects {
        let mut refs: Vec<&str> = Vec::new();
        for key in ["created_by_ref", "source_ref", "target_ref"] {
            refs.extend(object[key].as_str());
        }
        for key in ["object_refs", "object_marking_refs"] {
            if let Some(list) = object[key].as_array() {
                refs.extend(list.iter().filter_map(Value::as_str));
            }
        }
        for target in refs {
            if !ids.contains(target) {
                problems.push(format!(
                    "{origin}: {} refers to absent {target}",
                    object["id"]
                ));
            }
        }
    }
    if objects.is_empty() {
        problems.push(format!("{origin}: an empty bundle"));
    }
    problems
}

#[test]
fn every_sample_converts_into_bundles_that_pass_the_stix_validator() {
    let Some(inputs) = inputs() else { return };
    let root = tempfile::tempdir().unwrap();
    let mut problems = Vec::new();
    let mut written = 0;

    for input in &inputs {
        let out = root.path().join(input.kind).join(input.slug());
        std::fs::create_dir_all(&out).unwrap();
        let outcome = convert(input.kind, &input.path).out(&out).run();
        if outcome.code != Some(0) {
            problems.push(format!("{outcome}"));
            continue;
        }
        let files = bundle_files(&out);
        if files.len() != outcome.summary_bundles() {
            problems.push(format!(
                "{}: {} bundle files, the summary says {}",
                input.relative,
                files.len(),
                outcome.summary_bundles()
            ));
        }
        if files.is_empty() {
            let note = outcome.stderr.lines().any(|l| l.starts_with("note: "));
            if input.is_synthetic() || !note {
                problems.push(format!("no bundle, and no note saying why\n{outcome}"));
            }
        }
        for (path, bundle) in &files {
            problems.extend(check_self_contained(bundle, &path.display().to_string()));
        }
        if input.kind == "publication" && files.len() != 1 {
            problems.push(format!(
                "{}: {} bundles, not 1",
                input.relative,
                files.len()
            ));
        }
        written += files.len();
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
    assert!(
        written >= inputs.len(),
        "only {written} bundles from {} inputs",
        inputs.len()
    );

    let report = validator::assert_valid_dir(root.path());
    if let Some(report) = report {
        eprintln!(
            "{} bundle files valid ({} warnings)",
            report.files.len(),
            report.warnings
        );
    }
}

#[test]
fn standard_output_carries_the_same_bundles_one_per_line() {
    let Some(inputs) = inputs() else { return };
    let mut problems = Vec::new();

    for input in &inputs {
        let out = tempfile::tempdir().unwrap();
        convert(input.kind, &input.path).out(out.path()).success();
        let mut from_files: Vec<String> = bundle_files(out.path())
            .iter()
            .map(|(_, bundle)| bundle.to_string())
            .collect();

        let outcome = convert(input.kind, &input.path).success();
        let mut from_stdout: Vec<String> = outcome.bundles().iter().map(Value::to_string).collect();
        if from_stdout.len() != outcome.summary_bundles() {
            problems.push(format!(
                "{}: {} lines, the summary says {} bundles",
                input.relative,
                from_stdout.len(),
                outcome.summary_bundles()
            ));
        }
        from_files.sort();
        from_stdout.sort();
        if from_files != from_stdout {
            problems.push(format!(
                "{}: --out wrote {} bundles, stdout {}, and they differ",
                input.relative,
                from_files.len(),
                from_stdout.len()
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// A TIP response body and the decoded file inside it are the same input.
#[test]
fn api_bodies_and_decoded_files_give_the_same_bundles() {
    let Some(samples) = testdata::shared("samples") else {
        return;
    };
    for (kind, body, decoded) in [
        (
            "master-ioc",
            "api/get_master_ioc.json",
            "decoded/master_ioc.csv",
        ),
        (
            "master-yara",
            "api/get_master_yara.json",
            "decoded/master_yara.yar",
        ),
    ] {
        let from_body = convert(kind, &samples.join(body)).success().bundles();
        let from_decoded = convert(kind, &samples.join(decoded)).success().bundles();
        assert!(!from_body.is_empty(), "{body} gave no bundle");
        assert_eq!(from_body, from_decoded, "{body} and {decoded} differ");
    }
}

/// The summary's objects by type are what standard output holds.
#[test]
fn summary_counts_match_the_output() {
    let Some(inputs) = inputs() else { return };
    for input in inputs.iter().filter(|i| i.is_synthetic()) {
        let outcome = convert(input.kind, &input.path).success();
        let counted = cli::count_types(&outcome.objects());
        assert_eq!(outcome.summary_objects(), counted, "{}", input.relative);
    }
}

/// The oracle itself: a broken bundle and a file that is not JSON are reported, each
/// error with its file; a valid bundle with warnings passes.
#[test]
fn the_validator_reports_errors_and_allows_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let indicator = |pattern: &str, valid_from: &str| {
        json!({
            "type": "indicator", "spec_version": "2.1",
            "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
            "created": "2024-01-02T03:04:05.000Z", "modified": "2024-01-02T03:04:05.000Z",
            "pattern": pattern, "pattern_type": "stix", "valid_from": valid_from,
        })
    };
    let bundle = |object: Value| {
        json!({
            "type": "bundle", "id": "bundle--44af6c39-c09b-49c5-9de2-394224b04982",
            "objects": [object],
        })
    };
    let broken = bundle(indicator("[ipv4-addr:value = ", "yesterday"));
    let fine = bundle(indicator(
        "[ipv4-addr:value = '192.0.2.1']",
        "2024-01-02T03:04:05Z",
    ));
    std::fs::write(dir.path().join("broken.json"), broken.to_string()).unwrap();
    std::fs::write(dir.path().join("fine.json"), fine.to_string()).unwrap();
    std::fs::write(dir.path().join("garbage.json"), "not json at all").unwrap();

    let Some(report) = validator::check_dir(dir.path()) else {
        return;
    };
    assert_eq!(report.files.len(), 3, "{report:#?}");
    let by_file: BTreeMap<&str, usize> =
        report
            .errors
            .iter()
            .fold(BTreeMap::new(), |mut acc, finding| {
                let name = finding.file.rsplit('/').next().unwrap();
                *acc.entry(name).or_default() += 1;
                acc
            });
    assert!(
        by_file.get("broken.json").is_some_and(|&n| n >= 2),
        "{report:#?}"
    );
    assert!(by_file.contains_key("garbage.json"), "{report:#?}");
    assert!(!by_file.contains_key("fine.json"), "{report:#?}");
    assert!(
        report.warnings > 0,
        "the minimal indicator draws warnings: {report:#?}"
    );
}

/// The parser reads the validator's text format, colour escapes included.
#[test]
fn validator_output_is_parsed() {
    let output = "\
================================================================================
[-] Results for: out/a.json
\u{1b}[31m\u{1b}[1m[X] STIX JSON: Invalid
    [!] Warning: indicator--1: {303} Both the name and description properties SHOULD be present.
    [X] indicator--1: valid_from: 'x' does not match the timestamp format
================================================================================
[-] Results for: out/b.json
[+] STIX JSON: Valid
    [!] Warning: bundle--2: {103} Given ID value is not a valid UUIDv4 ID.
================================================================================
[-] Results for: out/c.json
[X] STIX JSON: Invalid
";
    let report = validator::parse(output);
    assert_eq!(report.files, ["out/a.json", "out/b.json", "out/c.json"]);
    assert_eq!(report.invalid_files, ["out/a.json", "out/c.json"]);
    assert_eq!(report.warnings, 2);
    assert_eq!(
        report.errors,
        [
            validator::Finding {
                file: "out/a.json".into(),
                message: "indicator--1: valid_from: 'x' does not match the timestamp format".into(),
            },
            validator::Finding {
                file: "out/c.json".into(),
                message: "invalid (the validator gave no detail)".into(),
            },
        ]
    );
}
