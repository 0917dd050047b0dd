//! `run`: the connector as a service, or once (`--once`, `run_and_terminate`).
//!
//! With the OpenCTI queue the life is pycti's (reference/opencti-protocol.md appendix B):
//! health checks, registration, pings every 40 s carrying the state, and per run a work,
//! the bundles, and the work closed with a message. Without it (directory sink only) the
//! state lives in a JSON file. Either way a run is due when `latest_run_timestamp` is
//! older than the period (`connector.duration_period`, else `kaspersky.interval_sec`);
//! the loop looks every 60 seconds, as the Python connector does.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use anyhow::{Context, bail};
use jiff::Timestamp;
use tokio_util::sync::CancellationToken;

use super::health::Health;
use super::importer::{Importer, RunReport};
use super::run::{StateStore, run_once};
use super::schedule::run_is_due;
use super::state::{LATEST_RUN, State, StateFile};
use crate::config::{Config, QueueProtocol, TlsVerify};
use crate::opencti::{
    self, AmqpPublisher, ApiDelivery, ApiSettings, ConnectorInfo, ConnectorRegistration,
    OpenCtiClient, Pinger, PublishTarget, PublisherOptions, QueueDelivery, Registration,
    TlsVerification,
};
use crate::scopes::locations::Regions;
use crate::scopes::{BuildSettings, ReportStatus};
use crate::sink::{DirectorySink, QueueSink, Sinks};
use crate::tip::{TipClient, TipSettings};

/// How often the loop looks whether a run is due.
const TICK: Duration = Duration::from_secs(60);

/// How long, after a stop request, the current bundle's confirms and the last ping may
/// take before the connection to them is dropped too.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// How `run` was asked to behave.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Run once and exit (`--once`; also `connector.run_and_terminate`).
    pub once: bool,
    /// The state file when OpenCTI does not keep the state.
    pub state_file: Option<PathBuf>,
}

/// The outcome of `run`: whether the last run succeeded.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub last_run: Option<RunReport>,
}

impl Outcome {
    /// True unless the last run failed.
    pub fn succeeded(&self) -> bool {
        self.last_run.as_ref().is_none_or(RunReport::succeeded)
    }
}

/// The TIP client of a configuration.
pub fn tip_client(config: &Config) -> anyhow::Result<TipClient> {
    let k = &config.kaspersky;
    let mut settings = TipSettings::new(
        &k.base_url,
        &k.user,
        k.password.expose(),
        &k.certificate_path,
    );
    settings.ca_path = k.ca_path.clone();
    settings.ssl_verify = k.ssl_verify;
    settings.connect_timeout = k.connect_timeout;
    settings.read_timeout = k.read_timeout;
    settings.max_retries = k.max_retries;
    settings.retry_max_delay = k.retry_max_delay;
    let client = TipClient::new(&settings).context("cannot set up the TIP client")?;
    Ok(client.on_retry(|event| super::metrics::tip_retry(event.endpoint.name())))
}

