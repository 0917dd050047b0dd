//! The generated world: written to disk and loaded back it is served the same, it is
//! reproducible byte for byte, and it covers what the connector must handle.
#![cfg(feature = "simulator")]

#[path = "support/tip_harness.rs"]
mod harness;

use std::collections::BTreeSet;
use std::path::Path;

use connector_kaspersky::simulator::tip::{GenerateParams, World, WorldPublication, generate};
use connector_kaspersky::testdata;
use connector_kaspersky::tip::Endpoint;
use harness::{Harness, decode_payloads};

fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(next) = stack.pop() {
        for entry in std::fs::read_dir(&next).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let name = path.strip_prefix(dir).unwrap().display().to_string();
                out.push((name, std::fs::read(&path).unwrap()));
            }
        }
    }
    out.sort();
    out
}

/// Two writes of the same parameters give the same files, in the decoded layout.
#[test]
fn a_written_world_is_reproducible() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    generate(&GenerateParams::default())
        .write(a.path())
        .unwrap();
    generate(&GenerateParams::default())
        .write(b.path())
        .unwrap();
    let (fa, fb) = (files(a.path()), files(b.path()));
    assert_eq!(fa, fb);

    let names: BTreeSet<&str> = fa.iter().map(|(name, _)| name.as_str()).collect();
    for required in [
        "publications.json",
        "master_ioc.csv",
        "master_yara.yar",
        "world.json",
    ] {
        assert!(names.contains(required), "{required}");
    }
    assert!(names.iter().any(|n| n.ends_with("/report.pdf")));
    assert!(names.iter().any(|n| n.ends_with("/iocs.ioc")));
    assert!(names.iter().any(|n| n.ends_with("/rules.yar")));
}

async fn answer(
    h: &Harness,
    endpoint: Endpoint,
    query: &[(&str, String)],
) -> (u16, serde_json::Value) {
    let pairs: Vec<(&str, &str)> = query.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, mut body) = h.raw_post(endpoint, &pairs).await;
    decode_payloads(&mut body);
    (status, body)
}

/// A generated world written out and loaded back is served exactly like the original.
#[tokio::test]
async fn a_loaded_world_is_served_like_the_generated_one() {
    let world = generate(&GenerateParams::default());
    let dir = tempfile::tempdir().unwrap();
    world.write(dir.path()).unwrap();
    let original = Harness::start(world.clone()).await;
    let loaded = Harness::start(World::load(dir.path()).unwrap()).await;

    assert_eq!(
        answer(&original, Endpoint::GetList, &[]).await,
        answer(&loaded, Endpoint::GetList, &[]).await
    );
    for publication in world.publications() {
        let query = vec![
            ("publication_id", publication.id().to_owned()),
            ("include_info", "pdf,yara,iocs".to_owned()),
        ];
        assert_eq!(
            answer(&original, Endpoint::GetOne, &query).await,
            answer(&loaded, Endpoint::GetOne, &query).await
        );
    }
    for endpoint in [Endpoint::GetMasterIoc, Endpoint::GetMasterYara] {
        let query = vec![("report_group", "apt".to_owned())];
        assert_eq!(
            answer(&original, endpoint, &query).await,
            answer(&loaded, endpoint, &query).await
        );
    }
}

fn text(payload: &Option<connector_kaspersky::simulator::tip::Payload>) -> Option<String> {
    payload
        .as_ref()
        .map(|p| String::from_utf8(p.raw().to_vec()).unwrap())
}

/// Every OpenIOC search of the mapping table appears in the default world, with the
/// handle-list mutex form and two unmapped searches; every document parses.
#[test]
fn the_default_world_covers_every_openioc_search() {
    let world = generate(&GenerateParams::default());
    let mut searches = BTreeSet::new();
    for publication in world.publications() {
        let Some(xml) = text(&publication.iocs) else {
            continue;
        };
        let doc = roxmltree::Document::parse(&xml).unwrap();
        assert_eq!(
            doc.root_element().tag_name().namespace(),
            Some("http://schemas.mandiant.com/2010/ioc")
        );
        for context in doc.descendants().filter(|n| n.has_tag_name("Context")) {
            searches.insert(context.attribute("search").unwrap().to_owned());
        }
    }
    for extra in [
        "ProcessItem/HandleList/Handle/Name",
        "RegistryItem/Path",
        "FileItem/SizeInBytes",
    ] {
        assert!(searches.contains(extra), "{extra}");
    }

    let Some(mapping) = testdata::shared("reference/stix-mapping.md") else {
        return;
    };
    let table = std::fs::read_to_string(mapping).unwrap();
    let section = table.split("OpenIOC search → kind:").nth(1).unwrap();
    let section = section
        .split("\n\n")
        .find(|part| part.contains("| search |"))
        .unwrap();
    let mut mapped = 0;
    for line in section.lines().skip(2) {
        let first_cell = line
            .trim_start_matches('|')
            .split('|')
            .next()
            .unwrap_or_default();
        for search in first_cell.split(',') {
            let search = search.trim().trim_matches('`');
            if !search.is_empty() {
                mapped += 1;
                assert!(searches.contains(search), "{search} is never generated");
            }
        }
    }
    assert!(
        mapped >= 40,
        "read {mapped} searches from the mapping table"
    );
}

