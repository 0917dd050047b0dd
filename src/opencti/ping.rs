//! The connector's heartbeat: pings every 40 s carrying the state, and remote resets.
//!
//! The platform stores the state only through pings (reference/opencti-protocol.md §4-§5).
//! The runtime tells the [`Pinger`] the current state; the pinger sends it and, when the
//! platform answers with a different state (an operator pressed "reset state"), clears
//! the local state and reports the reset, as pycti does.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::api::{ConnectorInfo, OpenCtiClient};
use super::graphql::ApiError;
use super::state::{self, StateMap};

/// pycti's interval between the end of one ping and the next.
pub const PING_INTERVAL: Duration = Duration::from_secs(40);

/// What a ping found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PingOutcome {
    /// The platform holds the state that was sent.
    Stored,
    /// The platform holds another state: it was reset there, and the local state is now
    /// empty.
    RemoteReset,
}

#[derive(Debug)]
struct Shared {
    state: Option<StateMap>,
    info: ConnectorInfo,
}

type Reply = oneshot::Sender<Result<PingOutcome, ApiError>>;

/// Handle to the ping task. Dropping it does not stop the task; call [`Pinger::stop`] or
/// cancel the token given to [`Pinger::spawn`].
#[derive(Debug)]
pub struct Pinger {
    shared: Arc<Mutex<Shared>>,
    requests: mpsc::Sender<Reply>,
    resets: watch::Receiver<u64>,
    pings: Arc<AtomicU64>,
    errors: Arc<AtomicU64>,
    task: JoinHandle<()>,
    stop: CancellationToken,
}

struct PingTask {
    client: OpenCtiClient,
    connector_id: String,
    shared: Arc<Mutex<Shared>>,
    resets: watch::Sender<u64>,
    pings: Arc<AtomicU64>,
    errors: Arc<AtomicU64>,
}

impl Pinger {
    /// Starts pinging as `connector_id` at once, then `interval` after each ping, until
    /// `cancel` fires. `state` is the state registration returned.
    pub fn spawn(
        client: OpenCtiClient,
        connector_id: String,
        state: Option<StateMap>,
        info: ConnectorInfo,
        interval: Duration,
        cancel: CancellationToken,
    ) -> Self {
        let shared = Arc::new(Mutex::new(Shared { state, info }));
        let (requests, mut receiver) = mpsc::channel::<Reply>(8);
        let (resets_tx, resets) = watch::channel(0);
        let pings = Arc::new(AtomicU64::new(0));
        let errors = Arc::new(AtomicU64::new(0));
        let stop = cancel.child_token();
        let task = PingTask {
            client,
            connector_id,
            shared: Arc::clone(&shared),
            resets: resets_tx,
            pings: Arc::clone(&pings),
            errors: Arc::clone(&errors),
        };
        let token = stop.clone();
        let handle = tokio::spawn(async move {
            tracing::info!("starting ping alive task");
            let _ = task.ping().await;
            loop {
                tokio::select! {
                    () = token.cancelled() => break,
                    () = tokio::time::sleep(interval) => {
                        let _ = task.ping().await;
                    }
                    request = receiver.recv() => {
                        let Some(reply) = request else { break };
                        let _ = reply.send(task.ping().await);
                    }
                }
            }
        });
        Pinger {
            shared,
            requests,
            resets,
            pings,
            errors,
            task: handle,
            stop,
        }
    }

    /// The current local state (empty after a remote reset).
    pub fn state(&self) -> Option<StateMap> {
        self.lock().state.clone()
    }

    /// Replaces the local state; the next ping stores it in the platform.
    pub fn set_state(&self, state: Option<StateMap>) {
        self.lock().state = state;
    }

    /// Changes the `connectorInfo` sent with the next pings.
    pub fn update_info(&self, change: impl FnOnce(&mut ConnectorInfo)) {
        change(&mut self.lock().info);
    }

    /// Pings now (for example right after storing a new state) and says what it found.
    ///
    /// # Errors
    ///
    /// The ping's [`ApiError`]; [`ApiError::Cancelled`] when the task has stopped.
    pub async fn ping_now(&self) -> Result<PingOutcome, ApiError> {
        let stopped = || ApiError::Cancelled {
            operation: "PingConnector",
        };
        let (reply, answer) = oneshot::channel();
        self.requests.send(reply).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }

    /// A receiver whose value counts the remote resets seen so far.
    pub fn resets(&self) -> watch::Receiver<u64> {
        self.resets.clone()
    }

    /// Successful pings so far (metric `ping_api_total`).
    pub fn pings(&self) -> u64 {
        self.pings.load(Ordering::Relaxed)
    }

    /// Failed pings so far (metric `ping_api_errors_total`).
    pub fn errors(&self) -> u64 {
        self.errors.load(Ordering::Relaxed)
    }

    /// Stops the task and waits for it.
    pub async fn stop(self) {
        self.stop.cancel();
        let _ = self.task.await;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Shared> {
        self.shared.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl PingTask {
    async fn ping(&self) -> Result<PingOutcome, ApiError> {
        let (text, info) = {
            let shared = self.shared.lock().unwrap_or_else(PoisonError::into_inner);
            (state::ping_text(shared.state.as_ref()), shared.info.clone())
        };
        let outcome = match self.client.ping(&self.connector_id, &text, &info).await {
            Ok(returned) => {
                state::differs(&text, returned.as_deref()).map_err(|e| ApiError::Response {
                    operation: "PingConnector",
                    detail: e.to_string(),
                })
            }
            Err(error) => Err(error),
        };
        match outcome {
            Ok(false) => {
                self.pings.fetch_add(1, Ordering::Relaxed);
                Ok(PingOutcome::Stored)
            }
            Ok(true) => {
                self.pings.fetch_add(1, Ordering::Relaxed);
                let connector_id = &self.connector_id;
                tracing::warn!(%connector_id, "connector state has been remotely reset");
                self.shared
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .state = None;
                self.resets.send_modify(|count| *count += 1);
                Ok(PingOutcome::RemoteReset)
            }
            Err(error) => {
                self.errors.fetch_add(1, Ordering::Relaxed);
                let connector_id = &self.connector_id;
                tracing::error!(%connector_id, error = %error, "error pinging the api");
                Err(error)
            }
        }
    }
}

/// pycti's `force_ping` for run-and-terminate: pings `state` once and, if the platform
/// holds another state, once more with the same state (a reset is not adopted).
///
/// # Errors
///
/// The ping's [`ApiError`].
pub async fn force_ping(
    client: &OpenCtiClient,
    connector_id: &str,
    state: Option<&StateMap>,
    info: &ConnectorInfo,
) -> Result<(), ApiError> {
    let text = state::ping_text(state);
    let returned = client.ping(connector_id, &text, info).await?;
    let differs = state::differs(&text, returned.as_deref()).unwrap_or(true);
    if differs {
        client.ping(connector_id, &text, info).await?;
    }
    Ok(())
}
