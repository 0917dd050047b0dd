//! The service as an operator runs it: stopped with SIGTERM in the middle of a run, and
//! delivering through the GraphQL API instead of RabbitMQ (issue #4).

#[path = "support/ocfixture.rs"]
mod ocfixture;
#[path = "support/opencti_env.rs"]
mod opencti_env;
#[path = "support/proxy.rs"]
mod proxy;

use std::time::Duration;

use connector_kaspersky::simulator::tip::Fault;
use connector_kaspersky::tip::Endpoint;
use ocfixture::{Fixture, PYTHON_KEYS};

/// SIGTERM during a run: the service stops between bundles, exits 0, and the state it
/// stored covers exactly what was confirmed; the next run delivers the rest.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_between_bundles_and_keeps_the_confirmed_state() {
    let Some(fixture) = Fixture::start("sigterm").await else {
        return;
    };
    // Slow publications leave time to stop the service in the middle of the scope.
    for _ in 0..fixture.publications.len() {
        fixture
            .tip
            .inject(Endpoint::GetOne, Fault::Delay(Duration::from_millis(400)));
    }
    let mut running = fixture.spawn(&[("CONNECTOR_RUN_AND_TERMINATE", "false")]);
    assert!(
        running
            .wait_for_log("Publication delivered", Duration::from_secs(30))
            .await,
        "{}",
        running.stderr()
    );
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &running.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let output = running.wait(Duration::from_secs(30)).await;
    output.assert_success();

    // What reached the queue is what the state says was delivered, and no more.
    let first = fixture.drain().await;
    let state = fixture.state().expect("a state was stored");
    let cursor = state["latest_publication_timestamp"]
        .as_i64()
        .expect("a cursor");
    let fetched = fixture.fetched_publications();
    let delivered: Vec<_> = fetched.iter().filter(|p| p.updated <= cursor).collect();
    assert!(
        !delivered.is_empty() && delivered.len() < fetched.len(),
        "stopped mid-scope"
    );
    let reports: Vec<_> = first
        .iter()
        .filter(|m| m.object()["type"] == "report")
        .collect();
    assert_eq!(
        reports.len(),
        delivered.len(),
        "one report per delivered publication"
    );

    // The next run fetches only the publications after the cursor.
    let before = fixture.tip.counts().get(Endpoint::GetOne);
    fixture.run(&[]).await.assert_success();
    let after = fixture.tip.counts().get(Endpoint::GetOne);
    assert_eq!((after - before) as usize, fetched.len() - delivered.len());
    let state = fixture.state().unwrap();
    for key in PYTHON_KEYS {
        assert!(state.contains_key(key), "{key}");
    }
}

/// `CONNECTOR_QUEUE_PROTOCOL=api`: whole bundles through `stixBundlePush`, nothing on the
/// queue, no expectations from the connector (the platform splits and counts).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_protocol_pushes_whole_bundles() {
    let Some(fixture) = Fixture::start("api-protocol").await else {
        return;
    };
    fixture
        .run(&[("CONNECTOR_QUEUE_PROTOCOL", "api")])
        .await
        .assert_success();
    let pushed = fixture.stand_in().pushed_bundles();
    assert!(!pushed.is_empty());
    for text in &pushed {
        let bundle: serde_json::Value = serde_json::from_str(text).unwrap();
        assert_eq!(bundle["type"], "bundle");
        assert!(
            bundle["objects"].as_array().unwrap().len() > 1,
            "unsplit bundles"
        );
    }
    let operations = fixture.stand_in().operations();
    assert!(
        !operations.iter().any(|op| op == "addExpectations"),
        "{operations:?}"
    );
    assert_eq!(fixture.queue_depth().await, 0, "nothing on the queue");
}

/// A state time in OpenCTI that cannot be read stops the run with the key and the value
/// named, and the state there is left for the user to fix; read as "no value" it would
/// re-import every publication.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_state_time_in_opencti_that_is_not_a_time_stops_the_run() {
    let Some(fixture) = Fixture::start("bad-state").await else {
        return;
    };
    let state = r#"{"latest_publication_timestamp": "abc", "latest_run_timestamp": 1700000000}"#;
    fixture
        .stand_in()
        .set_connector_state(&fixture.connector_id, Some(state));

    let output = fixture.run(&[]).await;
    assert_eq!(output.status.code(), Some(1), "{}", output.stderr);
    let named = r#"latest_publication_timestamp holds "abc""#;
    assert!(output.stderr.contains(named), "{}", output.stderr);
    assert_eq!(
        fixture.tip.counts().get(Endpoint::GetList),
        0,
        "nothing fetched"
    );
    assert!(fixture.drain().await.is_empty(), "nothing delivered");
    let kept = fixture.state().expect("the state is still there");
    assert_eq!(kept["latest_publication_timestamp"], "abc");
}
