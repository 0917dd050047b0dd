//! `connector-kaspersky run` in run-and-terminate mode, end to end: the TIP simulator,
//! the OpenCTI stand-in and the real RabbitMQ broker. Every message of the push queue is
//! read back and checked against the wire contract (reference/opencti-protocol.md §7.3 to
//! §7.5), the operations the stand-in received against appendices B and C, and a second
//! run resumes from the stored state.

#[path = "support/ocfixture.rs"]
mod ocfixture;
#[path = "support/opencti_env.rs"]
mod opencti_env;
#[path = "support/proxy.rs"]
mod proxy;

use std::collections::BTreeMap;

use connector_kaspersky::opencti::split::JsonObject;
use connector_kaspersky::simulator::tip::World;
use connector_kaspersky::tip::Endpoint;
use ocfixture::{Fixture, PYTHON_KEYS, QueueMessage, RunOutput, Setup};
use serde_json::{Value, json};

/// The message body's keys, in pycti's order (§7.5).
const BODY_KEYS: [&str; 9] = [
    "bundle_type",
    "applicant_id",
    "action_sequence",
    "entities_types",
    "content",
    "update",
    "draft_id",
    "no_split",
    "work_id",
];

/// The default generated world: a run delivers everything as pycti would, and a second
/// run resumes without fetching a publication again or sending anything.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_delivers_the_generated_world_and_a_second_run_resumes() {
    let Some(fixture) = Fixture::start("delivery").await else {
        return;
    };
    full_run_then_resume(&fixture).await;
}

/// The same with the shared TIP-format samples (skipped without ../shared).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_delivers_the_shared_samples_and_a_second_run_resumes() {
    let Some(dir) = connector_kaspersky::testdata::shared("samples/decoded") else {
        return;
    };
    let setup = Setup {
        world: World::load(&dir).expect("the samples load"),
        ..Setup::default()
    };
    let Some(fixture) = Fixture::start_with("samples", setup).await else {
        return;
    };
    full_run_then_resume(&fixture).await;
}

/// pycti's splitter writes `nb_deps` into every object, but the OASIS validator refuses a
/// TLP marking that differs in any way from the specification's: ours leave TLP markings
/// as STIX defines them (the bundle's `x_opencti_seq` still carries the weight).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn split_tlp_markings_pass_the_oasis_validator() {
    let Some(fixture) = Fixture::start("tlp").await else {
        return;
    };
    fixture.run(&[]).await.assert_success();
    let messages = fixture.drain().await;
    let markings: Vec<&[u8]> = messages
        .iter()
        .filter(|m| is_tlp_marking(m.object()))
        .map(|m| m.content.as_slice())
        .collect();
    assert!(!markings.is_empty());
    ocfixture::validate_with_oasis(&markings);
}

async fn full_run_then_resume(fixture: &Fixture) {
    // First run: everything.
    let output = fixture.run(&[]).await;
    output.assert_success();
    let messages = fixture.drain().await;
    assert!(!messages.is_empty(), "nothing reached the queue");
    let works = fixture.stand_in().works();
    assert_eq!(works.len(), 1, "one work per run: {works:?}");
    let work = &works[0];

    let expectations = expectations_sent(fixture);
    check_messages(fixture, &messages, &work.id, &expectations);
    assert_eq!(
        expectations.iter().sum::<u64>(),
        messages.len() as u64,
        "the expectations added must equal the messages"
    );
    assert_eq!(work.expectations, messages.len() as u64);
    assert_eq!(work.expectation_calls, expectations.len());
    assert_eq!(
        work.processed,
        Some(("State stored, next run in: 43200 seconds".into(), false))
    );
    assert!(work.name.starts_with("Kaspersky @ "), "{}", work.name);

    check_operations(fixture, &output, expectations.len());
    check_state_pings(fixture);
    validate_bundles(&messages);

    let state = fixture.state().expect("a state was stored");
    for key in PYTHON_KEYS {
        assert!(
            state.get(key).is_some_and(Value::is_i64),
            "{key}: {state:?}"
        );
    }
    let newest = fixture.publications.iter().map(|p| p.updated).max();
    assert_eq!(
        state["latest_publication_timestamp"].as_i64(),
        newest,
        "the cursor is at the newest publication"
    );

    // Second run: resumes, fetches no publication, sends nothing new.
    let get_one = fixture.tip.requests(Endpoint::GetOne);
    let operations = fixture.stand_in().operations().len();
    fixture.run(&[]).await.assert_success();
    assert_eq!(
        fixture.tip.requests(Endpoint::GetOne),
        get_one,
        "the second run fetched a publication again"
    );
    let again = fixture.drain().await;
    assert!(
        again.is_empty(),
        "the second run sent {} messages",
        again.len()
    );
    let second: Vec<String> = fixture.stand_in().operations()[operations..].to_vec();
    assert!(
        !second.contains(&"addExpectations".to_owned()),
        "{second:?}"
    );
    let works = fixture.stand_in().works();
    assert_eq!(works.len(), 2);
    assert_eq!(works[1].expectations, 0);
    assert_eq!(works[1].processed.as_ref().map(|p| p.1), Some(false));
    let resumed = fixture.state().expect("a state after the second run");
    assert_eq!(
        resumed["latest_publication_timestamp"],
        state["latest_publication_timestamp"]
    );
    assert_eq!(
        resumed["kaspersky_master_ioc_groups"],
        state["kaspersky_master_ioc_groups"]
    );
    assert_eq!(
        resumed["kaspersky_master_yara_groups"],
        state["kaspersky_master_yara_groups"]
    );
}

