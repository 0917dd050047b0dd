//! The worked example of reference/opencti-protocol.md §7.3, and typed bundles.

use serde_json::{Value, json};

use super::*;

/// The example's input, in its order: R, REL1, REL2, I, O, A, M, C.
fn worked_example() -> Value {
    json!({
        "type": "bundle",
        "id": "bundle--00000000-0000-4000-8000-000000000001",
        "objects": [
            {"type": "report", "id": "report--r", "created_by_ref": "identity--a",
             "object_marking_refs": ["marking-definition--m"],
             "object_refs": ["indicator--i", "ipv4-addr--o", "relationship--rel1",
                             "identity--missing"]},
            {"type": "relationship", "id": "relationship--rel1", "relationship_type": "based-on",
             "source_ref": "indicator--i", "target_ref": "ipv4-addr--o",
             "created_by_ref": "identity--a"},
            {"type": "relationship", "id": "relationship--rel2", "relationship_type": "indicates",
             "source_ref": "indicator--i", "target_ref": "malware--missing"},
            {"type": "indicator", "id": "indicator--i", "created_by_ref": "identity--a",
             "object_marking_refs": ["marking-definition--m"],
             "external_references": [
                 {"source_name": "a", "url": "https://example.com/x"},
                 {"source_name": "b", "url": "https://example.com/x"}]},
            {"type": "ipv4-addr", "id": "ipv4-addr--o", "value": "192.0.2.1",
             "object_marking_refs": ["marking-definition--m"]},
            {"type": "identity", "id": "identity--a", "name": "A",
             "object_marking_refs": ["marking-definition--m"]},
            {"type": "marking-definition", "id": "marking-definition--m"},
            {"type": "x-custom-thing", "id": "x-custom-thing--c"}
        ]
    })
}

fn sent(split: &SplitBundle<'_>) -> Vec<(String, u64)> {
    split
        .items
        .iter()
        .map(|item| (item.object.id().to_owned(), item.nb_deps))
        .collect()
}

fn pairs(list: &[(&str, u64)]) -> Vec<(String, u64)> {
    list.iter().map(|(id, n)| ((*id).to_owned(), *n)).collect()
}

#[test]
fn worked_example_without_cleanup() {
    let text = serde_json::to_vec(&worked_example()).unwrap();
    let split = split_json(&text, false).unwrap();
    assert_eq!(
        sent(&split),
        pairs(&[
            ("marking-definition--m", 1),
            ("identity--a", 2),
            ("ipv4-addr--o", 2),
            ("indicator--i", 4),
            ("relationship--rel2", 5),
            ("relationship--rel1", 9),
            ("report--r", 19),
        ])
    );
    assert_eq!(split.expectations(), 7);
    assert_eq!(split.dropped, vec!["x-custom-thing--c".to_owned()]);
    assert_eq!(
        split.bundle_id,
        "bundle--00000000-0000-4000-8000-000000000001"
    );

    let SplitObject::Json(report) = &split.items[6].object else {
        panic!("json expected")
    };
    assert_eq!(
        report.get("object_refs").unwrap().as_array().unwrap().len(),
        4
    );
    assert_eq!(report.get("nb_deps"), Some(&json!(19)));
    assert_eq!(report.entries().last().unwrap().0, "nb_deps");
}

#[test]
fn worked_example_with_cleanup() {
    let text = serde_json::to_vec(&worked_example()).unwrap();
    let split = split_json(&text, true).unwrap();
    assert_eq!(
        sent(&split),
        pairs(&[
            ("marking-definition--m", 1),
            ("identity--a", 2),
            ("ipv4-addr--o", 2),
            ("indicator--i", 4),
            ("relationship--rel1", 9),
            ("report--r", 19),
        ])
    );
    assert_eq!(split.expectations(), 6);
    let mut dropped = split.dropped.clone();
    dropped.sort();
    assert_eq!(dropped, ["relationship--rel2", "x-custom-thing--c"]);

    let SplitObject::Json(report) = &split.items[5].object else {
        panic!("json expected")
    };
    assert_eq!(
        report.get("object_refs"),
        Some(&json!([
            "indicator--i",
            "ipv4-addr--o",
            "relationship--rel1"
        ]))
    );
    let SplitObject::Json(indicator) = &split.items[3].object else {
        panic!("json expected")
    };
    assert_eq!(
        indicator
            .get("external_references")
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn a_bundle_without_id_gets_one_and_duplicates_keep_the_last_copy() {
    let text = br#"{"objects": [
        {"type": "identity", "id": "identity--a", "name": "first"},
        {"type": "identity", "id": "identity--a", "name": "last"}]}"#;
    let split = split_json(text, true).unwrap();
    assert!(split.bundle_id.starts_with("bundle--"));
    assert_eq!(split.items.len(), 1);
    let SplitObject::Json(object) = &split.items[0].object else {
        panic!("json expected")
    };
    assert_eq!(object.get("name"), Some(&json!("last")));
}

#[test]
fn cycles_are_cut() {
    let text = br#"{"id": "bundle--x", "objects": [
        {"type": "note", "id": "note--a", "object_refs": ["note--b"]},
        {"type": "note", "id": "note--b", "object_refs": ["note--a", "note--b"]}]}"#;
    let split = split_json(text, true).unwrap();
    assert_eq!(sent(&split), pairs(&[("note--b", 1), ("note--a", 2)]));
    let SplitObject::Json(b) = &split.items[0].object else {
        panic!("json expected")
    };
    assert_eq!(b.get("object_refs"), Some(&json!([])));
}