/// Runs the connector until `cancel` fires (or once).
pub async fn run(
    config: Config,
    options: RunOptions,
    health: Health,
    cancel: CancellationToken,
) -> anyhow::Result<Outcome> {
    let once = options.once || config.connector.run_and_terminate;
    let tip = tip_client(&config)?;
    let mut settings = BuildSettings::from_config(&config);
    let directory = match (
        &config.connector.send_to_directory,
        &config.connector.send_to_directory_path,
    ) {
        (true, Some(path)) => Some(DirectorySink::new(path)?),
        _ => None,
    };

    if !config.connector.send_to_queue {
        let path = options
            .state_file
            .clone()
            .unwrap_or_else(|| PathBuf::from("connector-state.json"));
        let state_file = path.display();
        tracing::info!(state_file = %state_file, "OpenCTI queue off: the state is in a file");
        let store = StateStore::File(StateFile::new(&path));
        let importer = Importer::new(
            tip,
            settings,
            config.kaspersky.clone(),
            None,
            cancel.clone(),
        );
        let sinks = Sinks {
            directory,
            queue: None,
            work_id: None,
            files_written: Vec::new(),
        };
        let mut service = Local {
            config: &config,
            importer,
            sinks,
            store,
            health,
        };
        return service.serve(once, &cancel).await;
    }

    // OpenCTI: reachable, registered, statuses and regions known, broker connected.
    let client = OpenCtiClient::new(&api_settings(&config)?)?;
    let backoff = opencti::backoff::Backoff::new(Duration::from_secs(2), Duration::from_secs(60));
    client
        .wait_until_reachable(&cancel, backoff)
        .await
        .context("OpenCTI is not reachable")?;
    client
        .health_check()
        .await
        .context("OpenCTI is not reachable")?;
    let declaration = ConnectorRegistration {
        id: config
            .connector
            .id
            .clone()
            .context("connector.id is not set")?,
        name: config.connector.name.clone(),
        scope: config.connector.scope.clone(),
    };
    let registration = retry_transient(&cancel, "RegisterConnector", || {
        client.register(&declaration)
    })
    .await
    .context("cannot register the connector")?;
    tracing::info!(id = %registration.connector_id, "Connector registered with ID");
    resolve_statuses(&client, &config, &mut settings, &cancel).await?;

    let info = ConnectorInfo {
        run_and_terminate: once,
        queue_threshold: config.connector.queue_threshold as f64,
        ..ConnectorInfo::default()
    };
    let io = CancellationToken::new();
    let store = if once {
        StateStore::Direct {
            client: client.clone(),
            connector_id: registration.connector_id.clone(),
            info: info.clone(),
        }
    } else {
        tracing::info!("Starting PingAlive thread");
        StateStore::Platform(Pinger::spawn(
            client.clone(),
            registration.connector_id.clone(),
            registration.state.clone(),
            info,
            opencti::ping::PING_INTERVAL,
            io.clone(),
        ))
    };
    // The ping task and the publisher outlive a stop request: the bundle being published
    // gets its confirms and the state its last ping. If the broker or the platform does
    // not answer within the grace period, they stop too.
    let grace = io.clone();
    let stop = cancel.clone();
    tokio::spawn(async move {
        stop.cancelled().await;
        tokio::select! {
            _ = grace.cancelled() => {}
            _ = tokio::time::sleep(SHUTDOWN_GRACE) => grace.cancel(),
        }
    });
    let queue = connect_queue(&config, &client, &registration, &io).await?;
    let importer = Importer::new(
        tip,
        settings,
        config.kaspersky.clone(),
        Some(client.clone()),
        cancel.clone(),
    );
    let sinks = Sinks {
        directory,
        queue: Some(queue),
        work_id: None,
        files_written: Vec::new(),
    };
    let mut service = Platform {
        config: &config,
        client,
        registration,
        importer,
        sinks,
        store,
        health,
    };
    let outcome = service.serve(once, &cancel).await;
    io.cancel();
    outcome
}

/// Retries a start-up call while OpenCTI answers with a transient error (a platform that
/// is restarting): waiting, with a log line per try, is what an operator expects, not a
/// container restart loop. Permanent errors (a refused token, a bad request) return.
async fn retry_transient<T, F, Fut>(
    cancel: &CancellationToken,
    what: &str,
    mut call: F,
) -> Result<T, opencti::ApiError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, opencti::ApiError>>,
{
    let mut backoff =
        opencti::backoff::Backoff::new(Duration::from_secs(1), Duration::from_secs(60));
    loop {
        match call().await {
            Err(error) if error.is_transient() && !cancel.is_cancelled() => {
                let delay = backoff.next_delay();
                let delay_ms = delay.as_millis() as u64;
                tracing::warn!(operation = what, error = %error, delay_ms, "OpenCTI call failed");
                tokio::select! {
                    _ = cancel.cancelled() => return Err(error),
                    _ = tokio::time::sleep(delay) => {}
                }
            }
            result => return result,
        }
    }
}

