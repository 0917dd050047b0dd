//! One run: the enabled scopes in order, each scope's state stored as soon as its bundles
//! are delivered.

use jiff::Timestamp;

use super::importer::{Importer, RunReport, ScopeReport};
use super::state::{LATEST_RUN, State, StateFile};
use super::{master_ioc, master_yara, metrics, publications};
use crate::config::Scope;
use crate::opencti::ping::force_ping;
use crate::opencti::{ConnectorInfo, OpenCtiClient, Pinger};
use crate::sink::Sinks;

/// Where the state lives between runs.
pub enum StateStore {
    /// A JSON file (`run --state-file`, `demo`).
    File(StateFile),
    /// OpenCTI, through the ping task.
    Platform(Pinger),
    /// OpenCTI, pinged directly (run-and-terminate has no ping task, as in pycti).
    Direct {
        client: OpenCtiClient,
        connector_id: String,
        info: ConnectorInfo,
    },
    /// Nowhere (tests).
    Memory,
}

impl StateStore {
    /// Stores `state`; for the platform, pings at once so that a crash after this point
    /// does not lose it.
    pub async fn store(&self, state: &State) -> anyhow::Result<()> {
        match self {
            StateStore::File(file) => Ok(file.store(state)?),
            StateStore::Platform(pinger) => {
                pinger.set_state(Some(state.as_map().clone()));
                pinger.ping_now().await?;
                Ok(())
            }
            StateStore::Direct {
                client,
                connector_id,
                info,
            } => {
                force_ping(client, connector_id, Some(state.as_map()), info).await?;
                Ok(())
            }
            StateStore::Memory => Ok(()),
        }
    }
}

/// Runs the enabled scopes once, merging each one's keys into `state` and storing it
/// after each scope. `latest_run_timestamp` is set at the end, failures or not (the next
/// run comes after the interval and fetches again what failed), unless a stop request cut
/// the run short.
pub async fn run_once(
    importer: &Importer,
    sinks: &mut Sinks,
    state: &mut State,
    store: &StateStore,
    now: Timestamp,
) -> RunReport {
    metrics::run_started();
    let mut report = RunReport::default();
    sinks.files_written.clear();
    for scope in Scope::ALL {
        if !importer.kaspersky.scopes.contains(scope) {
            continue;
        }
        if importer.cancel.is_cancelled() {
            tracing::info!(
                scope = scope.as_str(),
                "Stopping: scope left for the next run"
            );
            break;
        }
        let scope_report: ScopeReport = match scope {
            Scope::Publication => publications::run(importer, sinks, state, now).await,
            Scope::MasterIoc => master_ioc::run(importer, sinks, state, now).await,
            Scope::MasterYara => master_yara::run(importer, sinks, state, now).await,
        };
        state.merge(scope_report.state.clone());
        if let Err(error) = store.store(state).await {
            tracing::error!(error = %format!("{error:#}"), "Cannot store the state");
            report.errors.push(format!(
                "the state after {scope} could not be stored: {error:#}"
            ));
        }
        tracing::info!(
            scope = scope.as_str(),
            ran = scope_report.ran,
            fetched = scope_report.fetched,
            delivered = scope_report.delivered,
            unchanged = scope_report.unchanged,
            skipped = scope_report.skipped.len(),
            failed = scope_report.failures.len(),
            "Scope finished"
        );
        report.scopes.push(scope_report);
    }
    // A run cut short by a stop request is not a run: the next start runs at once.
    if !report.interrupted() {
        state.set_timestamp(LATEST_RUN, now);
    }
    if let Err(error) = store.store(state).await {
        tracing::error!(error = %format!("{error:#}"), "Cannot store the state");
        report
            .errors
            .push(format!("the state could not be stored: {error:#}"));
    }
    metrics::run_finished(report.succeeded(), now);
    report.files = std::mem::take(&mut sinks.files_written);
    report
}