/// The `expectations` of every `addExpectations`, in order.
fn expectations_sent(fixture: &Fixture) -> Vec<u64> {
    fixture
        .stand_in()
        .requests()
        .iter()
        .filter(|r| r.operation == "addExpectations")
        .map(|r| r.variables["expectations"].as_u64().expect("a count"))
        .collect()
}

/// Every message as §7.5 has it, grouped by bundle: the groups follow the
/// `addExpectations` counts in order, and `action_sequence` counts 1, 2, 3… in each.
fn check_messages(fixture: &Fixture, messages: &[QueueMessage], work_id: &str, sizes: &[u64]) {
    let applicant =
        uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, fixture.connector_id.as_bytes()).to_string();
    let mut start = 0;
    for (bundle, size) in sizes.iter().enumerate() {
        let group = &messages[start..start + *size as usize];
        start += *size as usize;
        let bundle_id = group[0].bundle["id"].clone();
        let mut previous_seq = 0;
        for (index, message) in group.iter().enumerate() {
            let context = format!("bundle {bundle}, message {}", index + 1);
            assert_eq!(message.delivery_mode, Some(2), "{context}");
            assert_eq!(message.content_encoding.as_deref(), Some("utf-8"));
            assert_eq!(message.content_type, None);

            let keys: Vec<&str> = message
                .body
                .entries()
                .iter()
                .map(|(k, _)| k.as_str())
                .collect();
            assert_eq!(keys, BODY_KEYS, "{context}");
            let body = |key: &str| message.body.get(key).cloned().unwrap_or(Value::Null);
            assert_eq!(body("bundle_type"), "QUEUE_BUNDLE");
            assert_eq!(body("applicant_id"), applicant.as_str());
            assert_eq!(body("action_sequence"), json!(index + 1), "{context}");
            assert_eq!(body("entities_types"), json!([]));
            assert_eq!(body("update"), json!(false));
            assert_eq!(body("draft_id"), Value::Null);
            assert_eq!(body("no_split"), json!(false));
            assert_eq!(body("work_id"), work_id);

            let inner: JsonObject = serde_json::from_slice(&message.content).expect("JSON");
            let keys: Vec<&str> = inner.entries().iter().map(|(k, _)| k.as_str()).collect();
            assert_eq!(
                keys,
                ["type", "id", "spec_version", "x_opencti_seq", "objects"],
                "{context}"
            );
            assert_eq!(message.bundle["type"], "bundle");
            assert_eq!(message.bundle["spec_version"], "2.1");
            assert_eq!(
                message.bundle["id"], bundle_id,
                "{context}: one id per split"
            );
            let objects = message.bundle["objects"].as_array().expect("objects");
            assert_eq!(objects.len(), 1, "{context}: one object per message");
            let seq = message.bundle["x_opencti_seq"]
                .as_u64()
                .expect("x_opencti_seq");
            if is_tlp_marking(&objects[0]) {
                assert!(
                    objects[0].get("nb_deps").is_none(),
                    "{context}: TLP kept as STIX has it"
                );
            } else {
                assert_eq!(objects[0]["nb_deps"], json!(seq), "{context}");
            }
            assert!(seq >= previous_seq, "{context}: sorted by nb_deps");
            previous_seq = seq;
        }
    }
    assert_eq!(start, messages.len(), "messages beyond the expectations");
}

