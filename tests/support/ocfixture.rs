//! End-to-end fixture: the real `connector-kaspersky run` as a child process against the
//! TIP simulator, the OpenCTI stand-in and the real RabbitMQ broker.
//!
//! A [`Fixture`] owns one simulator, one stand-in (with a queue prefix of its own) and a
//! connection to the broker; it builds the child's environment from scratch, reads the
//! push queue back, and deletes that queue when dropped, even when the test panicked.
//! Tests use it through `#[path = "support/ocfixture.rs"] mod ocfixture;` together with
//! `opencti_env.rs` (broker access) and, for cuts, `proxy.rs`.

#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use connector_kaspersky::opencti::split::JsonObject;
use connector_kaspersky::simulator::opencti::{
    RegionRecord, StandIn, StandInBroker, StandInConfig,
};
use connector_kaspersky::simulator::tip::{
    CredentialFiles, GenerateParams, SimulatorOptions, TipSimulator, World, generate, serve,
};
use connector_kaspersky::tip::Endpoint;
use lapin::options::{BasicGetOptions, QueueDeclareOptions, QueueDeleteOptions};
use lapin::types::FieldTable;
use serde_json::{Map, Value};
use tempfile::TempDir;

use super::opencti_env;
use super::proxy::TcpProxy;

/// The longest a child run may take before the test kills it and fails.
pub const RUN_LIMIT: Duration = Duration::from_secs(120);

/// The Python connector's four state keys.
pub const PYTHON_KEYS: [&str; 4] = [
    "latest_run_timestamp",
    "latest_publication_timestamp",
    "latest_master_ioc_timestamp",
    "latest_master_yara_timestamp",
];

/// `kaspersky.publication_report_ignore_prefixes` by default.
pub const DEFAULT_IGNORED_PREFIX: &str = "Monthly APT activity report";

/// The connector binary under test.
pub fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_connector-kaspersky"))
}

/// True under `CI=true`, where nothing may be skipped.
pub fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// The default generated world (8 publications, 300 Master IoC rows, 40 YARA rules).
pub fn default_world() -> World {
    generate(&GenerateParams::default())
}

/// A few regions, so that the `Locations` look-up returns something to classify with.
pub fn regions() -> Vec<RegionRecord> {
    ["Europe", "Asia", "Africa", "Middle East", "Latin America"]
        .iter()
        .enumerate()
        .map(|(i, name)| RegionRecord {
            id: format!("region-{i}"),
            name: (*name).to_owned(),
            aliases: Vec::new(),
        })
        .collect()
}

/// How to start a [`Fixture`]; `Default` is the default world with the usual stand-in.
pub struct Setup {
    pub world: World,
    pub simulator: SimulatorOptions,
    /// The stand-in's configuration; its `prefix` and broker are set by the fixture.
    pub stand_in: StandInConfig,
    /// Start the stand-in only when the test says so ([`Fixture::start_stand_in_on`]).
    pub late_stand_in: bool,
}

impl Default for Setup {
    fn default() -> Self {
        Setup {
            world: default_world(),
            simulator: SimulatorOptions::default(),
            stand_in: StandInConfig {
                regions: regions(),
                report_statuses: Some(vec!["New".into(), "Analyzed".into()]),
                ..StandInConfig::default()
            },
            late_stand_in: false,
        }
    }
}

/// Deletes a queue on drop, from a thread of its own so that it also works while a test
/// unwinds from a panic (no async in `Drop`).
struct QueueGuard {
    queue: String,
}

impl Drop for QueueGuard {
    fn drop(&mut self) {
        let queue = self.queue.clone();
        let deleting = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime for queue clean-up");
            runtime.block_on(async {
                let url = opencti_env::amqp_url();
                let connect =
                    lapin::Connection::connect(&url, lapin::ConnectionProperties::default());
                let Ok(Ok(connection)) =
                    tokio::time::timeout(Duration::from_secs(5), connect).await
                else {
                    return;
                };
                if let Ok(channel) = connection.create_channel().await {
                    let _ = channel
                        .queue_delete(queue.as_str().into(), QueueDeleteOptions::default())
                        .await;
                }
                let _ = connection.close(200, "OK".into()).await;
            });
        });
        let _ = deleting.join();
    }
}

