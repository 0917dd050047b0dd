//! Gzip bombs and oversized payloads: the cap (`KASPERSKY_MAX_PAYLOAD_BYTES`) stops them,
//! the item is named, and the rest of the publication still converts.

#[path = "support/hostile_input.rs"]
mod convert;

use convert::{bomb, convert, get_one, openioc, pack, write, yara_rule};
use serde_json::json;

/// The cap the tests set: 1 MiB.
const CAP: &str = "1048576";

#[test]
fn a_gzip_bomb_in_a_publication_is_skipped_and_the_rest_converts() {
    let dir = tempfile::tempdir().unwrap();
    // 64 MiB of zeros as the OpenIOC file, about 64 KiB on the wire.
    let body = get_one(json!({
        "report_iocs": bomb(64 << 20),
        "report_yara": pack(yara_rule("survivor_rule").as_bytes()),
    }));
    let file = write(dir.path(), "get_one.json", body.to_string());

    let run = convert(
        dir.path(),
        "publication",
        &file,
        &[("KASPERSKY_MAX_PAYLOAD_BYTES", CAP)],
    );

    assert!(run.success, "{}", run.stderr);
    assert!(
        run.stderr.contains("publication p1 OpenIOC payload")
            && run
                .stderr
                .contains("decompressed size exceeds the limit of 1048576 bytes"),
        "{}",
        run.stderr
    );
    let names: Vec<&str> = run
        .of_type("indicator")
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["survivor_rule"]);
    assert_eq!(run.of_type("report").count(), 1);
}

#[test]
fn an_oversized_pdf_is_skipped_and_the_indicators_convert() {
    let dir = tempfile::tempdir().unwrap();
    // Random-looking bytes do not compress: a payload honestly past the cap.
    let pdf: Vec<u8> = (0u32..300_000)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let iocs = openioc(&[("i1", "Network/DNS", "string", "c2.example.com")]);
    let body = get_one(json!({"report_pdf": pack(&pdf), "report_iocs": pack(iocs.as_bytes())}));
    let file = write(dir.path(), "get_one.json", body.to_string());

    let run = convert(
        dir.path(),
        "publication",
        &file,
        &[("KASPERSKY_MAX_PAYLOAD_BYTES", "100000")],
    );

    assert!(run.success, "{}", run.stderr);
    assert!(
        run.stderr.contains("publication p1 PDF")
            && run.stderr.contains("exceeds the limit of 100000 bytes"),
        "{}",
        run.stderr
    );
    let report = run.of_type("report").next().unwrap();
    let files = report.get("x_opencti_files").and_then(|f| f.as_array());
    assert!(files.is_none_or(Vec::is_empty), "no PDF attached: {report}");
    assert_eq!(run.of_type("domain-name").count(), 1);
}

#[test]
fn the_same_pdf_under_the_cap_is_attached() {
    let dir = tempfile::tempdir().unwrap();
    let body = get_one(json!({"report_pdf": pack(b"%PDF-1.4 tiny")}));
    let file = write(dir.path(), "get_one.json", body.to_string());

    let run = convert(
        dir.path(),
        "publication",
        &file,
        &[("KASPERSKY_MAX_PAYLOAD_BYTES", "100000")],
    );

    assert!(run.success, "{}", run.stderr);
    assert!(!run.stderr.contains("exceeds the limit"), "{}", run.stderr);
    let report = run.of_type("report").next().unwrap();
    let files = report["x_opencti_files"].as_array().unwrap();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0]["mime_type"], "application/pdf");
}

#[test]
fn a_master_ioc_bomb_refuses_the_file_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let body = json!({"status": "ok", "return_data": {"master_ioc": bomb(32 << 20)}});
    let file = write(dir.path(), "get_master_ioc.json", body.to_string());

    let run = convert(
        dir.path(),
        "master-ioc",
        &file,
        &[("KASPERSKY_MAX_PAYLOAD_BYTES", CAP)],
    );

    assert!(!run.success);
    assert_eq!(
        run.stderr_lines(),
        [format!(
            "error: {}: return_data.master_ioc: decompressed size exceeds the limit of \
             1048576 bytes",
            file.display()
        )],
    );
    assert!(run.bundles.is_empty());
}

#[test]
fn a_master_yara_bomb_refuses_the_file_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let body = json!({"status": "ok", "return_data": {"master_yara": bomb(32 << 20)}});
    let file = write(dir.path(), "get_master_yara.json", body.to_string());

    let run = convert(
        dir.path(),
        "master-yara",
        &file,
        &[("KASPERSKY_MAX_PAYLOAD_BYTES", CAP)],
    );

    assert!(!run.success);
    let lines = run.stderr_lines();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].starts_with(&format!(
            "error: {}: return_data.master_yara: decompressed size exceeds",
            file.display()
        )),
        "{lines:?}"
    );
}

#[test]
fn broken_base64_and_gzip_are_named_and_the_rest_converts() {
    let dir = tempfile::tempdir().unwrap();
    let body = get_one(json!({
        "report_pdf": "not base64 at all!",
        "report_iocs": pack(b"").replace('A', "*"),
        "report_yara": base64_of(b"plain text, not gzip"),
    }));
    let file = write(dir.path(), "get_one.json", body.to_string());

    let run = convert(dir.path(), "publication", &file, &[]);

    assert!(run.success, "{}", run.stderr);
    for item in [
        "publication p1 PDF",
        "publication p1 OpenIOC payload",
        "publication p1 YARA payload",
    ] {
        assert!(
            run.stderr.contains(item),
            "{item} not named: {}",
            run.stderr
        );
    }
    assert_eq!(run.of_type("report").count(), 1);
}

fn base64_of(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
