//! Issue 6, the process killed between a publish and its confirm: the test-only failpoint
//! `KASPERSKY_TEST_FAILPOINT=abort-before-confirm:N` aborts the connector right after the
//! messages of the N-th bundle are published. The state must not have moved past that
//! bundle, and a second run, without the failpoint, delivers every object of the world
//! (at least once) and stores the clean run's state.

#[path = "support/ocfixture.rs"]
mod ocfixture;
#[path = "support/opencti_env.rs"]
mod opencti_env;
#[path = "support/proxy.rs"]
mod proxy;

use std::os::unix::process::ExitStatusExt;

use connector_kaspersky::tip::Endpoint;
use ocfixture::{Fixture, Reference, RunOutput};

/// SIGABRT.
const ABORT: i32 = 6;

/// Runs with the failpoint at bundle `n` and checks the crash.
async fn crash_at(fixture: &Fixture, n: usize) -> RunOutput {
    let failpoint = format!("abort-before-confirm:{n}");
    let output = fixture
        .run(&[("KASPERSKY_TEST_FAILPOINT", failpoint.as_str())])
        .await;
    assert_eq!(
        output.status.signal(),
        Some(ABORT),
        "expected an abort: {}\n{}",
        output.status,
        ocfixture::tail(&output.stderr)
    );
    assert!(
        output
            .stderr
            .contains("aborting before the confirms of bundle")
    );
    let works = fixture.stand_in().works();
    assert_eq!(works.len(), 1);
    assert_eq!(
        works[0].processed, None,
        "a crashed run cannot close its work"
    );
    output
}

/// Runs again without the failpoint and checks that the world is complete.
async fn recover(fixture: &Fixture, reference: &Reference) {
    let output = fixture.run(&[]).await;
    output.assert_success();
    let messages = fixture.drain().await;
    reference.assert_all_delivered(&ocfixture::object_ids(&messages));
    reference.assert_same_state(&fixture.state().expect("a state"));
}

/// Killed during the third publication's bundle: no state was stored yet, so the next
/// run starts over and delivers everything.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_before_confirm_in_the_publication_scope() {
    let Some(reference) = Reference::default_world().await else {
        return;
    };
    let Some(fixture) = Fixture::start("crash-pub").await else {
        return;
    };
    crash_at(&fixture, 3).await;
    let third = fixture.fetched_publications()[2].updated;
    if let Some(state) = fixture.state() {
        let cursor = state
            .get("latest_publication_timestamp")
            .and_then(|v| v.as_i64());
        assert!(
            cursor.is_none_or(|c| c < third),
            "the state moved past an unconfirmed bundle: {state:?}"
        );
    }

    recover(&fixture, &reference).await;
}

/// Killed during the third Master IoC group's bundle: the publication scope's state was
/// stored, the Master IoC file's was not; the next run fetches no publication again and
/// completes the Master IoC groups.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_before_confirm_in_the_master_ioc_scope() {
    let Some(reference) = Reference::default_world().await else {
        return;
    };
    let Some(fixture) = Fixture::start("crash-ioc").await else {
        return;
    };
    let publications = fixture.fetched_publications().len();
    crash_at(&fixture, publications + 3).await;
    let state = fixture
        .state()
        .expect("the publication scope stored its state");
    assert_eq!(
        state.get("latest_publication_timestamp"),
        reference.state.get("latest_publication_timestamp")
    );
    assert!(
        !state.contains_key("latest_master_ioc_timestamp"),
        "the Master IoC file counts as fetched: {state:?}"
    );

    let get_one = fixture.tip.requests(Endpoint::GetOne);
    recover(&fixture, &reference).await;
    assert_eq!(fixture.tip.requests(Endpoint::GetOne), get_one);
}