/// One message read back from the push queue.
#[derive(Clone, Debug)]
pub struct QueueMessage {
    /// The body, keys in wire order.
    pub body: JsonObject,
    /// `content`, base64-decoded: the split bundle's JSON text.
    pub content: Vec<u8>,
    /// `content` parsed.
    pub bundle: Value,
    pub delivery_mode: Option<u8>,
    pub content_encoding: Option<String>,
    pub content_type: Option<String>,
}

impl QueueMessage {
    fn read(message: &lapin::message::BasicGetMessage) -> QueueMessage {
        let body: JsonObject =
            serde_json::from_slice(&message.delivery.data).expect("a JSON message body");
        let encoded = body
            .get("content")
            .and_then(Value::as_str)
            .expect("a string content");
        let content = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .expect("content is standard base64");
        let bundle = serde_json::from_slice(&content).expect("content is a JSON bundle");
        let properties = &message.delivery.properties;
        QueueMessage {
            body,
            content,
            bundle,
            delivery_mode: *properties.delivery_mode(),
            content_encoding: properties
                .content_encoding()
                .as_ref()
                .map(|s| s.to_string()),
            content_type: properties.content_type().as_ref().map(|s| s.to_string()),
        }
    }

    /// The one object of the split bundle.
    pub fn object(&self) -> &Value {
        &self.bundle["objects"][0]
    }

    /// The id of that object.
    pub fn object_id(&self) -> &str {
        self.object()["id"].as_str().expect("an object id")
    }
}

/// The object ids of some messages.
pub fn object_ids(messages: &[QueueMessage]) -> BTreeSet<String> {
    messages.iter().map(|m| m.object_id().to_owned()).collect()
}

/// What a finished child run left.
#[derive(Debug)]
pub struct RunOutput {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl RunOutput {
    /// Panics with the output unless the run exited 0.
    pub fn assert_success(&self) {
        assert!(
            self.status.success(),
            "the run failed ({}):\n{}\n{}",
            self.status,
            self.stdout,
            tail(&self.stderr)
        );
    }

    /// The JSON log lines of stderr (other lines are left out).
    pub fn log_lines(&self) -> Vec<Value> {
        self.stderr
            .lines()
            .filter_map(|line| serde_json::from_str(line).ok())
            .collect()
    }

    /// Whether some log line has this message.
    pub fn logged(&self, message: &str) -> bool {
        self.log_lines().iter().any(|l| l["message"] == message)
    }
}

/// The last lines of a long text, for failure messages.
pub fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(60)..].join("\n")
}

/// A child run in progress; killed if dropped before it ended.
pub struct Running {
    child: Child,
    stdout: Arc<Mutex<Vec<u8>>>,
    stderr: Arc<Mutex<Vec<u8>>>,
    readers: Vec<std::thread::JoinHandle<()>>,
    done: bool,
}

impl Running {
    fn spawn(mut command: Command) -> Running {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the connector binary starts");
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let readers = vec![
            collect(
                child.stdout.take().expect("piped stdout"),
                Arc::clone(&stdout),
            ),
            collect(
                child.stderr.take().expect("piped stderr"),
                Arc::clone(&stderr),
            ),
        ];
        Running {
            child,
            stdout,
            stderr,
            readers,
            done: false,
        }
    }

