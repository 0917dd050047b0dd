//! Retries against the simulator (issue #5942 of the Python connector): transient failures
//! are retried with backoff honouring `Retry-After`, permanent ones are not, and an
//! exhausted budget ends in an error after `max_retries + 1` tries.
#![cfg(feature = "simulator")]

#[path = "support/tip_harness.rs"]
mod harness;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use connector_kaspersky::simulator::tip::{Fault, FaultTarget};
use connector_kaspersky::tip::{Endpoint, RetryEvent, TipClient, TipError};
use harness::Harness;

fn status(code: u16) -> Fault {
    Fault::Status {
        code,
        retry_after: None,
    }
}

fn retry_after(code: u16, value: &str) -> Fault {
    Fault::Status {
        code,
        retry_after: Some(value.to_owned()),
    }
}

/// A client that records every retry it announces.
fn recording(h: &Harness) -> (TipClient, Arc<Mutex<Vec<RetryEvent>>>) {
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    let client = h
        .client()
        .on_retry(move |event| sink.lock().unwrap().push(event.clone()));
    (client, events)
}

/// A 503 is retried and the second try succeeds.
#[tokio::test]
async fn a_503_is_retried_then_succeeds() {
    let h = Harness::generated().await;
    h.sim.inject(Endpoint::GetList, status(503));
    let (client, events) = recording(&h);

    assert_eq!(client.get_list(None, None).await.unwrap().len(), 8);
    assert_eq!(h.sim.requests(Endpoint::GetList), 2);
    assert_eq!(client.retries(), 1);
    let events = events.lock().unwrap();
    assert_eq!(events[0].status, Some(503));
    assert_eq!(events[0].attempt, 1);
    assert_eq!(events[0].delay, Duration::from_millis(10), "the base delay");
}

/// Every transient status is retried; the delays double from the base.
#[tokio::test]
async fn transient_statuses_are_retried_with_doubling_delays() {
    let h = Harness::generated().await;
    for code in [500, 502, 504, 429] {
        h.sim.inject(Endpoint::GetMasterIoc, status(code));
    }
    let (client, events) = recording(&h);

    client.get_master_ioc().await.unwrap();
    assert_eq!(h.sim.requests(Endpoint::GetMasterIoc), 5);
    let events = events.lock().unwrap();
    let statuses: Vec<Option<u16>> = events.iter().map(|e| e.status).collect();
    assert_eq!(statuses, [Some(500), Some(502), Some(504), Some(429)]);
    let delays: Vec<u64> = events.iter().map(|e| e.delay.as_millis() as u64).collect();
    assert_eq!(delays, [10, 20, 40, 80]);
}

/// A 429 with `Retry-After: 1` waits what the server asked instead of the backoff.
#[tokio::test]
async fn a_429_with_retry_after_seconds_waits_as_told() {
    let h = Harness::generated().await;
    h.sim.inject(Endpoint::GetOne, retry_after(429, "1"));
    let id = h.client().get_list(None, None).await.unwrap()[0].id.clone();
    let (client, events) = recording(&h);

    client.get_one(&id).await.unwrap();
    assert_eq!(h.sim.requests(Endpoint::GetOne), 2);
    assert_eq!(events.lock().unwrap()[0].delay, Duration::from_secs(1));
}

/// A 429 without `Retry-After` falls back to the backoff.
#[tokio::test]
async fn a_429_without_retry_after_uses_the_backoff() {
    let h = Harness::generated().await;
    h.sim.inject(Endpoint::GetList, status(429));
    let (client, events) = recording(&h);

    client.get_list(None, None).await.unwrap();
    assert_eq!(h.sim.requests(Endpoint::GetList), 2);
    assert_eq!(events.lock().unwrap()[0].delay, Duration::from_millis(10));
}

/// `Retry-After` as an HTTP-date in the past means "now"; a huge value is capped at
/// `retry_max_delay`.
#[tokio::test]
async fn retry_after_dates_and_caps_are_honoured() {
    let mut h = Harness::generated().await;
    h.settings.retry_max_delay = Duration::from_millis(50);
    h.sim.inject(
        Endpoint::GetList,
        retry_after(503, "Sun, 06 Nov 1994 08:49:37 GMT"),
    );
    h.sim.inject(Endpoint::GetList, retry_after(503, "86400"));
    let (client, events) = recording(&h);

    client.get_list(None, None).await.unwrap();
    assert_eq!(h.sim.requests(Endpoint::GetList), 3);
    let delays: Vec<Duration> = events.lock().unwrap().iter().map(|e| e.delay).collect();
    assert_eq!(delays, [Duration::ZERO, Duration::from_millis(50)]);
}

/// An answer slower than the read timeout is abandoned and retried; the next try succeeds.
#[tokio::test]
async fn a_delay_past_the_read_timeout_is_retried() {
    let mut h = Harness::generated().await;
    h.settings.read_timeout = Duration::from_millis(300);
    h.sim.inject(
        Endpoint::GetMasterYara,
        Fault::Delay(Duration::from_secs(2)),
    );
    let (client, events) = recording(&h);

    client.get_master_yara().await.unwrap();
    assert_eq!(h.sim.requests(Endpoint::GetMasterYara), 2);
    let events = events.lock().unwrap();
    assert_eq!(events[0].status, None);
    assert!(
        events[0].reason.contains("did not answer in time"),
        "{}",
        events[0].reason
    );
}

