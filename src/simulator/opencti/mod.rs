//! The OpenCTI stand-in: the platform's GraphQL API as far as this connector uses it.
//!
//! It answers every operation of the contract (reference/opencti-protocol.md appendices A
//! and C) on 127.0.0.1, rejects with a GraphQL error any document or variable set that
//! differs from it, checks the bearer token, and records every request for tests to read.
//! Like the platform, registration declares the push exchange and queue in RabbitMQ and
//! returns the broker coordinates; the connector state survives between runs and can be
//! reset as from the UI. Faults can be injected: 503s at start, errors during a run.

mod contract;
mod world;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use world::World;
pub use world::{Fault, IndicatorRecord, LoggedRequest, RegionRecord, WorkRecord};

/// Broker coordinates the stand-in hands out at registration, and where it declares the
/// queues.
#[derive(Clone, Debug)]
pub struct StandInBroker {
    /// Where the stand-in itself connects to declare exchange and queues; `None` skips
    /// declaring.
    pub declare_url: Option<String>,
    pub host: String,
    pub port: u16,
    pub vhost: String,
    pub user: String,
    pub pass: String,
    pub use_ssl: bool,
}

impl Default for StandInBroker {
    /// The local RabbitMQ with the guest account.
    fn default() -> Self {
        StandInBroker {
            declare_url: Some("amqp://guest:guest@127.0.0.1:5672/%2f".into()),
            host: "127.0.0.1".into(),
            port: 5672,
            vhost: "/".into(),
            user: "guest".into(),
            pass: "guest".into(),
            use_ssl: false,
        }
    }
}

/// What the stand-in serves.
#[derive(Clone, Debug)]
pub struct StandInConfig {
    /// The token clients must send as `Authorization: Bearer <token>`.
    pub token: String,
    /// The broker to hand out and declare on.
    pub broker: StandInBroker,
    /// Prepended to queue names and routing keys (`<prefix>push_<id>`), to keep tests
    /// apart on one broker.
    pub prefix: String,
    /// The push exchange (the platform's `amqp.worker.exchange`).
    pub exchange: String,
    /// Regions served by the `Locations` query.
    pub regions: Vec<RegionRecord>,
    /// Indicators served by the `Indicators` query.
    pub indicators: Vec<IndicatorRecord>,
    /// Report workflow status names, in order; `None`: reports have no workflow.
    pub report_statuses: Option<Vec<String>>,
    /// Answer the first this many requests with HTTP 503 (platform still starting).
    pub fail_first: usize,
}

impl Default for StandInConfig {
    fn default() -> Self {
        StandInConfig {
            token: "standin-token".into(),
            broker: StandInBroker::default(),
            prefix: String::new(),
            exchange: "amqp.worker.exchange".into(),
            regions: Vec::new(),
            indicators: Vec::new(),
            report_statuses: None,
            fail_first: 0,
        }
    }
}

/// A running stand-in. Stops when dropped or on [`StandIn::stop`].
#[derive(Debug)]
pub struct StandIn {
    addr: SocketAddr,
    token: String,
    world: Arc<Mutex<World>>,
    shutdown: CancellationToken,
}

#[derive(Clone)]
struct AppState {
    world: Arc<Mutex<World>>,
    config: Arc<StandInConfig>,
}

