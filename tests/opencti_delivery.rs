//! A whole run against the OpenCTI stand-in and the real broker: register, ping, work,
//! expectations, publish, close; every message read back and checked.

#[path = "support/opencti_env.rs"]
mod opencti_env;

use std::time::Duration;

use base64::Engine;
use connector_kaspersky::opencti::split::{JsonObject, split_bundle};
use connector_kaspersky::opencti::{
    AmqpPublisher, ApiSettings, ConnectorInfo, ConnectorRegistration, OpenCtiClient, Pinger,
    PublishTarget, PublisherOptions, QueueDelivery,
};
use connector_kaspersky::simulator::opencti::{StandIn, StandInBroker, StandInConfig};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

const CONNECTOR_ID: &str = "3f7c8a8e-5d1b-4c6e-9a62-1f0e2d3c4b5a";

fn registration() -> ConnectorRegistration {
    ConnectorRegistration {
        id: CONNECTOR_ID.into(),
        name: "Kaspersky".into(),
        scope: vec!["kaspersky".into()],
    }
}

/// Register → ping → workAdd → addExpectations → publish → toProcessed, then the queue
/// holds exactly the split messages, in order, each as the protocol says.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_delivers_every_object_as_one_message() {
    let Some(broker) = opencti_env::broker().await else {
        return;
    };
    let (host, port) = opencti_env::broker_address();
    let prefix = opencti_env::prefix("run");
    let config = StandInConfig {
        prefix: prefix.clone(),
        broker: StandInBroker {
            declare_url: Some(opencti_env::amqp_url()),
            host,
            port,
            ..StandInBroker::default()
        },
        ..StandInConfig::default()
    };
    let stand_in = StandIn::start(config).await.unwrap();
    stand_in.set_connector_state(
        CONNECTOR_ID,
        Some(r#"{"latest_run_timestamp": 1700000000}"#),
    );
    let cancel = CancellationToken::new();

    let client = OpenCtiClient::new(&ApiSettings::new(stand_in.url(), stand_in.token())).unwrap();
    client
        .wait_until_reachable(&cancel, Default::default())
        .await
        .unwrap();
    let registration = client.register(&registration()).await.unwrap();
    assert_eq!(
        registration.push_routing,
        format!("{prefix}push_routing_{CONNECTOR_ID}")
    );
    let state = registration.state.clone().unwrap();
    assert_eq!(state["latest_run_timestamp"], 1_700_000_000);

    let pinger = Pinger::spawn(
        client.clone(),
        registration.connector_id.clone(),
        registration.state.clone(),
        ConnectorInfo::default(),
        Duration::from_secs(3600),
        cancel.clone(),
    );
    let target = PublishTarget {
        exchange: registration.push_exchange.clone(),
        routing_key: registration.push_routing.clone(),
    };
    let publisher = AmqpPublisher::connect(
        registration.broker.clone(),
        target,
        PublisherOptions {
            window: 16,
            ..PublisherOptions::default()
        },
        cancel.clone(),
    )
    .await
    .unwrap();
    let mut delivery =
        QueueDelivery::new(client.clone(), publisher, registration.applicant_id.clone());

    let work_id = client
        .work_add(CONNECTOR_ID, "Kaspersky @ 2026-01-15 10:00:00+00:00", false)
        .await
        .unwrap();
    let bundle = opencti_env::sample_bundle("delivery-test", 40);
    let expected = split_bundle(&bundle);
    let report = delivery.deliver(&bundle, Some(&work_id)).await.unwrap();
    assert_eq!(report.messages, bundle.len());
    assert_eq!(report.messages, expected.expectations());
    client
        .work_to_processed(&work_id, "State stored, next run in: 3600 seconds", false)
        .await
        .unwrap();

    let mut new_state = state.clone();
    new_state.insert("latest_run_timestamp".into(), 1_800_000_000.into());
    new_state.insert("note".into(), "Zürich".into());
    pinger.set_state(Some(new_state));
    pinger.ping_now().await.unwrap();
    pinger.stop().await;

    // The platform side.
    let work = stand_in.work(&work_id).unwrap();
    assert_eq!(work.expectations, report.messages as u64);
    assert_eq!(work.expectation_calls, 1);
    assert_eq!(
        work.processed,
        Some(("State stored, next run in: 3600 seconds".into(), false))
    );
    assert_eq!(
        stand_in.connector_state(CONNECTOR_ID).unwrap(),
        r#"{"latest_run_timestamp": 1800000000, "note": "Z\u00fcrich"}"#
    );
    assert!(
        stand_in.requests().iter().all(|r| r.rejected.is_none()),
        "{:?}",
        stand_in.requests()
    );
    let operations = stand_in.operations();
    assert_eq!(
        operations,
        [
            "healthCheck",
            "RegisterConnector",
            "PingConnector",
            "workAdd",
            "addExpectations",
            "workToProcessed",
            "PingConnector"
        ]
    );

    // The queue side.
    let queue = format!("{prefix}push_{CONNECTOR_ID}");
    let messages =
        opencti_env::drain(&broker, &queue, report.messages, Duration::from_secs(20)).await;
    let extra = opencti_env::drain(&broker, &queue, 1, Duration::from_millis(200)).await;
    opencti_env::delete_queue(&broker, &queue).await;
    assert_eq!(messages.len(), report.messages);
    assert!(extra.is_empty());
    for (index, message) in messages.iter().enumerate() {
        let properties = &message.delivery.properties;
        assert_eq!(properties.delivery_mode(), &Some(2));
        assert_eq!(
            properties.content_encoding().as_ref().map(|s| s.as_str()),
            Some("utf-8")
        );
        assert_eq!(properties.content_type(), &None);

        let body: JsonObject = serde_json::from_slice(&message.delivery.data).unwrap();
        let keys: Vec<&str> = body.entries().iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            [
                "bundle_type",
                "applicant_id",
                "action_sequence",
                "entities_types",
                "content",
                "update",
                "draft_id",
                "no_split",
                "work_id"
            ]
        );
        assert_eq!(body.get("bundle_type").unwrap(), "QUEUE_BUNDLE");
        assert_eq!(
            body.get("applicant_id").unwrap(),
            registration.applicant_id.as_str()
        );
        assert_eq!(
            body.get("action_sequence").unwrap(),
            &Value::from(index + 1)
        );
        assert_eq!(body.get("work_id").unwrap(), work_id.as_str());
        assert_eq!(body.get("update").unwrap(), &Value::Bool(false));
        assert_eq!(body.get("no_split").unwrap(), &Value::Bool(false));
        assert!(body.get("draft_id").unwrap().is_null());

        let content = body.get("content").unwrap().as_str().unwrap();
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(content)
            .unwrap();
        let inner: JsonObject = serde_json::from_slice(&decoded).unwrap();
        let keys: Vec<&str> = inner.entries().iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            ["type", "id", "spec_version", "x_opencti_seq", "objects"]
        );
        assert_eq!(inner.get("id").unwrap(), bundle.id());
        let objects = inner.get("objects").unwrap().as_array().unwrap();
        assert_eq!(objects.len(), 1);
        let object = &objects[0];
        let seq = inner.get("x_opencti_seq").unwrap().clone();
        assert_eq!(seq, expected.items[index].nb_deps);
        assert_eq!(object["id"], expected.items[index].object.id());
        if object["type"] == "marking-definition" && object["definition_type"] == "tlp" {
            // TLP markings stay exactly as STIX defines them (no nb_deps).
            assert!(object.get("nb_deps").is_none());
            continue;
        }
        assert_eq!(object["nb_deps"], seq);
        assert!(String::from_utf8_lossy(&decoded).ends_with(&format!(
            ", \"nb_deps\": {}}}]}}",
            expected.items[index].nb_deps
        )));
    }
    cancel.cancel();
}

