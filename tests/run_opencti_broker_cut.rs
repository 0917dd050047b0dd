//! The broker connection cut in the middle of a run-and-terminate run (issue 4): the
//! connector reaches RabbitMQ through a proxy that the test cuts once the queue holds
//! more than 100 messages and restores a second later. The run still succeeds, every
//! object of a clean run arrives at least once, and the state is the clean run's.

#[path = "support/ocfixture.rs"]
mod ocfixture;
#[path = "support/opencti_env.rs"]
mod opencti_env;
#[path = "support/proxy.rs"]
mod proxy;

use std::time::Duration;

use ocfixture::{Fixture, Reference};

/// Cut after more than 100 messages, restore after a second: nothing is lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_broker_connection_loses_nothing() {
    let Some(reference) = Reference::of("cut", ocfixture::default_world()).await else {
        return;
    };
    let Some(fixture) = Fixture::start("cut").await else {
        return;
    };
    let proxy = fixture.broker_proxy().await;
    let port = proxy.port().to_string();
    let mut running = fixture.spawn(&[("MQ_HOST", "127.0.0.1"), ("MQ_PORT", &port)]);

    // Wait for the queue to fill a little, then cut while the run goes on.
    let mut depth = 0;
    while depth <= 100 && !running.has_exited() {
        depth = fixture.queue_depth().await;
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    proxy.cut();
    assert!(
        !running.has_exited(),
        "the run ended before the cut (queue at {depth}); the test needs a bigger world"
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    proxy.restore();

    let output = running.wait(ocfixture::RUN_LIMIT).await;
    output.assert_success();
    assert!(
        output.logged("broker reconnected"),
        "the cut was not noticed:\n{}",
        ocfixture::tail(&output.stderr)
    );
    let messages = fixture.drain().await;
    reference.assert_all_delivered(&ocfixture::object_ids(&messages));
    reference.assert_same_state(&fixture.state().expect("a state"));

    // The work holds exactly the clean split: republished messages add no expectation.
    let works = fixture.stand_in().works();
    assert_eq!(works.len(), 1);
    assert_eq!(works[0].expectations as usize, reference.messages);
    assert!(messages.len() >= reference.messages);
    assert_eq!(works[0].processed.as_ref().map(|p| p.1), Some(false));
}
