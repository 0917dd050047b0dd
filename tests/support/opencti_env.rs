//! Shared pieces of the OpenCTI tests: the broker, test bundles, reading the push queue.

#![allow(dead_code)]

use std::time::Duration;

use connector_kaspersky::stix::{
    Bundle, Identity, Indicator, MainObservableType, Observable, ObservableValue, Relationship,
    Report, Tlp, ids,
};
use lapin::options::{BasicGetOptions, QueueDeleteOptions};
use lapin::{Connection, ConnectionProperties};

/// `AMQP_URL`, default the local RabbitMQ as guest.
pub fn amqp_url() -> String {
    std::env::var("AMQP_URL").unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into())
}

/// A connection to the test broker, or `None` (after saying "skipped: no broker") when it
/// is unreachable. Under `CI=true` an unreachable broker fails the test.
pub async fn broker() -> Option<Connection> {
    match Connection::connect(&amqp_url(), ConnectionProperties::default()).await {
        Ok(connection) => Some(connection),
        Err(error) => {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("the broker at AMQP_URL is unreachable under CI: {error}");
            }
            eprintln!("skipped: no broker ({error})");
            None
        }
    }
}

/// Host and port of `AMQP_URL`.
pub fn broker_address() -> (String, u16) {
    let uri: lapin::uri::AMQPUri = amqp_url().parse().expect("AMQP_URL parses");
    (uri.authority.host, uri.authority.port)
}

/// A prefix unique to this test process and name, for queue names.
pub fn prefix(test: &str) -> String {
    format!("test-{}-{test}-", std::process::id())
}

/// Reads up to `count` messages from `queue` (acknowledging them), waiting up to `wait`.
pub async fn drain(
    connection: &Connection,
    queue: &str,
    count: usize,
    wait: Duration,
) -> Vec<lapin::message::BasicGetMessage> {
    let channel = connection.create_channel().await.expect("channel");
    let mut out = Vec::new();
    let deadline = tokio::time::Instant::now() + wait;
    while out.len() < count && tokio::time::Instant::now() < deadline {
        match channel
            .basic_get(queue.into(), BasicGetOptions { no_ack: true })
            .await
            .expect("basic_get")
        {
            Some(message) => out.push(message),
            None => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
    out
}

/// Deletes a test queue.
pub async fn delete_queue(connection: &Connection, queue: &str) {
    let channel = connection.create_channel().await.expect("channel");
    let _ = channel
        .queue_delete(queue.into(), QueueDeleteOptions::default())
        .await;
}

fn now() -> jiff::Timestamp {
    "2026-01-15T10:00:00Z".parse().expect("timestamp")
}

/// A bundle like a publication's: an author, a TLP marking, `n` IPv4 observables with
/// their indicators and `based-on` relationships, and a report over all of them.
pub fn sample_bundle(key: &str, n: usize) -> Bundle {
    let author = Identity::organization("Example Intel", now());
    let marking = Tlp::Amber.marking_definition();
    let mut bundle = Bundle::derived(key);
    let mut refs = Vec::new();
    let mut rest: Vec<connector_kaspersky::stix::StixObject> = Vec::new();
    for i in 0..n {
        let value = ObservableValue::Ipv4(format!("198.51.{}.{}", i / 250, i % 250 + 1));
        let observable = Observable {
            id: value.id(),
            value: value.clone(),
            object_marking_refs: vec![marking.id.to_owned()],
            x_opencti_created_by_ref: Some(author.id.clone()),
            x_opencti_description: None,
            x_opencti_labels: vec![],
            x_opencti_score: Some(50),
        };
        let pattern = value.pattern();
        let indicator = Indicator {
            spec_version: Default::default(),
            id: ids::indicator(&pattern),
            created_by_ref: Some(author.id.clone()),
            created: now(),
            modified: now(),
            name: value.text().to_owned(),
            description: None,
            pattern,
            pattern_type: "stix",
            pattern_version: "2.1",
            valid_from: now(),
            labels: vec![],
            confidence: None,
            object_marking_refs: vec![marking.id.to_owned()],
            x_opencti_main_observable_type: Some(MainObservableType::Ipv4),
            x_opencti_score: Some(50),
        };
        let relationship = Relationship {
            spec_version: Default::default(),
            id: ids::relationship("based-on", &indicator.id, &observable.id, None),
            created_by_ref: Some(author.id.clone()),
            created: now(),
            modified: now(),
            relationship_type: "based-on",
            source_ref: indicator.id.clone(),
            target_ref: observable.id.clone(),
            start_time: None,
            confidence: None,
            object_marking_refs: vec![marking.id.to_owned()],
        };
        refs.extend([
            observable.id.clone(),
            indicator.id.clone(),
            relationship.id.clone(),
        ]);
        rest.extend([observable.into(), indicator.into(), relationship.into()]);
    }
    let report = Report {
        spec_version: Default::default(),
        id: ids::report("Sample publication", "2026-01-15T10:00:00.000Z"),
        created_by_ref: Some(author.id.clone()),
        created: now(),
        modified: now(),
        name: "Sample publication".into(),
        description: Some("Fictional test data".into()),
        report_types: vec!["threat-report".into()],
        published: now(),
        object_refs: refs,
        labels: vec![],
        confidence: None,
        object_marking_refs: vec![marking.id.to_owned()],
        x_opencti_files: vec![],
        x_opencti_report_status: None,
        x_opencti_workflow_id: None,
    };
    bundle.push(author);
    bundle.push(marking);
    for object in rest {
        bundle.push(object);
    }
    bundle.push(report);
    bundle
}
