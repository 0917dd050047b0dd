//! What `convert` tells a user about files it cannot use.
//!
//! An unreadable or malformed file is an error: non-zero exit and one clear line on
//! standard error naming the file. A readable file with nothing convertible in it is not:
//! exit 0, and the summary says why. The summary on standard error lists the items read,
//! those skipped with their reasons, and the objects written by type.
//!
//! The inputs are the fictional fixtures of `tests/data/convert/`.

#[path = "support/convert_cli.rs"]
mod cli;

use std::path::Path;

use cli::{Outcome, convert, fixture};

/// Asserts a failed conversion: non-zero exit, nothing on standard output, and exactly
/// one line on standard error that names `file`.
fn assert_one_line_error(outcome: &Outcome, file: &Path) {
    assert_ne!(outcome.code, Some(0), "{outcome}");
    assert!(outcome.code.is_some(), "killed by a signal: {outcome}");
    assert_eq!(outcome.stdout, "", "{outcome}");
    let lines = outcome.stderr_lines();
    assert_eq!(lines.len(), 1, "one line on stderr\n{outcome}");
    let shown = file.display().to_string();
    assert!(
        lines[0].contains(&shown),
        "the line names {shown}\n{outcome}"
    );
    assert!(!lines[0].contains("panicked"), "{outcome}");
}

/// Asserts a conversion that found nothing to convert: exit 0, no bundle, and a summary
/// with `read:`, `bundles: 0` and a note saying why.
fn assert_nothing_convertible(outcome: &Outcome) {
    assert_eq!(outcome.code, Some(0), "{outcome}");
    assert_eq!(outcome.stdout, "", "{outcome}");
    assert!(outcome.stderr.starts_with("read: "), "{outcome}");
    assert_eq!(outcome.summary_bundles(), 0, "{outcome}");
    assert!(
        outcome.stderr.lines().any(|l| l.starts_with("note: ")),
        "the summary says why nothing came out\n{outcome}"
    );
}

/// A small file of arbitrary bytes: a gzip header, then bytes that are neither text nor
/// a valid stream.
fn binary_blob(dir: &Path) -> std::path::PathBuf {
    let mut bytes = vec![0x1f, 0x8b, 0x08, 0x00];
    bytes.extend((0..=255u8).rev().cycle().take(600));
    let path = dir.join("blob.bin");
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn a_missing_file_is_one_line_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-file.json");
    for kind in ["publication", "master-ioc", "master-yara", "openioc"] {
        let outcome = convert(kind, &missing).run();
        assert_one_line_error(&outcome, &missing);
    }
}

#[test]
fn a_directory_is_one_line_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    for kind in ["publication", "master-ioc", "master-yara", "openioc"] {
        let outcome = convert(kind, dir.path()).run();
        assert_one_line_error(&outcome, dir.path());
    }
}

#[test]
fn a_file_given_as_out_dir_is_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let not_a_dir = dir.path().join("a-file");
    std::fs::write(&not_a_dir, "").unwrap();
    let outcome = convert("openioc", &fixture("iocs.ioc"))
        .out(&not_a_dir)
        .run();
    assert_ne!(outcome.code, Some(0), "{outcome}");
    assert_eq!(outcome.stderr_lines().len(), 1, "{outcome}");
    assert!(outcome.stderr.contains("a-file"), "{outcome}");
}

#[test]
fn an_output_error_states_its_cause_once() {
    let dir = tempfile::tempdir().unwrap();
    let not_a_dir = dir.path().join("a-file");
    std::fs::write(&not_a_dir, "").unwrap();
    let outcome = convert("openioc", &fixture("iocs.ioc"))
        .out(&not_a_dir)
        .run();
    assert_ne!(outcome.code, Some(0), "{outcome}");
    assert_eq!(outcome.stderr.matches("os error").count(), 1, "{outcome}");
}

#[test]
fn xml_that_is_not_openioc_is_one_line_naming_it() {
    let file = fixture("not_openioc.xml");
    let outcome = convert("openioc", &file).run();
    assert_one_line_error(&outcome, &file);
    assert!(outcome.stderr.contains("OpenIOC"), "{outcome}");
}

