//! Issue 6, the broker restarted mid-run: the connector reaches RabbitMQ through a proxy
//! that refuses connections for a few seconds (as a restarting broker does), twice. The
//! publisher reconnects, publishes again what was not confirmed, and the run delivers
//! every object of the world with the clean run's state. A broker away when the
//! connector starts is waited for in the same way.

#[path = "support/ocfixture.rs"]
mod ocfixture;
#[path = "support/opencti_env.rs"]
mod opencti_env;
#[path = "support/proxy.rs"]
mod proxy;

use std::time::Duration;

use ocfixture::{Fixture, Reference, Running};

/// Waits until the push queue holds more than `depth` messages or the run ended.
async fn wait_for_depth(fixture: &Fixture, running: &mut Running, depth: u32) -> u32 {
    loop {
        let now = fixture.queue_depth().await;
        if now > depth || running.has_exited() {
            return now;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Down for 2.5 s right after the first message (several reconnection attempts fail),
/// then down again briefly later in the run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_restarted_mid_run_loses_nothing() {
    let Some(reference) = Reference::default_world().await else {
        return;
    };
    let Some(fixture) = Fixture::start("restart").await else {
        return;
    };
    let proxy = fixture.broker_proxy().await;
    let port = proxy.port().to_string();
    let mut running = fixture.spawn(&[("MQ_HOST", "127.0.0.1"), ("MQ_PORT", &port)]);

    wait_for_depth(&fixture, &mut running, 0).await;
    proxy.cut();
    assert!(
        !running.has_exited(),
        "the run ended before the first restart"
    );
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let before_second = fixture.queue_depth().await;
    proxy.restore();

    wait_for_depth(&fixture, &mut running, before_second + 100).await;
    proxy.cut();
    tokio::time::sleep(Duration::from_millis(300)).await;
    proxy.restore();

    let output = running.wait(ocfixture::RUN_LIMIT).await;
    output.assert_success();
    let lines = output.log_lines();
    let count = |message: &str| lines.iter().filter(|l| l["message"] == message).count();
    assert!(
        count("broker reconnected") >= 1,
        "{}",
        ocfixture::tail(&output.stderr)
    );
    assert!(
        count("broker unreachable, retrying") >= 1,
        "the broker was never found away"
    );

    let messages = fixture.drain().await;
    reference.assert_all_delivered(&ocfixture::object_ids(&messages));
    reference.assert_same_state(&fixture.state().expect("a state"));
    let works = fixture.stand_in().works();
    assert_eq!(works[0].processed.as_ref().map(|p| p.1), Some(false));
    assert_eq!(works[0].expectations as usize, reference.messages);
}

/// The broker refuses connections when the connector starts: it retries, saying so, and
/// runs once the broker is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_down_at_start_is_waited_for() {
    let Some(reference) = Reference::default_world().await else {
        return;
    };
    let Some(fixture) = Fixture::start("mq-down").await else {
        return;
    };
    let proxy = fixture.broker_proxy().await;
    proxy.cut();
    let port = proxy.port().to_string();
    let mut running = fixture.spawn(&[("MQ_HOST", "127.0.0.1"), ("MQ_PORT", &port)]);

    let waiting = running
        .wait_for_log("broker unreachable, retrying", Duration::from_secs(20))
        .await;
    assert!(waiting, "no retry message:\n{}", running.stderr());
    assert!(
        !running.has_exited(),
        "the connector gave up:\n{}",
        running.stderr()
    );
    proxy.restore();

    running.wait(ocfixture::RUN_LIMIT).await.assert_success();
    let messages = fixture.drain().await;
    reference.assert_all_delivered(&ocfixture::object_ids(&messages));
    reference.assert_same_state(&fixture.state().expect("a state"));
}