/// The Master IoC file has every type of the mapping plus unknown ones, IPv4, IPv6 and
/// domains, and a quoted publication name; it reads with the single-quote CSV dialect.
#[test]
fn the_master_ioc_file_covers_every_type() {
    let world = generate(&GenerateParams::default());
    let csv_text = text(&world.master_ioc).unwrap();
    let mut reader = csv::ReaderBuilder::new()
        .quote(b'\'')
        .from_reader(csv_text.as_bytes());
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        [
            "uid",
            "publication",
            "indicator",
            "detection_date",
            "indicator_type"
        ]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 300);

    let types: BTreeSet<&str> = rows.iter().map(|r| r.get(4).unwrap()).collect();
    for kind in ["md5Hash", "sha1Hash", "sha256Hash", "networkActivity"] {
        assert!(types.contains(kind), "{kind}");
    }
    assert!(types.len() > 4, "an unknown type: {types:?}");
    let network: Vec<&str> = rows
        .iter()
        .filter(|r| &r[4] == "networkActivity")
        .map(|r| r.get(2).unwrap())
        .collect();
    assert!(
        network
            .iter()
            .any(|v| v.parse::<std::net::Ipv4Addr>().is_ok())
    );
    assert!(
        network
            .iter()
            .any(|v| v.parse::<std::net::Ipv6Addr>().is_ok())
    );
    assert!(
        network
            .iter()
            .any(|v| v.parse::<std::net::IpAddr>().is_err())
    );
    assert!(rows.iter().any(|r| r[1].contains(',')), "a quoted name");
    assert!(csv_text.contains(",'"));

    let groups: BTreeSet<&str> = rows.iter().map(|r| r.get(1).unwrap()).collect();
    let names: BTreeSet<&str> = world.publications().iter().map(|p| p.name()).collect();
    assert!(
        groups.iter().any(|g| names.contains(g)),
        "groups join publications"
    );
}

/// Publications show the monthly prefix, every geography tag asked for, and both date
/// forms; files are present and absent in every combination needed.
#[test]
fn publications_cover_the_connector_cases() {
    let world = generate(&GenerateParams::default());
    let publications = world.publications();
    assert_eq!(publications.len(), 8);
    let monthly = publications
        .iter()
        .filter(|p| p.name().starts_with("Monthly APT activity report"))
        .count();
    assert_eq!(monthly, 1);

    let geo: BTreeSet<String> = publications
        .iter()
        .flat_map(|p| p.meta()["tags_geo"].as_array().unwrap().clone())
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    for place in [
        "Russian Federation",
        "Korea, Republic of",
        "Iran, Islamic Republic of",
        "Western Europe",
        "Africa",
        "Middle East",
    ] {
        assert!(geo.contains(place), "{place}");
    }
    assert!(publications.iter().any(|p| p.meta()["updated"].is_i64()));
    assert!(
        publications
            .iter()
            .any(|p| p.meta()["published"].is_string())
    );
    let cases: [fn(&WorldPublication) -> bool; 3] = [
        |p| p.pdf.is_some(),
        |p| p.iocs.is_some(),
        |p| p.yara.is_some(),
    ];
    for has in cases {
        assert!(publications.iter().any(has) && !publications.iter().all(has));
    }
    assert!(publications.iter().all(|p| {
        p.pdf
            .as_ref()
            .is_none_or(|pdf| pdf.raw().starts_with(b"%PDF-1.4"))
    }));
}

/// The Master YARA file imports modules at the top only and has private rules, rules
/// without report, and `last_modified` written many ways.
#[test]
fn the_master_yara_file_covers_the_rule_shapes() {
    let world = generate(&GenerateParams::default());
    let yara = text(&world.master_yara).unwrap();
    let body = yara.split_once("\n\n").unwrap().1;
    assert!(yara.starts_with("import \"pe\""));
    assert!(!body.contains("import "));
    assert!(yara.contains("private rule "));
    let forms: BTreeSet<&str> = yara
        .lines()
        .filter_map(|line| line.trim().strip_prefix("last_modified = \""))
        .collect();
    assert!(forms.len() >= 12, "{forms:?}");
    let rules = yara.split("\n}\n").filter(|r| r.contains("rule ")).count();
    assert_eq!(rules, 40);
}
