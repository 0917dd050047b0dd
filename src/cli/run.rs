//! `run`: the service, as the container runs it.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use tokio_util::sync::CancellationToken;

use super::check::EXIT_CONFIG;
use crate::config::Config;
use crate::runtime::health::Health;
use crate::runtime::service::{self, RunOptions};

/// `run [--once] [--state-file PATH]`.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct RunArgs {
    /// Run every scope once, then exit (same as CONNECTOR_RUN_AND_TERMINATE=true). The
    /// exit status is 0 only when the run succeeded.
    #[arg(long)]
    pub once: bool,
    /// Where the state is kept when OpenCTI does not keep it (CONNECTOR_SEND_TO_QUEUE=false):
    /// a JSON file with the Python connector's keys. Default: ./connector-state.json.
    #[arg(long, value_name = "PATH")]
    pub state_file: Option<PathBuf>,
}

/// Runs the service until SIGTERM or Ctrl-C (or once).
///
/// A configuration that cannot run (a required value missing, bundles going nowhere)
/// exits with [`EXIT_CONFIG`], like one that cannot be read.
pub async fn run(config: Config, args: RunArgs) -> anyhow::Result<ExitCode> {
    if let Err(error) = config.check_for_run() {
        eprintln!("error: {error}");
        return Ok(ExitCode::from(EXIT_CONFIG));
    }
    let cancel = CancellationToken::new();
    spawn_signal_handler(cancel.clone());
    let health = Health::default();
    if config.connector.expose_metrics {
        let namespace = config
            .connector
            .metrics_namespace
            .as_deref()
            .unwrap_or_default();
        let subsystem = config
            .connector
            .metrics_subsystem
            .as_deref()
            .unwrap_or_default();
        let handle = crate::runtime::metrics::install(namespace, subsystem)?;
        let address = SocketAddr::from(([0, 0, 0, 0], config.connector.metrics_port));
        let (health, cancel) = (health.clone(), cancel.clone());
        tokio::spawn(async move {
            if let Err(error) = crate::runtime::health::serve(address, handle, health, cancel).await
            {
                tracing::error!(error = %format!("{error:#}"), "Metrics endpoint failed");
            }
        });
    }

    let options = RunOptions {
        once: args.once,
        state_file: args.state_file,
    };
    let outcome = service::run(config, options, health, cancel.clone()).await?;
    cancel.cancel();
    if outcome.succeeded() {
        Ok(ExitCode::SUCCESS)
    } else {
        for failure in outcome.last_run.iter().flat_map(|r| r.failures()) {
            eprintln!("failed: {failure}");
        }
        Ok(ExitCode::FAILURE)
    }
}

/// SIGTERM and Ctrl-C cancel the token: the run stops between bundles, keeping every
/// confirmed state.
pub fn spawn_signal_handler(cancel: CancellationToken) {
    tokio::spawn(async move {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let Ok(mut term) = signal(SignalKind::terminate()) else {
                return;
            };
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("Stopping: the current bundle is finished, then the state is stored");
        cancel.cancel();
    });
}
