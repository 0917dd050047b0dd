//! Issue 6, OpenCTI faults: the platform down when the connector starts (it waits and
//! says so, then runs), and the platform failing during a run (the work is closed in
//! error naming what failed, the process exits non-zero, the state stays before the failed
//! item, and the next run delivers it).

#[path = "support/ocfixture.rs"]
mod ocfixture;
#[path = "support/opencti_env.rs"]
mod opencti_env;
#[path = "support/proxy.rs"]
mod proxy;

use std::time::Duration;

use connector_kaspersky::simulator::opencti::{Fault, StandInConfig};
use connector_kaspersky::tip::Endpoint;
use ocfixture::{Fixture, Reference, Setup};

/// Nothing listens at `OPENCTI_URL` when the connector starts; once it has said so, the
/// platform comes up, answering 503 once more while it "starts". The connector keeps
/// waiting through both, then runs normally.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opencti_down_at_start_is_waited_for() {
    let Some(reference) = Reference::default_world().await else {
        return;
    };
    let defaults = Setup::default();
    let setup = Setup {
        late_stand_in: true,
        stand_in: StandInConfig {
            fail_first: 1,
            ..defaults.stand_in
        },
        ..defaults
    };
    let Some(mut fixture) = Fixture::start_with("down", setup).await else {
        return;
    };

    // A port with nobody behind it, for now.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let address = listener.local_addr().expect("an address");
    drop(listener);
    let url = format!("http://{address}");
    let mut command = fixture.command(&[]);
    command.env("OPENCTI_URL", &url);
    let mut running = fixture.spawn_command(command);

    let waiting = running
        .wait_for_log("opencti not reachable, retrying", Duration::from_secs(20))
        .await;
    assert!(waiting, "no waiting message:\n{}", running.stderr());
    assert!(
        !running.has_exited(),
        "the connector gave up:\n{}",
        running.stderr()
    );
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .expect("the port is still free");
    fixture.start_stand_in_on(listener);

    let output = running.wait(ocfixture::RUN_LIMIT).await;
    output.assert_success();
    let waits: Vec<_> = output
        .log_lines()
        .into_iter()
        .filter(|l| l["message"] == "opencti not reachable, retrying")
        .collect();
    assert!(waits.len() >= 2, "{waits:?}");
    assert!(
        waits
            .iter()
            .any(|l| l["attributes"]["error"].to_string().contains("503")),
        "the 503 of a starting platform was not waited for: {waits:?}"
    );
    let operations = fixture.stand_in().operations();
    assert_eq!(
        operations[..3],
        ["healthCheck", "healthCheck", "RegisterConnector"]
    );

    let messages = fixture.drain().await;
    reference.assert_all_delivered(&ocfixture::object_ids(&messages));
    reference.assert_same_state(&fixture.state().expect("a state"));
}

/// `addExpectations` fails for the first bundle (the first publication): the rest of the
/// run goes on, the work is closed with `inError` and a message naming the publication
/// and the operation, the process exits 1, the cursor stays before that publication; the
/// next run fetches only it and completes the world.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opencti_failing_during_a_run_is_reported_and_retried() {
    let Some(reference) = Reference::default_world().await else {
        return;
    };
    let Some(fixture) = Fixture::start("failing").await else {
        return;
    };
    let failed = fixture.fetched_publications()[0].clone();
    fixture.stand_in().inject(
        Some("addExpectations"),
        1,
        Fault::Graphql("INTERNAL_SERVER_ERROR".into()),
    );

    // First run: one bundle refused.
    let output = fixture.run(&[]).await;
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        ocfixture::tail(&output.stderr)
    );
    let works = fixture.stand_in().works();
    let (message, in_error) = works[0].processed.clone().expect("the work is closed");
    assert!(in_error, "{message}");
    for part in [
        failed.id.as_str(),
        "addExpectations",
        "INTERNAL_SERVER_ERROR",
    ] {
        assert!(message.contains(part), "{part:?} not in {message:?}");
    }
    let state = fixture.state().expect("a state");
    let cursor = state["latest_publication_timestamp"]
        .as_i64()
        .expect("a cursor");
    assert!(
        cursor < failed.updated,
        "the cursor passed the failed publication"
    );

    // Second run: only the failed publication again, then the world is complete.
    let get_one = fixture.tip.requests(Endpoint::GetOne);
    fixture.run(&[]).await.assert_success();
    assert_eq!(fixture.tip.requests(Endpoint::GetOne), get_one + 1);
    let works = fixture.stand_in().works();
    assert_eq!(works[1].processed.as_ref().map(|p| p.1), Some(false));
    let messages = fixture.drain().await;
    reference.assert_all_delivered(&ocfixture::object_ids(&messages));
    reference.assert_same_state(&fixture.state().expect("a state"));
}