#[test]
fn a_binary_blob_as_openioc_is_one_line_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let blob = binary_blob(dir.path());
    let outcome = convert("openioc", &blob).run();
    assert_one_line_error(&outcome, &blob);
}

#[test]
fn malformed_publication_json_is_one_line_naming_it() {
    let file = fixture("malformed.json");
    let outcome = convert("publication", &file).run();
    assert_one_line_error(&outcome, &file);
    assert!(outcome.stderr.contains("JSON"), "{outcome}");
}

#[test]
fn malformed_publication_json_is_one_line() {
    let outcome = convert("publication", &fixture("malformed.json")).run();
    assert_ne!(outcome.code, Some(0), "{outcome}");
    assert_eq!(outcome.stdout, "", "{outcome}");
    assert_eq!(outcome.stderr_lines().len(), 1, "{outcome}");
    assert!(outcome.stderr.contains("malformed JSON"), "{outcome}");
}

#[test]
fn a_binary_blob_as_a_master_file_is_one_line_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let blob = binary_blob(dir.path());
    for kind in ["master-ioc", "master-yara"] {
        let outcome = convert(kind, &blob).run();
        assert_one_line_error(&outcome, &blob);
    }
}

#[test]
fn a_binary_blob_as_a_master_file_is_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let blob = binary_blob(dir.path());
    for kind in ["master-ioc", "master-yara", "publication"] {
        let outcome = convert(kind, &blob).run();
        assert_ne!(outcome.code, Some(0), "{outcome}");
        assert_eq!(outcome.stderr_lines().len(), 1, "{outcome}");
    }
}

#[test]
fn a_master_body_without_its_payload_is_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "master-ioc",
            r#"{"status": "ok", "return_data": {"master_yara": ""}}"#,
        ),
        ("master-yara", r#"{"status": "error", "return_data": null}"#),
        (
            "master-ioc",
            r#"{"status": "ok", "return_data": {"master_ioc": "%%%"}}"#,
        ),
    ];
    for (n, (kind, body)) in cases.into_iter().enumerate() {
        let path = dir.path().join(format!("body-{n}.json"));
        std::fs::write(&path, body).unwrap();
        let outcome = convert(kind, &path).run();
        assert_ne!(outcome.code, Some(0), "{outcome}");
        assert_eq!(outcome.stdout, "", "{outcome}");
        assert_eq!(outcome.stderr_lines().len(), 1, "{outcome}");
    }
}

#[test]
fn a_csv_with_only_its_header_is_not_an_error() {
    let outcome = convert("master-ioc", &fixture("header_only.csv")).run();
    assert_nothing_convertible(&outcome);
    assert!(
        outcome.stderr.contains("read: 0 Master IoC rows"),
        "{outcome}"
    );
}

#[test]
fn a_yara_file_with_only_comments_is_not_an_error() {
    let outcome = convert("master-yara", &fixture("comments_only.yar")).run();
    assert_nothing_convertible(&outcome);
    assert!(outcome.stderr.contains("read: 0 YARA rules"), "{outcome}");
}

#[test]
fn an_openioc_with_only_unmapped_searches_is_not_an_error() {
    let outcome = convert("openioc", &fixture("unmapped.ioc")).run();
    assert_nothing_convertible(&outcome);
    assert!(outcome.stderr.contains("read: 2 IoCs"), "{outcome}");
    assert!(outcome.stderr.contains("skipped: 2"), "{outcome}");
    for search in ["RegistryItem/Path", "FileItem/SizeInBytes"] {
        assert!(
            outcome.stderr.lines().any(|l| l.contains(search)),
            "the reason names {search}\n{outcome}"
        );
    }
}

