//! Values that would break a STIX pattern (quotes, backslashes, newlines), absurd dates
//! and duplicate ids: the run goes on and every bundle written passes the OASIS STIX 2.1
//! validator (`.venv/bin/stix2_validator`, installed by `scripts/test`).

#[path = "support/hostile_input.rs"]
mod convert;
#[path = "support/oasis.rs"]
mod oasis;
#[path = "support/validator.rs"]
mod validator;

use std::collections::HashSet;

use connector_kaspersky::stix::pattern::equality_value;
use convert::{convert, get_one, openioc, pack, write};
use serde_json::json;

/// Every bundle of the run passes the validator (skipped without `.venv`).
fn assert_valid(run: &convert::Converted) {
    assert!(!run.bundles.is_empty(), "no bundle written: {}", run.stderr);
    let out = run.bundles[0].0.parent().unwrap();
    validator::assert_valid_dir(out);
}

/// Every object id of the run appears once.
fn assert_unique_ids(run: &convert::Converted) {
    let ids: Vec<&str> = run.objects().map(|o| o["id"].as_str().unwrap()).collect();
    let unique: HashSet<&str> = ids.iter().copied().collect();
    assert_eq!(ids.len(), unique.len(), "duplicate objects: {ids:?}");
}

/// The values the indicators' STIX patterns carry.
fn pattern_values(run: &convert::Converted) -> HashSet<String> {
    run.of_type("indicator")
        .filter(|i| i["pattern_type"] == "stix")
        .map(|i| equality_value(i["pattern"].as_str().unwrap()).unwrap())
        .collect()
}

/// XML text for a value (the document is written by hand, so escape what XML needs).
fn xml(value: &str) -> String {
    value
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('\'', "&apos;")
        .replace('\n', "&#10;")
}

const BREAKERS: &[(&str, &str, &str)] = &[
    (
        "b1",
        "FileItem/FileName",
        "O'Brien's \\\\server\\share\\it's.doc",
    ),
    ("b2", "Network/URI", "http://example.com/a'];[x:y='\\"),
    ("b3", "FileItem/FullPath", "C:\\Users\\x\\line\nbreak.exe"),
    (
        "b4",
        "Network/UserAgent",
        "Mozilla/5.0 (\"quoted\") \\' \t tab",
    ),
    (
        "b5",
        "Email/Subject",
        "Re: 'urgent' \\ invoice\r\nBcc: x@example.com",
    ),
    ("b6", "ProcessItem/Mutex", "Global\\{mutex'}"),
];

#[test]
fn pattern_breaking_values_make_valid_bundles_and_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let items: Vec<(&str, &str, &str, String)> = BREAKERS
        .iter()
        .map(|(id, search, value)| (*id, *search, "string", xml(value)))
        .collect();
    let borrowed: Vec<(&str, &str, &str, &str)> = items
        .iter()
        .map(|(a, b, c, d)| (*a, *b, *c, d.as_str()))
        .collect();
    let file = write(dir.path(), "breakers.ioc", openioc(&borrowed));

    let run = convert(dir.path(), "openioc", &file, &[]);

    assert!(run.success, "{}", run.stderr);
    let carried = pattern_values(&run);
    for (_, _, value) in BREAKERS {
        assert!(
            carried.contains(*value),
            "{value:?} not carried: {carried:?}"
        );
    }
    assert_valid(&run);
}

/// A Master IoC file whose `networkActivity` values and publication names carry quotes
/// and backslashes.
const MASTER_IOC_BREAKERS: &str = "uid,publication,indicator,detection_date,indicator_type\n\
    v1,'Report ''quoted'' \\ name',evil'.example.com\\,2024-01-01,networkActivity\n\
    v2,Report \\ two,'it''s.example.com',2024-01-02,networkActivity\n\
    v3,Report \\ two,ok.example.com,2024-01-03,networkActivity\n";