/// The OpenCTI client settings of a configuration.
pub fn api_settings(config: &Config) -> anyhow::Result<ApiSettings> {
    let url = config
        .opencti
        .url
        .clone()
        .context("opencti.url is not set")?;
    let token = config
        .opencti
        .token
        .as_ref()
        .context("opencti.token is not set")?;
    let mut settings = ApiSettings::new(url, opencti::Secret::new(token.expose()));
    settings.tls = match &config.opencti.ssl_verify {
        TlsVerify::Enabled => TlsVerification::System,
        TlsVerify::Disabled => TlsVerification::Disabled,
        TlsVerify::CaBundle(path) => TlsVerification::CaBundle(path.clone()),
    };
    Ok(settings)
}

/// The report statuses of the three scopes, resolved to the platform's workflow.
///
/// A name the platform does not know stops start-up with the list of its statuses; a
/// platform without a workflow for reports keeps the legacy integer only.
async fn resolve_statuses(
    client: &OpenCtiClient,
    config: &Config,
    settings: &mut BuildSettings,
    cancel: &CancellationToken,
) -> anyhow::Result<()> {
    let workflow = retry_transient(cancel, "report statuses", || client.report_workflow())
        .await
        .context("cannot read the report statuses")?;
    if !workflow.enabled {
        tracing::info!("Reports have no workflow in OpenCTI: only the legacy status is sent");
        return Ok(());
    }
    let k = &config.kaspersky;
    let wanted = [
        (
            "kaspersky.publication_report_status",
            &k.publication_report_status,
            &mut settings.publication,
        ),
        (
            "kaspersky.master_ioc_report_status",
            &k.master_ioc_report_status,
            &mut settings.master_ioc,
        ),
        (
            "kaspersky.master_yara_report_status",
            &k.master_yara_report_status,
            &mut settings.master_yara,
        ),
    ];
    for (key, name, report) in wanted {
        let Some(id) = workflow.status_id(name) else {
            let known: Vec<&str> = workflow.statuses.iter().map(|s| s.name.as_str()).collect();
            bail!(
                "{key}: OpenCTI has no report status {name:?} - its statuses: {}",
                known.join(", ")
            );
        };
        report.status = ReportStatus {
            workflow_id: Some(id.to_owned()),
            ..ReportStatus::offline(name)
        };
    }
    Ok(())
}

/// The queue sink: RabbitMQ with the registration's coordinates (`MQ_*` first), or the API.
async fn connect_queue(
    config: &Config,
    client: &OpenCtiClient,
    registration: &Registration,
    cancel: &CancellationToken,
) -> anyhow::Result<QueueSink> {
    if config.connector.queue_protocol == QueueProtocol::Api {
        return Ok(QueueSink::Api(ApiDelivery::new(
            client.clone(),
            registration.connector_id.clone(),
        )));
    }
    let mq = &config.mq;
    let mut broker = registration.broker.clone();
    if let Some(host) = &mq.host {
        broker.host = host.clone();
    }
    if let Some(port) = mq.port {
        broker.port = port;
    }
    if let Some(vhost) = &mq.vhost {
        broker.vhost = vhost.clone();
    }
    if let Some(user) = &mq.user {
        broker.user = user.clone();
    }
    if let Some(pass) = &mq.pass {
        broker.password = opencti::Secret::new(pass.expose());
    }
    if let Some(use_ssl) = mq.use_ssl {
        broker.use_ssl = use_ssl;
    }
    broker.tls.verify = mq.use_ssl_reject_unauthorized;
    let pem = |source: &crate::config::PemSource| -> anyhow::Result<String> {
        Ok(match source {
            crate::config::PemSource::File(path) => std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?,
            crate::config::PemSource::Inline(text) => text.expose().to_owned(),
        })
    };
    if let Some(ca) = &mq.use_ssl_ca {
        broker.tls.ca_pem = Some(pem(ca)?);
    }
    if let Some(cert) = &mq.use_ssl_cert {
        broker.tls.client_cert_pem = Some(pem(cert)?);
    }
    if let Some(key) = &mq.use_ssl_key {
        broker.tls.client_key_pem = Some(opencti::Secret::new(pem(key)?));
    }
    tracing::info!(broker = %broker.display_uri(), "Connecting to the OpenCTI queue");
    let target = PublishTarget {
        exchange: registration.push_exchange.clone(),
        routing_key: registration.push_routing.clone(),
    };
    let options = PublisherOptions {
        connection_name: config.connector.name.clone(),
        ..Default::default()
    };
    let publisher = AmqpPublisher::connect(broker, target, options, cancel.clone())
        .await
        .context("cannot connect to the OpenCTI queue (RabbitMQ)")?;
    Ok(QueueSink::Amqp(Box::new(QueueDelivery::new(
        client.clone(),
        publisher,
        registration.applicant_id.clone(),
    ))))
}