    /// The process id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Standard error so far.
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.stderr.lock().unwrap()).into_owned()
    }

    /// Whether the process has ended.
    pub fn has_exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }

    /// Waits (without blocking the runtime) until stderr has a log line with `message`,
    /// or until `limit`; false if it never came.
    pub async fn wait_for_log(&mut self, message: &str, limit: Duration) -> bool {
        let needle = format!("\"message\":\"{message}\"");
        let deadline = tokio::time::Instant::now() + limit;
        while tokio::time::Instant::now() < deadline {
            if self.stderr().contains(&needle) {
                return true;
            }
            if self.has_exited() {
                return self.stderr().contains(&needle);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        false
    }

    /// Waits for the end, polling so that the servers of the test keep running; kills
    /// the process and panics after `limit`.
    pub async fn wait(&mut self, limit: Duration) -> RunOutput {
        let deadline = tokio::time::Instant::now() + limit;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("child status") {
                break status;
            }
            if tokio::time::Instant::now() >= deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                self.done = true;
                panic!(
                    "the run did not end within {limit:?}:\n{}",
                    tail(&self.stderr())
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        self.done = true;
        for reader in self.readers.drain(..) {
            let _ = reader.join();
        }
        RunOutput {
            status,
            stdout: String::from_utf8_lossy(&self.stdout.lock().unwrap()).into_owned(),
            stderr: String::from_utf8_lossy(&self.stderr.lock().unwrap()).into_owned(),
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if !self.done {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn collect(
    mut source: impl Read + Send + 'static,
    sink: Arc<Mutex<Vec<u8>>>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut buffer = [0u8; 8192];
        while let Ok(n) = source.read(&mut buffer) {
            if n == 0 {
                break;
            }
            sink.lock().unwrap().extend_from_slice(&buffer[..n]);
        }
    })
}

/// A publication of the served world, as the tests need it.
#[derive(Clone, Debug)]
pub struct PublicationInfo {
    pub id: String,
    pub name: String,
    /// `updated`, Unix seconds.
    pub updated: i64,
}

/// The simulator, the stand-in and the broker, ready for `connector-kaspersky run`.
pub struct Fixture {
    pub tip: TipSimulator,
    /// The served world's publications, oldest `updated` first.
    pub publications: Vec<PublicationInfo>,
    stand_in: Option<StandIn>,
    stand_in_config: StandInConfig,
    pub broker: lapin::Connection,
    pub connector_id: String,
    /// The connector's push queue (`<prefix>push_<id>`).
    pub queue: String,
    /// Credentials and the child's working directory.
    pub dir: TempDir,
    files: CredentialFiles,
    _guard: QueueGuard,
}

impl Fixture {
    /// The default setup; `None` (after "skipped: no broker") without a broker.
    pub async fn start(test: &str) -> Option<Fixture> {
        Fixture::start_with(test, Setup::default()).await
    }

    /// A fixture for `test` (which names its queue prefix).
    pub async fn start_with(test: &str, setup: Setup) -> Option<Fixture> {
        let broker = opencti_env::broker().await?;
        let (host, port) = opencti_env::broker_address();
        let prefix = opencti_env::prefix(test);
        let connector_id = uuid::Uuid::new_v4().to_string();
        let queue = format!("{prefix}push_{connector_id}");
        let guard = QueueGuard {
            queue: queue.clone(),
        };

        let mut publications: Vec<PublicationInfo> = setup
            .world
            .publications()
            .iter()
            .map(|p| PublicationInfo {
                id: p.id().to_owned(),
                name: p.name().to_owned(),
                updated: p.updated().as_second(),
            })
            .collect();
        publications.sort_by(|a, b| (a.updated, &a.id).cmp(&(b.updated, &b.id)));
        let tip = serve(setup.world, setup.simulator)
            .await
            .expect("the simulator starts");
        let dir = tempfile::tempdir().expect("a temporary directory");
        let files = tip
            .write_credentials(&dir.path().join("tip"))
            .expect("credentials written");

        let stand_in_config = StandInConfig {
            prefix,
            broker: StandInBroker {
                declare_url: Some(opencti_env::amqp_url()),
                host,
                port,
                ..StandInBroker::default()
            },
            ..setup.stand_in
        };
        let stand_in = if setup.late_stand_in {
            None
        } else {
            Some(
                StandIn::start(stand_in_config.clone())
                    .await
                    .expect("the stand-in starts"),
            )
        };
        Some(Fixture {
            tip,
            publications,
            stand_in,
            stand_in_config,
            broker,
            connector_id,
            queue,
            dir,
            files,
            _guard: guard,
        })
    }

    /// The publications a run fetches, in order: all but those the default
    /// `publication_report_ignore_prefixes` leaves out.
    pub fn fetched_publications(&self) -> Vec<&PublicationInfo> {
        self.publications
            .iter()
            .filter(|p| !p.name.starts_with(DEFAULT_IGNORED_PREFIX))
            .collect()
    }

    /// The stand-in (panics if it was not started yet).
    pub fn stand_in(&self) -> &StandIn {
        self.stand_in.as_ref().expect("the stand-in is started")
    }

    /// Starts the late stand-in on `listener` (see [`Setup::late_stand_in`]).
    pub fn start_stand_in_on(&mut self, listener: tokio::net::TcpListener) {
        self.stand_in = Some(StandIn::serve(listener, self.stand_in_config.clone()));
    }

    /// The environment of a run-and-terminate run against this fixture: nothing from the
    /// test's own environment but `PATH`. `opencti_url` is the stand-in's unless given
    /// (empty while a late stand-in is not started).
    pub fn env(&self, opencti_url: Option<&str>) -> Vec<(String, String)> {
        let url = opencti_url
            .map(str::to_owned)
            .or_else(|| self.stand_in.as_ref().map(StandIn::url))
            .unwrap_or_default();
        let mut env: Vec<(String, String)> = vec![
            ("OPENCTI_URL".into(), url),
            ("OPENCTI_TOKEN".into(), self.stand_in_config.token.clone()),
            ("OPENCTI_JSON_LOGGING".into(), "true".into()),
            ("CONNECTOR_ID".into(), self.connector_id.clone()),
            ("CONNECTOR_RUN_AND_TERMINATE".into(), "true".into()),
            ("CONNECTOR_LOG_LEVEL".into(), "info".into()),
            ("KASPERSKY_MASTER_IOC_FETCH_WEEKDAY".into(), "0".into()),
            ("KASPERSKY_MASTER_YARA_FETCH_WEEKDAY".into(), "0".into()),
            ("KASPERSKY_MAX_RETRIES".into(), "3".into()),
            ("KASPERSKY_RETRY_MAX_DELAY_SEC".into(), "1".into()),
        ];
        env.extend(
            self.tip
                .env_vars(&self.files)
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v)),
        );
        if let Ok(path) = std::env::var("PATH") {
            env.push(("PATH".into(), path));
        }
        env
    }

    /// The command of a run with [`Fixture::env`] and `extra` on top (an empty value
    /// counts as unset for the connector), in the fixture's directory so that no
    /// `config.yml` is picked up.
    pub fn command(&self, extra: &[(&str, &str)]) -> Command {
        let mut command = Command::new(binary());
        command
            .arg("run")
            .env_clear()
            .current_dir(self.dir.path())
            .envs(self.env(None));
        for (key, value) in extra {
            command.env(key, value);
        }
        command
    }

    /// Starts a run.
    pub fn spawn(&self, extra: &[(&str, &str)]) -> Running {
        Running::spawn(self.command(extra))
    }

    /// Starts `command` (for runs that need an environment of their own).
    pub fn spawn_command(&self, command: Command) -> Running {
        Running::spawn(command)
    }

    /// Runs to the end.
    pub async fn run(&self, extra: &[(&str, &str)]) -> RunOutput {
        self.spawn(extra).wait(RUN_LIMIT).await
    }

    /// `MQ_HOST`/`MQ_PORT` through a proxy the test can cut.
    pub async fn broker_proxy(&self) -> TcpProxy {
        let (host, port) = opencti_env::broker_address();
        let target: SocketAddr = tokio::net::lookup_host((host.as_str(), port))
            .await
            .expect("the broker's address resolves")
            .next()
            .expect("one address");
        TcpProxy::start(target).await
    }

    /// Every message now in the push queue, taken off it.
    pub async fn drain(&self) -> Vec<QueueMessage> {
        let channel = self.broker.create_channel().await.expect("a channel");
        let mut messages = Vec::new();
        while let Some(message) = channel
            .basic_get(self.queue.as_str().into(), BasicGetOptions { no_ack: true })
            .await
            .expect("basic_get on the push queue")
        {
            messages.push(QueueMessage::read(&message));
        }
        let _ = channel.close(200, "OK".into()).await;
        messages
    }

    /// Messages now in the push queue (0 before the queue exists).
    pub async fn queue_depth(&self) -> u32 {
        let Ok(channel) = self.broker.create_channel().await else {
            return 0;
        };
        let passive = QueueDeclareOptions {
            passive: true,
            ..QueueDeclareOptions::default()
        };
        let depth = channel
            .queue_declare(self.queue.as_str().into(), passive, FieldTable::default())
            .await
            .map_or(0, |q| q.message_count());
        let _ = channel.close(200, "OK".into()).await;
        depth
    }

    /// The state the stand-in holds for the connector, parsed (`None`: no state).
    pub fn state(&self) -> Option<Map<String, Value>> {
        let text = self.stand_in().connector_state(&self.connector_id)?;
        match serde_json::from_str(&text) {
            Ok(Value::Object(map)) => Some(map),
            _ => None,
        }
    }

    /// The client PEM (certificate and key) the connector uses.
    pub fn certificate_path(&self) -> &Path {
        &self.files.certificate_path
    }
}

/// Requests so far to each endpoint of a simulator.
pub fn request_counts(tip: &TipSimulator) -> BTreeMap<&'static str, u64> {
    Endpoint::ALL
        .into_iter()
        .map(|endpoint| (endpoint.name(), tip.requests(endpoint)))
        .collect()
}

/// A state with the times of the run itself blanked out (`"<time>"`), so that two runs
/// of one world compare equal key for key.
pub fn comparable_state(state: &Map<String, Value>) -> Map<String, Value> {
    let time = || Value::String("<time>".into());
    state
        .iter()
        .map(|(key, value)| {
            let value = match key.as_str() {
                "latest_run_timestamp"
                | "latest_master_ioc_timestamp"
                | "latest_master_yara_timestamp" => time(),
                "kaspersky_master_yara_first_seen" => match value {
                    Value::Object(seen) => {
                        Value::Object(seen.keys().map(|k| (k.clone(), time())).collect())
                    }
                    other => other.clone(),
                },
                _ => value.clone(),
            };
            (key.clone(), value)
        })
        .collect()
}

/// Runs the OASIS validator on each decoded bundle; `false` (after saying so) when the
/// virtual environment is missing, which fails under `CI=true`.
pub fn validate_with_oasis(bundles: &[&[u8]]) -> bool {
    let validator = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/stix2_validator");
    if !validator.exists() {
        assert!(
            !under_ci(),
            "CI=true and no .venv: scripts/test prepares it"
        );
        eprintln!("skipped: no .venv (run scripts/test)");
        return false;
    }
    let dir = tempfile::tempdir().expect("a temporary directory");
    for (index, bundle) in bundles.iter().enumerate() {
        std::fs::write(dir.path().join(format!("{index:05}.json")), bundle).expect("written");
    }
    let output = Command::new(&validator)
        .arg("--version")
        .arg("2.1")
        .arg(dir.path())
        .output()
        .expect("the validator runs");
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the OASIS validator refused some bundles:\n{}",
        tail(&report)
    );
    true
}

