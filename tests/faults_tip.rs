//! Issue 6, TIP faults during a run-and-terminate run: bursts of 503 and 429, a burst
//! longer than the retry budget, and a storm of timeouts. After the faults clear, every
//! object of the world is delivered and the state is the clean run's.

#[path = "support/ocfixture.rs"]
mod ocfixture;
#[path = "support/opencti_env.rs"]
mod opencti_env;
#[path = "support/proxy.rs"]
mod proxy;

use std::collections::BTreeSet;

use connector_kaspersky::simulator::tip::{FaultSpec, SimulatorOptions};
use connector_kaspersky::tip::Endpoint;
use ocfixture::{Fixture, Reference, Setup};
use serde_json::Value;

fn faults(specs: &[&str]) -> SimulatorOptions {
    SimulatorOptions {
        faults: specs
            .iter()
            .map(|s| s.parse::<FaultSpec>().expect("a fault spec"))
            .collect(),
        ..SimulatorOptions::default()
    }
}

async fn start(test: &str, simulator: SimulatorOptions) -> Option<(Reference, Fixture)> {
    let reference = Reference::default_world().await?;
    let setup = Setup {
        simulator,
        ..Setup::default()
    };
    let fixture = Fixture::start_with(test, setup).await?;
    Some((reference, fixture))
}

/// Short bursts on every endpoint, within `KASPERSKY_MAX_RETRIES=3`: 503s with backoff,
/// 429s and 503s with `Retry-After`. The run succeeds at once and each retry shows in the
/// simulator's counters.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bursts_of_503_and_429_are_retried_within_the_run() {
    let simulator = faults(&[
        "get_list:503*2",
        "get_one:429;retry-after=0*3",
        "get_master_ioc:503;retry-after=0*2",
        "get_master_yara:429;retry-after=1*1",
    ]);
    let Some((reference, fixture)) = start("bursts", simulator).await else {
        return;
    };

    let output = fixture.run(&[]).await;
    output.assert_success();
    assert_eq!(fixture.tip.faults().pending(), 0);
    let requests = |e| fixture.tip.requests(e);
    assert_eq!(
        requests(Endpoint::GetList),
        reference.requests(Endpoint::GetList) + 2
    );
    assert_eq!(
        requests(Endpoint::GetOne),
        reference.requests(Endpoint::GetOne) + 3
    );
    let ioc = Endpoint::GetMasterIoc;
    assert_eq!(requests(ioc), reference.requests(ioc) + 2);
    let yara = Endpoint::GetMasterYara;
    assert_eq!(requests(yara), reference.requests(yara) + 1);

    let messages = fixture.drain().await;
    reference.assert_all_delivered(&ocfixture::object_ids(&messages));
    reference.assert_same_state(&fixture.state().expect("a state"));
    let works = fixture.stand_in().works();
    assert_eq!(works[0].processed.as_ref().map(|p| p.1), Some(false));
}

/// A burst longer than the retries: the first publication and the Master YARA file fail,
/// the run closes its work in error and exits non-zero, the cursor stays before the
/// failed publication, and the next run fetches only what failed and completes the world.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_beyond_the_retries_fails_the_item_and_the_next_run_delivers_it() {
    let simulator = faults(&[
        "get_one:503;retry-after=0*4",
        "get_master_yara:429;retry-after=0*4",
    ]);
    let Some((reference, fixture)) = start("beyond", simulator).await else {
        return;
    };
    let failed = fixture.fetched_publications()[0].clone();

    // First run: two items fail.
    let output = fixture.run(&[]).await;
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        ocfixture::tail(&output.stderr)
    );
    assert!(
        output
            .stderr
            .contains(&format!("failed: publication: publication {}", failed.id))
    );
    let works = fixture.stand_in().works();
    let (message, in_error) = works[0].processed.clone().expect("the work is closed");
    assert!(in_error, "{message}");
    assert!(message.contains(&failed.id), "{message}");
    assert!(message.contains("Master YARA"), "{message}");

    let state = fixture.state().expect("a state");
    let cursor = state["latest_publication_timestamp"]
        .as_i64()
        .expect("a cursor");
    assert!(
        cursor < failed.updated,
        "the cursor passed the failed publication"
    );
    let ahead: BTreeSet<&str> = state["kaspersky_publications_delivered_ahead"]
        .as_array()
        .expect("the publications delivered beyond the cursor")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let after: BTreeSet<&str> = fixture
        .publications
        .iter()
        .filter(|p| p.updated > failed.updated)
        .map(|p| p.id.as_str())
        .collect();
    assert_eq!(
        ahead, after,
        "every later publication is remembered as delivered"
    );
    assert!(!state.contains_key("latest_master_yara_timestamp"));
    assert!(state.contains_key("latest_master_ioc_timestamp"));

    // Second run: only the failed publication is fetched again; the world is complete.
    let get_one = fixture.tip.requests(Endpoint::GetOne);
    fixture.run(&[]).await.assert_success();
    assert_eq!(fixture.tip.requests(Endpoint::GetOne), get_one + 1);
    let messages = fixture.drain().await;
    reference.assert_all_delivered(&ocfixture::object_ids(&messages));
    reference.assert_same_state(&fixture.state().expect("a state"));
}

/// Several `get_one` answers slower than `KASPERSKY_READ_TIMEOUT_SEC=1`, then normal
/// ones: each timeout is retried and the run delivers everything.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timeout_storm_is_ridden_out() {
    let simulator = faults(&["get_one:delay=2500ms*3"]);
    let Some((reference, fixture)) = start("timeouts", simulator).await else {
        return;
    };

    let output = fixture.run(&[("KASPERSKY_READ_TIMEOUT_SEC", "1")]).await;
    output.assert_success();
    assert_eq!(
        fixture.tip.requests(Endpoint::GetOne),
        reference.requests(Endpoint::GetOne) + 3
    );
    let messages = fixture.drain().await;
    reference.assert_all_delivered(&ocfixture::object_ids(&messages));
    reference.assert_same_state(&fixture.state().expect("a state"));
}
