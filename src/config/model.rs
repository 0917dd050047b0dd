//! The typed configuration the rest of the program reads.
//!
//! Field names follow the YAML keys (see [`super::settings`] for defaults and
//! descriptions); durations given in seconds become [`Duration`]s and drop the `_sec`.

use std::path::PathBuf;
use std::time::Duration;

use super::Secret;
use super::values::{LogLevel, PemSource, QueueProtocol, Scopes, TlsVerify};
use crate::stix::Tlp;

/// The whole configuration, validated. `Debug` never shows a secret.
#[derive(Clone, Debug)]
pub struct Config {
    pub opencti: OpenCtiConfig,
    pub connector: ConnectorConfig,
    pub kaspersky: KasperskyConfig,
    pub mq: MqConfig,
    /// Paths in `config.yml` that no setting reads (`connector.auto`, `s3`, typos): worth
    /// a warning in the log, not a refusal, since pycti's files may carry them.
    pub ignored_keys: Vec<String>,
}

/// The `opencti:` section: where the platform is.
#[derive(Clone, Debug)]
pub struct OpenCtiConfig {
    /// Base URL without a trailing `/`; needed only when sending to the OpenCTI queue,
    /// which [`Config::check_for_run`] checks.
    pub url: Option<String>,
    /// API token; needed like `url`.
    pub token: Option<Secret>,
    /// TLS verification of the platform; on by default (unlike pycti).
    pub ssl_verify: TlsVerify,
    /// JSON log lines; default true.
    pub json_logging: bool,
    /// Whether `json_logging` was given (environment or file) rather than defaulted: only
    /// a given value overrides text lines on a terminal
    /// ([`crate::runtime::logging::LogFormat::choose`]).
    pub json_logging_set: bool,
}

/// The `connector:` section: identity in OpenCTI, scheduling, delivery.
#[derive(Clone, Debug)]
pub struct ConnectorConfig {
    /// Instance id registered in OpenCTI; needed when sending to the OpenCTI queue.
    /// (`connector.type` is checked to be `EXTERNAL_IMPORT` and not kept.)
    pub id: Option<String>,
    /// Default `Kaspersky`.
    pub name: String,
    /// Default `["kaspersky"]`.
    pub scope: Vec<String>,
    /// Default [`LogLevel::Error`].
    pub log_level: LogLevel,
    /// 0..=100, none by default.
    pub confidence_level: Option<u8>,
    /// Default false.
    pub update_existing_data: bool,
    /// Default false.
    pub run_and_terminate: bool,
    /// Time between runs when set (positive, no years or months); else `interval_sec`.
    pub duration_period: Option<Duration>,
    /// Default false.
    pub expose_metrics: bool,
    /// Default 9095.
    pub metrics_port: u16,
    /// `connector.metrics_namespace`: prefix of every metric name.
    pub metrics_namespace: Option<String>,
    /// `connector.metrics_subsystem`: second prefix of every metric name.
    pub metrics_subsystem: Option<String>,
    /// Default [`QueueProtocol::Amqp`].
    pub queue_protocol: QueueProtocol,
    /// MB in the connector's queue above which runs are skipped; default 500.
    pub queue_threshold: u64,
    /// Default true.
    pub send_to_queue: bool,
    /// Default false; when true, `send_to_directory_path` is set (checked at load).
    pub send_to_directory: bool,
    pub send_to_directory_path: Option<PathBuf>,
    /// Days; 0 keeps files for ever; default 7.
    pub send_to_directory_retention: u32,
}

/// The `kaspersky:` section: the portal, what to import and how.
#[derive(Clone, Debug)]
pub struct KasperskyConfig {
    /// Without a trailing `/`; default `https://tip.kaspersky.com`.
    pub base_url: String,
    pub user: String,
    pub password: Secret,
    /// PEM with the client certificate and its key. Not opened at load: `ChangeMe` in the
    /// sample loads, and [`Config::check_for_run`] refuses it.
    pub certificate_path: PathBuf,
    /// Default [`Tlp::Amber`].
    pub tlp: Tlp,
    pub create_observables: bool,
    pub create_indicators: bool,
    /// Never empty; default all three.
    pub scopes: Scopes,
    /// Unix seconds, default 0.
    pub publication_start_timestamp: i64,
    pub publication_report_type: String,
    /// Free text here; resolved against the platform's workflow later.
    pub publication_report_status: String,
    pub publication_report_ignore_prefixes: Vec<String>,
    pub publication_excluded_ioc_indicator_types: Vec<String>,
    /// ISO weekday 1 (Monday) ..= 7; `None` fetches on every run. Default `Some(1)`.
    pub master_ioc_fetch_weekday: Option<u8>,
    pub master_ioc_excluded_ioc_indicator_types: Vec<String>,
    pub master_ioc_report_type: String,
    pub master_ioc_report_status: String,
    /// As `master_ioc_fetch_weekday`; default `Some(2)`.
    pub master_yara_fetch_weekday: Option<u8>,
    pub master_yara_include_report: bool,
    pub master_yara_report_type: String,
    pub master_yara_report_status: String,
    /// `interval_sec`; default 12 hours.
    pub interval: Duration,
    /// Extra CA certificates for the portal.
    pub ca_path: Option<PathBuf>,
    /// Default true.
    pub ssl_verify: bool,
    /// Default 512 MiB.
    pub max_payload_bytes: u64,
    /// `connect_timeout_sec`; default 10 s.
    pub connect_timeout: Duration,
    /// `read_timeout_sec`; default 300 s.
    pub read_timeout: Duration,
    /// Default 5.
    pub max_retries: u32,
    /// `retry_max_delay_sec`: cap of backoff and `Retry-After`; default 300 s.
    pub retry_max_delay: Duration,
    /// 1..=16, default 1.
    pub publication_concurrency: usize,
}

/// The `mq:` section: overrides of the RabbitMQ coordinates OpenCTI hands out. `None`
/// keeps the platform's value.
#[derive(Clone, Debug)]
pub struct MqConfig {
    pub host: Option<String>,
    pub port: Option<u16>,
    pub vhost: Option<String>,
    pub use_ssl: Option<bool>,
    pub user: Option<String>,
    pub pass: Option<Secret>,
    pub use_ssl_ca: Option<PemSource>,
    pub use_ssl_cert: Option<PemSource>,
    pub use_ssl_key: Option<PemSource>,
    pub use_ssl_passphrase: Option<Secret>,
    /// Verify the broker's certificate; default true (unlike pycti).
    pub use_ssl_reject_unauthorized: bool,
}