/// What a run without faults delivers: the oracle of the fault tests.
#[derive(Clone, Debug)]
pub struct Reference {
    /// Every object id that reached the queue.
    pub ids: BTreeSet<String>,
    /// How many messages reached it (= the expectations of the work).
    pub messages: usize,
    /// The state stored at the end.
    pub state: Map<String, Value>,
    /// Requests the clean run made to each TIP endpoint.
    pub requests: BTreeMap<&'static str, u64>,
}

impl Reference {
    /// A clean run of `world` on a fixture of its own (queue deleted afterwards); `None`
    /// without a broker.
    pub async fn of(test: &str, world: World) -> Option<Reference> {
        let setup = Setup {
            world,
            ..Setup::default()
        };
        let fixture = Fixture::start_with(&format!("{test}-ref"), setup).await?;
        fixture.run(&[]).await.assert_success();
        let messages = fixture.drain().await;
        assert!(!messages.is_empty(), "the clean run delivered nothing");
        Some(Reference {
            ids: object_ids(&messages),
            messages: messages.len(),
            state: fixture.state().expect("the clean run stored a state"),
            requests: request_counts(&fixture.tip),
        })
    }

    /// The clean run of the default world, made once per test binary and shared by its
    /// tests; `None` without a broker.
    pub async fn default_world() -> Option<Reference> {
        static REFERENCE: tokio::sync::OnceCell<Option<Reference>> =
            tokio::sync::OnceCell::const_new();
        let reference = REFERENCE
            .get_or_init(|| Reference::of("reference", default_world()))
            .await
            .clone();
        if reference.is_none() {
            eprintln!("skipped: no broker");
        }
        reference
    }

    /// Requests to `endpoint` in the clean run.
    pub fn requests(&self, endpoint: Endpoint) -> u64 {
        self.requests[endpoint.name()]
    }

    /// Panics unless `ids` holds every object of the clean run (and nothing else).
    pub fn assert_all_delivered(&self, ids: &BTreeSet<String>) {
        let missing: Vec<&String> = self.ids.difference(ids).collect();
        let extra: Vec<&String> = ids.difference(&self.ids).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "{} objects missing ({:?}...), {} unexpected ({:?}...)",
            missing.len(),
            missing.iter().take(5).collect::<Vec<_>>(),
            extra.len(),
            extra.iter().take(5).collect::<Vec<_>>()
        );
    }

    /// Panics unless `state` holds what the clean run stored, apart from run times, and
    /// carries the four Python keys.
    pub fn assert_same_state(&self, state: &Map<String, Value>) {
        for key in PYTHON_KEYS {
            assert!(
                state.get(key).is_some_and(Value::is_i64),
                "{key} missing or not an integer in {state:?}"
            );
        }
        assert_eq!(comparable_state(state), comparable_state(&self.state));
    }
}