#[test]
fn pattern_breaking_values_in_the_master_ioc_make_valid_patterns() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "master_ioc.csv", MASTER_IOC_BREAKERS);

    let run = convert(dir.path(), "master-ioc", &file, &[]);

    assert!(run.success, "{}", run.stderr);
    let carried = pattern_values(&run);
    for value in ["evil'.example.com\\", "it's.example.com", "ok.example.com"] {
        assert!(
            carried.contains(value),
            "{value:?} not carried: {carried:?}"
        );
    }
    let names: HashSet<&str> = run
        .of_type("report")
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert!(names.contains("Report 'quoted' \\ name"), "{names:?}");

    let Some(python) = oasis::venv_program("python") else {
        return;
    };
    let patterns: Vec<String> = run
        .of_type("indicator")
        .map(|i| i["pattern"].as_str().unwrap().to_owned())
        .collect();
    for (pattern, verdict) in patterns
        .iter()
        .zip(oasis::check_patterns(&python, &patterns))
    {
        assert!(
            verdict.errors.is_empty(),
            "{pattern:?}: {:?}",
            verdict.errors
        );
    }
}

/// The same file, held to the whole-bundle validator: a `networkActivity` value that is
/// neither an address nor a host name keeps its indicator, but no `domain-name`
/// observable is made of it (the validator wants a host name there).
#[test]
fn pattern_breaking_values_in_the_master_ioc_make_valid_bundles() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "master_ioc.csv", MASTER_IOC_BREAKERS);
    let run = convert(dir.path(), "master-ioc", &file, &[]);
    assert!(run.success, "{}", run.stderr);
    assert_valid(&run);

    let document = openioc(&[("d1", "Network/DNS", "string", "it&apos;s.example.com")]);
    let file = write(dir.path(), "dns.ioc", document);
    let run = convert(dir.path(), "openioc", &file, &[]);
    assert!(run.success, "{}", run.stderr);
    assert_valid(&run);
}

#[test]
fn absurd_dates_in_openioc_and_yara_are_ignored_and_the_bundle_validates() {
    let dir = tempfile::tempdir().unwrap();
    for (authored, modified) in [
        ("0000-01-01", "99999-01-01T00:00:00Z"),
        ("2024-02-30", "0001-01-01T00:00:00"),
    ] {
        let document = openioc(&[("a1", "Network/DNS", "string", "dated.example.com")])
            .replace("2024-05-01", authored)
            .replace("2024-05-06T07:08:09Z", modified);
        let yara = format!(
            "rule absurd_date\n{{\n    meta:\n        last_modified = \"{authored}\"\n    \
             condition:\n        true\n}}\n"
        );
        let body = get_one(json!({
            "report_iocs": pack(document.as_bytes()),
            "report_yara": pack(yara.as_bytes()),
        }));
        let file = write(dir.path(), &format!("{authored}.json"), body.to_string());

        let run = convert(dir.path(), "publication", &file, &[]);

        assert!(run.success, "{authored}: {}", run.stderr);
        for object in run.objects() {
            for key in ["created", "modified", "valid_from"] {
                if let Some(time) = object[key].as_str() {
                    let year: i32 = time[..4].parse().unwrap();
                    assert!((1900..=9999).contains(&year), "{key} {time} in {object}");
                }
            }
        }
        assert_eq!(run.of_type("indicator").count(), 2, "{authored}");
        assert_valid(&run);
    }
}

#[test]
fn duplicate_openioc_ids_make_no_duplicate_objects() {
    let dir = tempfile::tempdir().unwrap();
    let document = openioc(&[
        ("same", "Network/DNS", "string", "one.example.com"),
        ("same", "Network/DNS", "string", "one.example.com"),
        ("same", "Network/DNS", "string", "two.example.com"),
        ("other", "PortItem/remoteIP", "IP", "192.0.2.1"),
        ("other", "PortItem/remoteIP", "IP", "192.0.2.1"),
    ]);
    let file = write(dir.path(), "dups.ioc", document);

    let run = convert(dir.path(), "openioc", &file, &[]);

    assert!(run.success, "{}", run.stderr);
    assert_unique_ids(&run);
    assert_eq!(
        pattern_values(&run),
        HashSet::from(["one.example.com", "two.example.com", "192.0.2.1"].map(String::from))
    );
    assert_valid(&run);
}