/// The period between runs.
fn period(config: &Config) -> Duration {
    config
        .connector
        .duration_period
        .unwrap_or(config.kaspersky.interval)
}

/// Sleeps until the next tick or cancellation; false when cancelled.
async fn tick(cancel: &CancellationToken) -> bool {
    tokio::select! {
        _ = cancel.cancelled() => false,
        _ = tokio::time::sleep(TICK) => true,
    }
}

/// The work name the Python connector uses: `Kaspersky @ 2026-12-04 15:36:09+00:00`.
pub fn work_name(connector: &str, now: Timestamp) -> String {
    format!("{connector} @ {}", now.strftime("%Y-%m-%d %H:%M:%S+00:00"))
}

/// The work's closing message.
fn closing_message(report: &RunReport, period: Duration) -> String {
    if report.succeeded() && report.interrupted() {
        "Stopped before the end of the run, state stored; the rest is fetched next run".into()
    } else if report.succeeded() {
        format!("State stored, next run in: {} seconds", period.as_secs())
    } else {
        format!(
            "Run failed, what failed is fetched again next run: {}",
            report.failures().join("; ")
        )
    }
}

/// A configuration without OpenCTI: bundles to a directory, state in a file.
struct Local<'a> {
    config: &'a Config,
    importer: Importer,
    sinks: Sinks,
    store: StateStore,
    health: Health,
}

impl Local<'_> {
    async fn serve(&mut self, once: bool, cancel: &CancellationToken) -> anyhow::Result<Outcome> {
        let StateStore::File(file) = &self.store else {
            unreachable!("local state is a file")
        };
        let mut outcome = Outcome { last_run: None };
        loop {
            let mut state = file.load()?;
            let now = Timestamp::now();
            if once || run_is_due(state.timestamp(LATEST_RUN), period(self.config), now) {
                apply_retention(self.config, &self.sinks);
                let report = run_once(
                    &self.importer,
                    &mut self.sinks,
                    &mut state,
                    &self.store,
                    now,
                )
                .await;
                self.health.record(
                    report.succeeded(),
                    now,
                    closing_message(&report, period(self.config)),
                );
                outcome.last_run = Some(report);
            }
            if once || !tick(cancel).await {
                return Ok(outcome);
            }
        }
    }
}

/// A configuration with OpenCTI.
struct Platform<'a> {
    config: &'a Config,
    client: OpenCtiClient,
    registration: Registration,
    importer: Importer,
    sinks: Sinks,
    store: StateStore,
    health: Health,
}