/// Items read, skipped with reasons (naming the item), and objects by type that match
/// what was written.
#[test]
fn the_summary_lists_what_was_read_skipped_and_written() {
    let outcome = convert("master-ioc", &fixture("master_ioc.csv")).success();
    let lines: Vec<&str> = outcome.stderr.lines().collect();

    assert_eq!(lines[0], "read: 7 Master IoC rows", "{outcome}");
    assert!(
        lines.contains(&"excluded by configuration: 1"),
        "the md5Hash row\n{outcome}"
    );
    assert!(lines.contains(&"skipped: 2"), "{outcome}");
    let skipped_line = |needle: &str| lines.iter().any(|l| l.contains(needle));
    assert!(
        skipped_line("\"fileName\"") && skipped_line("line 6"),
        "the unknown type, with its line\n{outcome}"
    );
    assert!(
        skipped_line("found 2") && skipped_line("line 7"),
        "the short row, with its line\n{outcome}"
    );

    assert_eq!(outcome.summary_bundles(), 2, "{outcome}");
    let written = cli::count_types(&outcome.objects());
    assert_eq!(outcome.summary_objects(), written, "{outcome}");
    assert_eq!(written["report"], 2, "{outcome}");
    assert_eq!(written["indicator"], 4, "{outcome}");
}

#[test]
fn the_summary_of_an_openioc_document_counts_every_item() {
    let outcome = convert("openioc", &fixture("iocs.ioc")).success();
    assert!(outcome.stderr.starts_with("read: 6 IoCs\n"), "{outcome}");
    assert!(
        outcome.stderr.contains("excluded by configuration: 1"),
        "FileItem/Md5sum is excluded by default\n{outcome}"
    );
    let written = cli::count_types(&outcome.objects());
    assert_eq!(outcome.summary_objects(), written, "{outcome}");
    assert_eq!(written["indicator"], 5, "{outcome}");
    assert!(
        !written.contains_key("report"),
        "openioc makes no report\n{outcome}"
    );
}

#[test]
fn the_summary_of_a_publication_counts_every_item_read() {
    let dir = tempfile::tempdir().unwrap();
    let body = cli::publication_body(dir.path(), |_| {});
    let outcome = convert("publication", &body).success();
    let read = outcome.stderr.lines().next().unwrap();
    assert!(read.contains("6 IoCs"), "{outcome}");
    assert!(read.contains("2 YARA rules"), "{outcome}");
    assert!(read.contains("1 publications"), "{outcome}");
}

/// A broken payload inside a publication is skipped with its reason; the publication
/// still becomes its report.
#[test]
fn a_publication_with_broken_payloads_still_becomes_its_report() {
    let dir = tempfile::tempdir().unwrap();
    let body = cli::publication_body(dir.path(), |publication| {
        publication["report_iocs"] = "%%% not base64".into();
        publication["report_yara"] = cli::payload(b"\xff\xfe not UTF-8").into();
    });
    let outcome = convert("publication", &body).success();

    assert_eq!(outcome.summary_bundles(), 1, "{outcome}");
    let written = cli::count_types(&outcome.objects());
    assert_eq!(written.get("report"), Some(&1), "{outcome}");
    assert_eq!(written.get("indicator"), None, "{outcome}");
    assert!(outcome.stderr.contains("skipped: 2"), "{outcome}");
    for payload in ["OpenIOC payload", "YARA payload"] {
        let line = outcome.stderr.lines().find(|l| l.contains(payload));
        assert!(
            line.is_some_and(|l| l.contains("7e57c0de0001")),
            "the reason names the publication and its {payload}\n{outcome}"
        );
    }
}

/// The bare publication object (no envelope, no files) is a publication too.
#[test]
fn a_bare_publication_object_becomes_a_report() {
    let outcome = convert("publication", &fixture("publication.json")).success();
    let objects = outcome.objects();
    let report = objects
        .iter()
        .find(|o| o["type"] == "report")
        .unwrap_or_else(|| panic!("a report\n{outcome}"));
    assert_eq!(report["name"], "Glasswing test campaign");
    assert_eq!(
        report["object_refs"].as_array().unwrap().len(),
        5,
        "{report}"
    );
    assert!(outcome.stderr.starts_with("read: "), "{outcome}");
}
