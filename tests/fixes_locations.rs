//! Issue #5, countries (DESIGN.md difference 3): every geography tag of the samples and
//! of the generated world is a country with its real ISO 3166-1 code or a region, and
//! the bundles carry those codes, never the placeholder `ZZ`.
#![cfg(feature = "simulator")]

#[path = "support/run_harness.rs"]
mod harness;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use connector_kaspersky::scopes::locations::{Regions, country_code};
use connector_kaspersky::simulator::tip::{GenerateParams, generate};
use connector_kaspersky::stix::LocationKind;
use harness::{RunHarness, connector, objects, read_bundles};
use serde_json::Value;

/// Country names as Kaspersky writes them, with their ISO 3166-1 alpha-2 codes.
const COUNTRIES: &[(&str, &str)] = &[
    ("Brazil", "BR"),
    ("Germany", "DE"),
    ("Iran, Islamic Republic of", "IR"),
    ("Japan", "JP"),
    ("Kazakhstan", "KZ"),
    ("Korea, Republic of", "KR"),
    ("Korea, Democratic People's Republic of", "KP"),
    ("Mexico", "MX"),
    ("Russian Federation", "RU"),
    ("Saudi Arabia", "SA"),
    ("South Africa", "ZA"),
    ("Syrian Arab Republic", "SY"),
    ("Taiwan, Province of China", "TW"),
    ("Turkey", "TR"),
    ("United Arab Emirates", "AE"),
    ("United States", "US"),
    ("United Kingdom", "GB"),
    ("Viet Nam", "VN"),
];

/// Names that are regions: UN M49 regions, and groupings that are no country.
const REGIONS: &[&str] = &[
    "Africa",
    "Asia",
    "Eastern Europe",
    "South America",
    "Western Europe",
    "CIS",
    "Middle East",
];

fn expected_code(name: &str) -> Option<&'static str> {
    COUNTRIES
        .iter()
        .find(|(country, _)| *country == name)
        .map(|(_, code)| *code)
}

/// Checks one tag against the tables; a tag in neither must be added to them.
fn assert_classified(name: &str) {
    let offline = Regions::m49();
    match (expected_code(name), REGIONS.contains(&name)) {
        (Some(code), _) => {
            assert_eq!(country_code(name).as_deref(), Some(code), "{name}");
            assert_eq!(
                offline.classify(name),
                LocationKind::Country {
                    code: code.to_owned()
                },
                "{name}"
            );
        }
        (None, true) => {
            assert_eq!(offline.classify(name), LocationKind::Region, "{name}");
        }
        (None, false) => panic!("geography tag {name:?} is in no table of this test"),
    }
}

/// Checks the location objects of bundles: countries carry the code of the table,
/// regions are regions, and every tag became a location.
fn assert_locations(bundles: &BTreeMap<String, Value>, tags: &BTreeSet<String>) {
    let mut named = BTreeSet::new();
    for (file, bundle) in bundles {
        for location in objects(bundle, "location") {
            let name = location["name"].as_str().unwrap();
            named.insert(name.to_owned());
            match location["x_opencti_location_type"].as_str() {
                Some("Country") => {
                    let code = location["country"].as_str().unwrap();
                    assert_ne!(code, "ZZ", "{file}: {name}");
                    assert_eq!(Some(code), expected_code(name), "{file}: {name}");
                }
                Some("Region") => {
                    assert!(REGIONS.contains(&name), "{file}: {name} is no region");
                    assert_eq!(location["region"], name, "{file}");
                    assert!(location.get("country").is_none(), "{file}: {name}");
                }
                other => panic!("{file}: location {name} of type {other:?}"),
            }
        }
    }
    assert_eq!(&named, tags, "every geography tag became a location");
}

fn tags_of(publications: &[Value]) -> BTreeSet<String> {
    publications
        .iter()
        .flat_map(|p| p["tags_geo"].as_array().unwrap().iter())
        .map(|tag| tag.as_str().unwrap().trim().to_owned())
        .filter(|tag| !tag.is_empty())
        .collect()
}

/// Kaspersky's country names, in the tables above, resolve to their codes.
#[test]
fn kaspersky_country_names_resolve_to_their_iso_codes() {
    for (name, _) in COUNTRIES {
        assert_classified(name);
    }
    for name in REGIONS {
        assert_classified(name);
    }
}

/// Every geography tag of the samples is classified, and `convert publication` of each
/// sample `get_one` answer writes locations with real codes.
#[tokio::test(flavor = "multi_thread")]
async fn the_sample_countries_become_locations_with_their_codes() {
    let Some(samples) = connector_kaspersky::testdata::shared("samples") else {
        return;
    };
    let list: Vec<Value> =
        serde_json::from_slice(&std::fs::read(samples.join("decoded/publications.json")).unwrap())
            .unwrap();
    let tags = tags_of(&list);
    assert!(tags.len() > 3, "{tags:?}");
    tags.iter().for_each(|tag| assert_classified(tag));

    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("bundles");
    for publication in &list {
        let id = publication["id"].as_str().unwrap();
        convert_publication(
            work.path(),
            &samples.join(format!("api/get_one-{id}.json")),
            &out,
        )
        .await;
    }
    assert_locations(&read_bundles(&out), &tags);
    harness::validate_dir(&out);
}

async fn convert_publication(work: &Path, file: &Path, out: &Path) {
    let mut command = connector(work);
    command
        .args(["convert", "publication"])
        .arg(file)
        .arg("--out")
        .arg(out);
    harness::output(command).await.assert_success();
}

/// The generated world's geography tags (countries with commas in their ISO names, M49
/// regions, groupings) reach the bundles of `run` with their codes.
#[tokio::test(flavor = "multi_thread")]
async fn the_generated_countries_become_locations_with_their_codes() {
    let world = generate(&GenerateParams::default());
    let list: Vec<Value> = world
        .publications()
        .iter()
        .filter(|p| !p.name().starts_with(harness::IGNORE_PREFIX))
        .map(|p| Value::Object(p.meta().clone()))
        .collect();
    let tags = tags_of(&list);
    tags.iter().for_each(|tag| assert_classified(tag));
    assert!(tags.contains("Korea, Republic of"), "{tags:?}");

    let mut h = RunHarness::start(world).await;
    h.set("KASPERSKY_SCOPES", "publication");
    h.run_once().await.assert_success();
    assert_locations(&h.bundles(), &tags);
}