impl StandIn {
    /// Starts serving on a free port of 127.0.0.1.
    ///
    /// # Errors
    ///
    /// When no port can be bound.
    pub async fn start(config: StandInConfig) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        Ok(Self::serve(listener, config))
    }

    /// Serves on `listener` (to start late on a known port, bind it later yourself).
    pub fn serve(listener: TcpListener, config: StandInConfig) -> Self {
        let addr = listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)));
        let world = Arc::new(Mutex::new(World::new(&config)));
        let state = AppState {
            world: Arc::clone(&world),
            config: Arc::new(config.clone()),
        };
        let router = Router::new()
            .route("/graphql", post(graphql))
            .with_state(state);
        let shutdown = CancellationToken::new();
        let token = shutdown.clone();
        tokio::spawn(async move {
            let serving =
                axum::serve(listener, router).with_graceful_shutdown(token.cancelled_owned());
            if let Err(error) = serving.await {
                tracing::error!(error = %error, "opencti stand-in stopped");
            }
        });
        StandIn {
            addr,
            token: config.token,
            world,
            shutdown,
        }
    }

    /// The platform URL (`OPENCTI_URL`).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The token it accepts (`OPENCTI_TOKEN`).
    pub fn token(&self) -> &str {
        &self.token
    }

    /// Every request so far, in order.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.world().log.clone()
    }

    /// The operation names of the accepted requests, in order.
    pub fn operations(&self) -> Vec<String> {
        self.world()
            .log
            .iter()
            .filter(|r| r.rejected.is_none())
            .map(|r| r.operation.clone())
            .collect()
    }

    /// The state the platform holds for `connector_id`.
    pub fn connector_state(&self, connector_id: &str) -> Option<String> {
        self.world()
            .connectors
            .get(connector_id)
            .and_then(|c| c.state.clone())
    }

    /// Sets the stored state of `connector_id` (as a previous run would have).
    pub fn set_connector_state(&self, connector_id: &str, state: Option<&str>) {
        self.world().connector(connector_id).state = state.map(str::to_owned);
    }

    /// "Reset state" in the UI: the state becomes `""`, the next ping returns `""` without
    /// storing what it carries, later pings store again.
    pub fn reset_state(&self, connector_id: &str) {
        let mut world = self.world();
        let connector = world.connector(connector_id);
        connector.state = Some(String::new());
        connector.reset_pending = true;
    }

    /// The work with this id.
    pub fn work(&self, work_id: &str) -> Option<WorkRecord> {
        self.world().works.iter().find(|w| w.id == work_id).cloned()
    }

    /// Every work, in creation order.
    pub fn works(&self) -> Vec<WorkRecord> {
        self.world().works.clone()
    }

    /// The indicators, with any patterns edited through `fieldPatch`.
    pub fn indicators(&self) -> Vec<IndicatorRecord> {
        self.world().indicators.clone()
    }

    /// Bundles received through `stixBundlePush`.
    pub fn pushed_bundles(&self) -> Vec<String> {
        self.world().pushed.clone()
    }

    /// The queue size `GetConnector` reports, in bytes.
    pub fn set_queue_size(&self, bytes: f64) {
        self.world().queue_bytes = bytes;
    }

    /// Makes the next `count` requests for `operation` (any operation when `None`) fail
    /// with `fault`.
    pub fn inject(&self, operation: Option<&str>, count: usize, fault: Fault) {
        self.world().faults.push(world::Injected {
            operation: operation.map(str::to_owned),
            remaining: count,
            fault,
        });
    }

    /// Stops serving.
    pub fn stop(&self) {
        self.shutdown.cancel();
    }

    fn world(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

async fn graphql(State(app): State<AppState>, headers: HeaderMap, body: String) -> Response {
    let authorized = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == format!("Bearer {}", app.config.token));
    let request: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let query = request
        .get("query")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let variables = request.get("variables").cloned().unwrap_or(Value::Null);
    let operation = contract::operation_of(query);
    let name = operation.map_or_else(|| "unknown".to_owned(), |op| op.name.to_owned());

    let verdict = {
        let mut world = app.world.lock().unwrap_or_else(PoisonError::into_inner);
        world.admit(&name, authorized, operation, &variables)
    };
    let operation = match verdict {
        world::Admission::Http(status) => {
            return (
                StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE),
                "unavailable",
            )
                .into_response();
        }
        world::Admission::Error(error_name, message) => {
            return graphql_error(&error_name, &message);
        }
        world::Admission::Accepted(operation) => operation,
    };

    if operation.name == "RegisterConnector" {
        let id = variables
            .pointer("/input/id")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if let Err(error) = world::declare_queues(&app.config, id).await {
            return graphql_error("DATABASE_ERROR", &format!("cannot declare queues: {error}"));
        }
    }

    let answer = {
        let mut world = app.world.lock().unwrap_or_else(PoisonError::into_inner);
        world.answer(&app.config, operation, &variables)
    };
    match answer {
        Ok(data) => axum::Json(json!({"data": data})).into_response(),
        Err((error_name, message)) => graphql_error(&error_name, &message),
    }
}

fn graphql_error(name: &str, message: &str) -> Response {
    axum::Json(json!({"errors": [{"name": name, "message": message}], "data": null}))
        .into_response()
}

/// Runs a stand-in on `port` (0: a free one) until `cancel`, printing the environment a
/// connector needs to use it (for the `opencti-standin` command).
///
/// # Errors
///
/// When the port cannot be bound.
#[allow(clippy::print_stdout)]
pub async fn run_standalone(
    config: StandInConfig,
    port: u16,
    cancel: CancellationToken,
) -> std::io::Result<()> {
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    let stand_in = StandIn::serve(listener, config);
    println!("OpenCTI stand-in listening; use:");
    println!("OPENCTI_URL={}", stand_in.url());
    println!("OPENCTI_TOKEN={}", stand_in.token());
    println!("CONNECTOR_ID={}", uuid::Uuid::new_v4());
    cancel.cancelled().await;
    stand_in.stop();
    Ok(())
}