impl Platform<'_> {
    async fn serve(&mut self, once: bool, cancel: &CancellationToken) -> anyhow::Result<Outcome> {
        let mut outcome = Outcome { last_run: None };
        let id = self.registration.connector_id.clone();
        let mut state = State::from_map(self.registration.state.clone().unwrap_or_default());
        loop {
            if let StateStore::Platform(pinger) = &self.store {
                state = State::from_map(pinger.state().unwrap_or_default());
            }
            // As with a state file: a time that cannot be read must not restart a scope.
            state
                .check_timestamps()
                .context("the connector's state in OpenCTI")?;
            let now = Timestamp::now();
            let due = once || run_is_due(state.timestamp(LATEST_RUN), period(self.config), now);
            if due && self.queue_has_room(&id).await {
                let report = match self.run(&id, &mut state).await {
                    Ok(report) => report,
                    Err(error) => {
                        // The work could not even be opened: nothing was fetched, nothing
                        // is lost; the next tick tries again (or, once, the exit says so).
                        let message = format!("{error:#}");
                        tracing::error!(error = %message, "Run failed");
                        self.health.record(false, now, message.clone());
                        RunReport::failed(message)
                    }
                };
                outcome.last_run = Some(report);
            }
            if once {
                let info = ConnectorInfo {
                    run_and_terminate: true,
                    last_run_datetime: Some(opencti::api::info_datetime(Timestamp::now())),
                    queue_threshold: self.config.connector.queue_threshold as f64,
                    ..ConnectorInfo::default()
                };
                opencti::ping::force_ping(&self.client, &id, Some(state.as_map()), &info).await?;
                return Ok(outcome);
            }
            if !tick(cancel).await {
                return Ok(outcome);
            }
        }
    }

    /// pycti's queue check: no run while the connector's queue is over the threshold.
    async fn queue_has_room(&self, id: &str) -> bool {
        match self.client.queue_details(id).await {
            Ok(details) => {
                let size = details.size_mb();
                let room = size < self.config.connector.queue_threshold as f64;
                if let StateStore::Platform(pinger) = &self.store {
                    pinger.update_info(|info| {
                        info.queue_messages_size = size;
                        info.buffering = !room;
                    });
                }
                if !room {
                    tracing::info!(
                        size_mb = size,
                        concat!(
                            "Connector will not run until the queue messages size is reduced ",
                            "under queue threshold"
                        )
                    );
                }
                room
            }
            Err(error) => {
                tracing::warn!(error = %error, "Cannot read the queue size; running anyway");
                true
            }
        }
    }

    async fn run(&mut self, id: &str, state: &mut State) -> anyhow::Result<RunReport> {
        let now = Timestamp::now();
        apply_retention(self.config, &self.sinks);
        self.importer.settings.regions = self.regions().await;
        let name = work_name(&self.config.connector.name, now);
        tracing::info!(work = %name, "Initiate work");
        let work_id = self
            .client
            .work_add(id, &name, false)
            .await
            .context("cannot open a work")?;
        self.sinks.work_id = Some(work_id.clone());

        let report = run_once(&self.importer, &mut self.sinks, state, &self.store, now).await;
        let message = closing_message(&report, period(self.config));
        tracing::info!(work_id = %work_id, "Reporting work update_processed");
        if let Err(error) = self
            .client
            .work_to_processed(&work_id, &message, !report.succeeded())
            .await
        {
            tracing::error!(error = %error, "Cannot close the work");
        }
        if let StateStore::Platform(pinger) = &self.store {
            pinger.update_info(|info| {
                info.last_run_datetime = Some(opencti::api::info_datetime(now));
                info.next_run_datetime = jiff::SignedDuration::try_from(period(self.config))
                    .ok()
                    .and_then(|d| now.checked_add(d).ok())
                    .map(opencti::api::info_datetime);
            });
        }
        self.health.record(report.succeeded(), now, message);
        self.sinks.work_id = None;
        Ok(report)
    }

    /// The platform's regions (names and aliases); the UN M49 names if the look-up fails.
    async fn regions(&self) -> Regions {
        match self.client.regions().await {
            Ok(nodes) => {
                let names = nodes.iter().flat_map(|n| {
                    std::iter::once(n.name.as_str())
                        .chain(n.x_opencti_aliases.iter().map(String::as_str))
                });
                Regions::from_names(names)
            }
            Err(error) => {
                let error = error.to_string();
                tracing::warn!(
                    error,
                    "Cannot read the platform's regions; using UN M49 names"
                );
                Regions::m49()
            }
        }
    }
}

/// `send_to_directory_retention`: old bundle files go, at the start of each run.
fn apply_retention(config: &Config, sinks: &Sinks) {
    if let Some(directory) = &sinks.directory {
        let days = u64::from(config.connector.send_to_directory_retention);
        let deleted = directory.apply_retention(days, SystemTime::now());
        if deleted > 0 {
            tracing::info!(deleted, days, "Old bundle files deleted");
        }
    }
}