#[test]
fn malformed_bundles_are_errors() {
    assert!(matches!(
        split_json(b"{}", true),
        Err(SplitError::NoObjects)
    ));
    assert!(matches!(split_json(b"[", true), Err(SplitError::Json(_))));
    assert!(matches!(
        split_json(br#"{"objects": [{"type": "x"}]}"#, true),
        Err(SplitError::NoId { index: 0 })
    ));
}

mod typed {
    use super::*;
    use crate::stix::{
        Identity, Indicator, MainObservableType, Observable, ObservableValue, Relationship, Report,
        Tlp,
    };

    fn now() -> jiff::Timestamp {
        "2024-01-01T00:00:00Z".parse().unwrap()
    }

    fn indicator(value: &ObservableValue, author: &str, marking: &str) -> Indicator {
        Indicator {
            spec_version: Default::default(),
            id: crate::stix::ids::indicator(&value.pattern()),
            created_by_ref: Some(author.to_owned()),
            created: now(),
            modified: now(),
            name: value.text().to_owned(),
            description: None,
            pattern: value.pattern(),
            pattern_type: "stix",
            pattern_version: "2.1",
            valid_from: now(),
            labels: vec![],
            confidence: None,
            object_marking_refs: vec![marking.to_owned()],
            x_opencti_main_observable_type: Some(MainObservableType::Ipv4),
            x_opencti_score: None,
        }
    }

    fn relationship(kind: &'static str, source: &str, target: &str, author: &str) -> Relationship {
        Relationship {
            spec_version: Default::default(),
            id: crate::stix::ids::relationship(kind, source, target, None),
            created_by_ref: Some(author.to_owned()),
            created: now(),
            modified: now(),
            relationship_type: kind,
            source_ref: source.to_owned(),
            target_ref: target.to_owned(),
            start_time: None,
            confidence: None,
            object_marking_refs: vec![],
        }
    }

    fn report(author: &str, marking: &str, refs: Vec<String>) -> Report {
        Report {
            spec_version: Default::default(),
            id: crate::stix::ids::report("R", "2024-01-01T00:00:00.000Z"),
            created_by_ref: Some(author.to_owned()),
            created: now(),
            modified: now(),
            name: "R".into(),
            description: None,
            report_types: vec!["threat-report".into()],
            published: now(),
            object_refs: refs,
            labels: vec![],
            confidence: None,
            object_marking_refs: vec![marking.to_owned()],
            x_opencti_files: vec![],
            x_opencti_report_status: None,
            x_opencti_workflow_id: None,
        }
    }

    #[test]
    fn typed_and_json_paths_agree() {
        let author = Identity::organization("Example", now());
        let marking = Tlp::Amber.marking_definition();
        let value = ObservableValue::Ipv4("192.0.2.7".into());
        let observable = Observable {
            id: value.id(),
            value: value.clone(),
            object_marking_refs: vec![marking.id.to_owned()],
            x_opencti_created_by_ref: Some(author.id.clone()),
            x_opencti_description: None,
            x_opencti_labels: vec![],
            x_opencti_score: None,
        };
        let indicator = indicator(&value, &author.id, marking.id);
        let based_on = relationship("based-on", &indicator.id, &observable.id, &author.id);
        let refs = vec![
            indicator.id.clone(),
            observable.id.clone(),
            based_on.id.clone(),
        ];
        let report = report(&author.id, marking.id, refs);

        let mut bundle = Bundle::derived("split-test");
        bundle.push(report);
        bundle.push(based_on);
        bundle.push(indicator);
        bundle.push(observable);
        bundle.push(author);
        bundle.push(marking);

        let typed = split_bundle(&bundle);
        assert!(
            typed
                .items
                .iter()
                .all(|i| matches!(i.object, SplitObject::Typed(_)))
        );
        let text = serde_json::to_vec(&bundle).unwrap();
        let generic = split_json(&text, true).unwrap();
        assert_eq!(sent(&typed), sent(&generic));
        assert_eq!(typed.expectations(), 6);
        assert_eq!(typed.items.last().unwrap().nb_deps, 1 + 1 + 4 + 3 + 8);
    }

    #[test]
    fn a_missing_reference_is_removed_from_a_copy() {
        let author = Identity::organization("Example", now());
        let marking = Tlp::Green.marking_definition();
        let missing = "indicator--00000000-0000-5000-8000-000000000000".to_owned();
        let dangling = relationship("indicates", &missing, &author.id, &author.id);
        let report = report(&author.id, marking.id, vec![author.id.clone(), missing]);

        let mut bundle = Bundle::derived("split-test-missing");
        bundle.push(author);
        bundle.push(marking);
        bundle.push(dangling);
        bundle.push(report);

        let split = split_bundle(&bundle);
        assert_eq!(split.expectations(), 3);
        assert_eq!(split.dropped.len(), 1);
        assert!(split.dropped[0].starts_with("relationship--"));
        let SplitObject::Json(report) = &split.items[2].object else {
            panic!("json expected")
        };
        assert_eq!(
            report.get("object_refs").unwrap().as_array().unwrap().len(),
            1
        );
        assert_eq!(report.get("nb_deps"), Some(&json!(4)));
    }
}