/// When every try times out, the error comes after `max_retries + 1` tries and names the
/// last failure.
#[tokio::test]
async fn timeouts_exhaust_the_budget() {
    let mut h = Harness::generated().await;
    h.settings.read_timeout = Duration::from_millis(200);
    h.settings.max_retries = 2;
    h.sim
        .faults()
        .push_times(Endpoint::GetList, Fault::Delay(Duration::from_secs(2)), 3);
    let client = h.client();

    let error = client.get_list(None, None).await.unwrap_err();
    match &error {
        TipError::RetriesExhausted { attempts, last, .. } => {
            assert_eq!(*attempts, 3);
            assert!(matches!(**last, TipError::Timeout { .. }), "{last:?}");
        }
        other => panic!("expected exhaustion, got {other:?}"),
    }
    assert_eq!(h.sim.requests(Endpoint::GetList), 3);
    assert_eq!(client.retries(), 2);
    assert!(error.to_string().contains("after 3 tries"), "{error}");
}

/// With the default budget of five retries, six 503s in a row give up after six tries.
#[tokio::test]
async fn the_default_budget_is_six_tries() {
    let h = Harness::generated().await;
    h.sim.faults().push_times(FaultTarget::Any, status(503), 10);
    let client = h.client();

    let error = client.get_master_ioc().await.unwrap_err();
    assert!(
        matches!(error, TipError::RetriesExhausted { attempts: 6, .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("HTTP 503"), "{error}");
    assert_eq!(h.sim.requests(Endpoint::GetMasterIoc), 6);
    assert_eq!(h.sim.faults().pending(), 4);
}

/// A connection dropped in the middle of the answer is retried.
#[tokio::test]
async fn a_connection_dropped_midway_is_retried() {
    let h = Harness::generated().await;
    h.sim.inject(Endpoint::GetMasterIoc, Fault::DropConnection);
    let (client, events) = recording(&h);

    client.get_master_ioc().await.unwrap();
    assert_eq!(h.sim.requests(Endpoint::GetMasterIoc), 2);
    assert!(
        events.lock().unwrap()[0].reason.contains("broke"),
        "{:?}",
        events.lock().unwrap()
    );
}

/// 404 for an unknown publication names it and is tried once.
#[tokio::test]
async fn an_unknown_publication_is_not_found_and_not_retried() {
    let h = Harness::generated().await;
    let client = h.client();

    let error = client.get_one("0000deadbeef").await.unwrap_err();
    assert!(
        matches!(error, TipError::NotFound { status: 404, .. }),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .contains("publication \"0000deadbeef\" not found"),
        "{error}"
    );
    assert_eq!(h.sim.requests(Endpoint::GetOne), 1);
    assert_eq!(client.retries(), 0);
}

/// Client errors are never retried: 400, 401, 403 and 404 each take one try.
#[tokio::test]
async fn client_errors_take_one_try() {
    let h = Harness::generated().await;
    let client = h.client();
    for (code, expected) in [
        (400, "not found"),
        (401, "terms and conditions"),
        (403, "no access"),
        (404, "not found"),
    ] {
        h.sim.counts().reset();
        h.sim.inject(Endpoint::GetList, status(code));
        let error = client.get_list(None, None).await.unwrap_err();
        assert!(error.to_string().contains(expected), "{code}: {error}");
        assert_eq!(h.sim.requests(Endpoint::GetList), 1, "{code}");
    }
    assert_eq!(client.retries(), 0);
}

/// `max_retries = 0` turns retrying off: the first failure is the error.
#[tokio::test]
async fn zero_retries_means_one_try() {
    let mut h = Harness::generated().await;
    h.settings.max_retries = 0;
    h.sim.inject(Endpoint::GetList, status(503));

    let error = h.client().get_list(None, None).await.unwrap_err();
    assert!(
        matches!(error, TipError::Status { status: 503, .. }),
        "{error:?}"
    );
    assert_eq!(h.sim.requests(Endpoint::GetList), 1);
}

/// A cancelled client gives up at once, in the wait before a retry: no more tries, a
/// clear error, long before the backoff (a minute here) would have ended.
#[tokio::test]
async fn cancelling_ends_the_wait_before_a_retry() {
    let mut h = Harness::generated().await;
    h.settings.base_delay = Duration::from_secs(60);
    h.settings.retry_max_delay = Duration::from_secs(60);
    h.settings.max_retries = 5;
    h.sim
        .faults()
        .push_times(Endpoint::GetList, status(503), 100);
    let cancel = tokio_util::sync::CancellationToken::new();
    let stop = cancel.clone();
    let client = h
        .client()
        .cancelled_by(cancel)
        .on_retry(move |_| stop.cancel());

    let result = tokio::time::timeout(Duration::from_secs(30), client.get_list(None, None))
        .await
        .expect("the call ends soon after the cancel");
    let error = result.expect_err("a cancelled call fails");
    assert!(matches!(error, TipError::Cancelled { .. }), "{error}");
    assert!(error.to_string().contains("cancelled"), "{error}");
    assert_eq!(h.sim.requests(Endpoint::GetList), 1);
}
