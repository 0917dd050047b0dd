//! Prometheus metrics: pycti's seven counter names, plus this connector's own.
//!
//! Every counter goes through a function here, so that a name is written once and the
//! logs and the metrics of an event cannot drift apart. Without an installed recorder
//! (metrics off, `convert`, tests) the functions cost almost nothing.

use std::sync::OnceLock;
use std::time::Duration;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

static PREFIX: OnceLock<String> = OnceLock::new();

/// The metric name with the configured `namespace_subsystem_` prefix.
fn name(base: &str) -> String {
    match PREFIX.get() {
        Some(prefix) if !prefix.is_empty() => format!("{prefix}_{base}"),
        _ => base.to_owned(),
    }
}

/// Installs the global recorder; `namespace` and `subsystem` prefix every name as
/// pycti's `CONNECTOR_METRICS_NAMESPACE`/`_SUBSYSTEM` do.
pub fn install(namespace: &str, subsystem: &str) -> anyhow::Result<PrometheusHandle> {
    let prefix: Vec<&str> = [namespace, subsystem]
        .into_iter()
        .filter(|p| !p.is_empty())
        .collect();
    let _ = PREFIX.set(prefix.join("_"));
    let handle = PrometheusBuilder::new()
        .set_buckets(&[0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0])?
        .install_recorder()?;
    describe();
    Ok(handle)
}

fn describe() {
    let pycti = [
        (
            "bundles_sent_total",
            "Messages published to the OpenCTI queue (or bundles pushed)",
        ),
        ("records_sent_total", "STIX objects sent"),
        ("runs_total", "Runs started"),
        ("ping_api_total", "Successful pings of the OpenCTI API"),
        ("ping_api_errors_total", "Failed pings of the OpenCTI API"),
        ("errors_total", "Connector errors"),
        ("client_errors_total", "Errors from the Kaspersky TIP API"),
    ];
    for (base, help) in pycti {
        metrics::describe_counter!(name(base), help);
        // Present from the start, at zero, as prometheus-client shows pycti's counters.
        metrics::counter!(name(base)).increment(0);
    }
    state("idle");
}

/// pycti's `state` enum: idle, running or stopped.
pub fn state(current: &str) {
    for label in ["idle", "running", "stopped"] {
        let value = if label == current { 1.0 } else { 0.0 };
        metrics::gauge!(name("state"), "state" => label).set(value);
    }
}

/// A run started.
pub fn run_started() {
    metrics::counter!(name("runs_total")).increment(1);
    state("running");
}

/// A run ended; a successful one sets the last-success time.
pub fn run_finished(success: bool, now: jiff::Timestamp) {
    state("idle");
    if success {
        metrics::gauge!(name("kaspersky_last_successful_run_timestamp_seconds"))
            .set(now.as_second() as f64);
    } else {
        metrics::counter!(name("errors_total")).increment(1);
    }
}

/// A ping of the OpenCTI API, successful or not.
pub fn ping(success: bool) {
    let base = if success {
        "ping_api_total"
    } else {
        "ping_api_errors_total"
    };
    metrics::counter!(name(base)).increment(1);
}

/// Items fetched from the TIP by a scope (publications, rows, rules).
pub fn items_fetched(scope: &'static str, n: u64) {
    metrics::counter!(name("kaspersky_items_fetched_total"), "scope" => scope).increment(n);
}

/// Items skipped by a scope (bad input), by reason.
pub fn items_skipped(scope: &'static str, reason: &'static str, n: u64) {
    metrics::counter!(name("kaspersky_items_skipped_total"), "scope" => scope, "reason" => reason)
        .increment(n);
}

/// Items a scope failed to import (fetch or delivery failure), by reason.
pub fn items_failed(scope: &'static str, reason: &'static str) {
    metrics::counter!(name("kaspersky_items_failed_total"), "scope" => scope, "reason" => reason)
        .increment(1);
}

/// A TIP request and how long it took (all tries included).
pub fn tip_request(endpoint: &'static str, elapsed: Duration, ok: bool) {
    metrics::histogram!(name("kaspersky_tip_request_duration_seconds"), "endpoint" => endpoint)
        .record(elapsed.as_secs_f64());
    if !ok {
        metrics::counter!(name("client_errors_total")).increment(1);
    }
}

/// A retried TIP request.
pub fn tip_retry(endpoint: &'static str) {
    metrics::counter!(name("kaspersky_tip_retries_total"), "endpoint" => endpoint).increment(1);
}

/// Messages published to the queue, and objects they carried.
pub fn messages_published(n: u64) {
    metrics::counter!(name("bundles_sent_total")).increment(n);
    metrics::counter!(name("records_sent_total")).increment(n);
    metrics::counter!(name("kaspersky_messages_published_total")).increment(n);
}

/// Messages the broker confirmed.
pub fn messages_confirmed(n: u64) {
    metrics::counter!(name("kaspersky_messages_confirmed_total")).increment(n);
}
