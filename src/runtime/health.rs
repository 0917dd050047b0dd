//! The metrics endpoint and `/health`, served on `connector.metrics_port`.
//!
//! `/health` answers 200 while the last run succeeded (or before the first run ends) and
//! 503 after a failed run, with a small JSON body saying which, so that an orchestrator
//! or an alert can tell a connector that runs from one that keeps failing.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics_exporter_prometheus::PrometheusHandle;
use serde_json::json;
use tokio_util::sync::CancellationToken;

/// How the last run ended.
#[derive(Clone, Debug, Default)]
pub struct Health {
    inner: Arc<Mutex<HealthState>>,
}

#[derive(Clone, Debug, Default)]
struct HealthState {
    last_run: Option<(bool, jiff::Timestamp, String)>,
}

impl Health {
    /// Records the end of a run.
    pub fn record(&self, success: bool, at: jiff::Timestamp, message: impl Into<String>) {
        let mut state = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        state.last_run = Some((success, at, message.into()));
    }

    /// 200 or 503, and the JSON body.
    pub fn report(&self) -> (StatusCode, serde_json::Value) {
        let state = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        match &state.last_run {
            None => (
                StatusCode::OK,
                json!({"status": "starting", "last_run": null}),
            ),
            Some((success, at, message)) => {
                let status = if *success { "ok" } else { "failing" };
                let code = if *success {
                    StatusCode::OK
                } else {
                    StatusCode::SERVICE_UNAVAILABLE
                };
                let last = json!({"success": success, "at": at.to_string(), "message": message});
                (code, json!({"status": status, "last_run": last}))
            }
        }
    }
}

#[derive(Clone)]
struct Endpoints {
    metrics: PrometheusHandle,
    health: Health,
}

/// Serves `/health` and the metrics (on `/metrics` and, as pycti does, any other path)
/// until `cancel` fires.
pub async fn serve(
    address: SocketAddr,
    metrics: PrometheusHandle,
    health: Health,
    cancel: CancellationToken,
) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(address).await?;
    let router = Router::new()
        .route("/health", get(health_page))
        .fallback(get(metrics_page))
        .with_state(Endpoints { metrics, health });
    tracing::info!(address = %listener.local_addr()?, "Metrics endpoint listening");
    axum::serve(listener, router)
        .with_graceful_shutdown(cancel.cancelled_owned())
        .await?;
    Ok(())
}

async fn health_page(State(endpoints): State<Endpoints>) -> Response {
    let (code, body) = endpoints.health.report();
    (code, axum::Json(body)).into_response()
}

async fn metrics_page(State(endpoints): State<Endpoints>) -> Response {
    let text = endpoints.metrics.render();
    ([("content-type", "text/plain; version=0.0.4")], text).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_run_makes_health_fail() {
        let health = Health::default();
        assert_eq!(health.report().0, StatusCode::OK);
        health.record(
            false,
            jiff::Timestamp::UNIX_EPOCH,
            "publication: TIP returned 503",
        );
        let (code, body) = health.report();
        assert_eq!(code, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(body["last_run"]["message"], "publication: TIP returned 503");
        health.record(true, jiff::Timestamp::UNIX_EPOCH, "ok");
        assert_eq!(health.report().0, StatusCode::OK);
    }
}