/// The state survives a restart through ping; a reset in the platform is detected, the
/// local state emptied, and the next ping stores "null".
#[tokio::test]
async fn state_round_trips_and_remote_resets_are_seen() {
    let config = StandInConfig {
        broker: StandInBroker {
            declare_url: None,
            ..StandInBroker::default()
        },
        ..StandInConfig::default()
    };
    let stand_in = StandIn::start(config).await.unwrap();
    let client = OpenCtiClient::new(&ApiSettings::new(stand_in.url(), stand_in.token())).unwrap();
    let cancel = CancellationToken::new();

    let first = client.register(&registration()).await.unwrap();
    assert!(first.state.is_none());
    let pinger = Pinger::spawn(
        client.clone(),
        first.connector_id.clone(),
        None,
        ConnectorInfo::default(),
        Duration::from_secs(3600),
        cancel.clone(),
    );
    let state = serde_json::json!({"latest_publication_timestamp": 1731101916, "x": "é€😀"});
    pinger.set_state(state.as_object().cloned());
    assert_eq!(
        pinger.ping_now().await.unwrap(),
        connector_kaspersky::opencti::PingOutcome::Stored
    );
    pinger.stop().await;
    assert_eq!(
        stand_in.connector_state(CONNECTOR_ID).unwrap(),
        r#"{"latest_publication_timestamp": 1731101916, "x": "\u00e9\u20ac\ud83d\ude00"}"#
    );

    // A second run resumes the same state.
    let second = client.register(&registration()).await.unwrap();
    assert_eq!(second.state.as_ref(), state.as_object());
    let pinger = Pinger::spawn(
        client.clone(),
        second.connector_id.clone(),
        second.state.clone(),
        ConnectorInfo::default(),
        Duration::from_secs(3600),
        cancel.clone(),
    );
    let resets = pinger.resets();
    pinger.ping_now().await.unwrap();

    stand_in.reset_state(CONNECTOR_ID);
    let outcome = pinger.ping_now().await.unwrap();
    assert_eq!(
        outcome,
        connector_kaspersky::opencti::PingOutcome::RemoteReset
    );
    assert_eq!(*resets.borrow(), 1);
    assert!(pinger.state().is_none());
    assert_eq!(stand_in.connector_state(CONNECTOR_ID).as_deref(), Some(""));
    pinger.ping_now().await.unwrap();
    assert_eq!(
        stand_in.connector_state(CONNECTOR_ID).as_deref(),
        Some("null")
    );
    let pings: Vec<_> = stand_in
        .requests()
        .into_iter()
        .filter(|r| r.operation == "PingConnector")
        .collect();
    assert!(
        pings
            .iter()
            .all(|p| p.variables["connectorInfo"]["queue_threshold"] == 500.0)
    );
    pinger.stop().await;
}