/// One 503 on `RegisterConnector` right after a successful health check (a platform
/// still starting behind a load balancer) should be waited for like an unreachable one.
///
/// Reproduce: `cargo test --test faults_opencti -- --ignored a_503_on_registration`; the
/// connector exits 1 with "cannot register the connector: RegisterConnector: OpenCTI
/// answered HTTP 503" (the same happens for the report status look-up,
/// `SubTypeStatuses`). Only the health check is retried (`wait_until_reachable`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_503_on_registration_is_retried() {
    let Some(reference) = Reference::default_world().await else {
        return;
    };
    let Some(fixture) = Fixture::start("register-503").await else {
        return;
    };
    fixture
        .stand_in()
        .inject(Some("RegisterConnector"), 1, Fault::Http(503));

    fixture.run(&[]).await.assert_success();
    let messages = fixture.drain().await;
    reference.assert_all_delivered(&ocfixture::object_ids(&messages));
}

/// In service mode (no run-and-terminate), one 503 on `workAdd` should fail that run, not
/// stop the service.
///
/// Reproduce: `cargo test --test faults_opencti -- --ignored a_503_on_work_add`; the
/// process exits 1 with "cannot open a work: workAdd: OpenCTI answered HTTP 503"
/// (`Platform::run` propagates the error out of the service loop with `?`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_503_on_work_add_does_not_stop_the_service() {
    let Some(fixture) = Fixture::start("workadd-503").await else {
        return;
    };
    fixture
        .stand_in()
        .inject(Some("workAdd"), 1, Fault::Http(503));
    let mut running = fixture.spawn(&[("CONNECTOR_RUN_AND_TERMINATE", "false")]);

    let refused = |fixture: &Fixture| {
        fixture
            .stand_in()
            .requests()
            .iter()
            .any(|r| r.operation == "workAdd" && r.rejected.is_some())
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !refused(&fixture) && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(refused(&fixture), "workAdd was never tried");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        !running.has_exited(),
        "the service stopped:\n{}",
        ocfixture::tail(&running.stderr())
    );
}

/// When no ping can store the state, the work should not be closed as a success saying
/// "State stored".
///
/// Reproduce: `cargo test --test faults_opencti -- --ignored a_state_that_cannot`; every
/// `PingConnector` answers 503, the log says "Cannot store the state" four times, yet
/// the work is closed with inError=false and "State stored, next run in: 43200 seconds"
/// (`run_once` only logs store failures; the exit code is 1 only because the final
/// `force_ping` fails too).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_state_that_cannot_be_stored_is_not_reported_as_stored() {
    let Some(fixture) = Fixture::start("ping-503").await else {
        return;
    };
    fixture
        .stand_in()
        .inject(Some("PingConnector"), 1000, Fault::Http(503));

    let output = fixture.run(&[]).await;
    assert!(!output.status.success());
    assert!(output.logged("Cannot store the state"));
    assert_eq!(fixture.state(), None);
    let works = fixture.stand_in().works();
    let (message, in_error) = works[0].processed.clone().expect("the work is closed");
    assert!(
        in_error && !message.contains("State stored"),
        "the work says {message:?} (inError={in_error})"
    );
}