/// The operation log, checked against the order this product sends in run-and-terminate
/// mode (appendix B, with the look-ups of appendix C and a state ping after each scope).
fn check_operations(fixture: &Fixture, output: &RunOutput, bundles: usize) {
    let requests = fixture.stand_in().requests();
    let rejected: Vec<_> = requests.iter().filter(|r| r.rejected.is_some()).collect();
    assert!(rejected.is_empty(), "the stand-in refused: {rejected:?}");

    // Bundles per scope, from the run's own summary lines.
    let delivered: BTreeMap<String, usize> = output
        .log_lines()
        .iter()
        .filter(|l| l["message"] == "Scope finished")
        .map(|l| {
            let a = &l["attributes"];
            (
                a["scope"].as_str().unwrap_or_default().to_owned(),
                a["delivered"].as_u64().unwrap_or_default() as usize,
            )
        })
        .collect();
    let count = |scope: &str| {
        delivered
            .get(scope)
            .copied()
            .unwrap_or_else(|| panic!("{scope}"))
    };
    assert_eq!(
        count("publication") + count("master_ioc") + count("master_yara"),
        bundles
    );

    let mut expected: Vec<String> = Vec::new();
    let mut push = |op: &str, n: usize| expected.extend(std::iter::repeat_n(op.to_owned(), n));
    push("healthCheck", 2);
    push("RegisterConnector", 1);
    push("SubTypeStatuses", 1);
    push("GetConnector", 1);
    push("Locations", 1);
    push("workAdd", 1);
    push("addExpectations", count("publication"));
    push("PingConnector", 1);
    push("addExpectations", count("master_ioc"));
    push("PingConnector", 1);
    push("Indicators", 1);
    push("addExpectations", count("master_yara"));
    push("PingConnector", 2);
    push("workToProcessed", 1);
    push("PingConnector", 1);
    assert_eq!(fixture.stand_in().operations(), expected);
}

/// The pings carry the state as it grows scope by scope, in Python's JSON style, and the
/// last one (after the work is closed) the time of the run.
fn check_state_pings(fixture: &Fixture) {
    let pings: Vec<Value> = fixture
        .stand_in()
        .requests()
        .into_iter()
        .filter(|r| r.operation == "PingConnector")
        .map(|r| r.variables)
        .collect();
    assert_eq!(pings.len(), 5);
    let keys = |ping: &Value| -> Vec<String> {
        let text = ping["state"].as_str().expect("state is a string");
        assert!(text.contains("\": "), "Python style separators: {text}");
        let state: serde_json::Map<String, Value> = serde_json::from_str(text).expect("JSON");
        state
            .keys()
            .filter(|k| PYTHON_KEYS.contains(&k.as_str()))
            .cloned()
            .collect()
    };
    assert_eq!(keys(&pings[0]), ["latest_publication_timestamp"]);
    assert_eq!(
        keys(&pings[1]),
        [
            "latest_master_ioc_timestamp",
            "latest_publication_timestamp"
        ]
    );
    assert_eq!(keys(&pings[2]).len(), 3);
    assert_eq!(keys(&pings[3]).len(), 4);
    assert_eq!(pings[4]["state"], pings[3]["state"]);
    for ping in &pings {
        assert_eq!(ping["id"], fixture.connector_id.as_str());
        assert_eq!(ping["connectorInfo"]["run_and_terminate"], json!(true));
    }
    assert!(pings[4]["connectorInfo"]["last_run_datetime"].is_string());
}

/// Every decoded bundle through the OASIS validator, exactly as it was on the queue.
fn validate_bundles(messages: &[QueueMessage]) {
    let views: Vec<&[u8]> = messages.iter().map(|m| m.content.as_slice()).collect();
    ocfixture::validate_with_oasis(&views);
}

fn is_tlp_marking(object: &Value) -> bool {
    object["type"] == "marking-definition" && object["definition_type"] == "tlp"
}
