//! The table of every setting: YAML path, environment variable, kind, default, description.
//!
//! Loading ([`super::Config::load`]) resolves each entry of this table, and the README's
//! configuration table ([`super::markdown_table`]) and a JSON schema are generated from it,
//! so the documentation cannot drift from what the program reads. Defaults are written as
//! text and go through the same parser as a user's value.

use std::fmt;

/// What a setting holds, which decides how its text is read and what an error says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Kind {
    /// Free text, trimmed.
    Text,
    /// Text kept exactly as given and never printed.
    Secret,
    /// `true`/`false`, `yes`/`no`, `1`/`0` in any case, or a YAML boolean.
    Bool,
    /// A whole number within `min..=max`.
    Integer { min: i64, max: i64 },
    /// Comma-separated text or a YAML list; items are trimmed, empty items dropped.
    List,
    /// An `http://` or `https://` URL; a trailing `/` is dropped.
    Url,
    /// A file or directory path.
    Path,
    /// A TLP level (TLP 1.0 and 2.0 names, any case).
    Tlp,
    /// An ISO weekday 1 (Monday) to 7 (Sunday); 0 or empty means every run.
    Weekday,
    /// One or more of the importers `publication`, `master_ioc`, `master_yara`.
    Scopes,
    /// One of a fixed set of words, any case.
    Choice(&'static [&'static str]),
    /// An ISO 8601 duration (`PT12H`, `P1D`) or whole seconds.
    Duration,
    /// A boolean, or the path of a CA bundle (which implies verification).
    TlsVerify,
    /// The path of a PEM file, or the PEM text itself (starting with `-----BEGIN`).
    Pem,
}

impl Kind {
    /// A short name of the kind, for documentation.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Text | Kind::Choice(_) => "text",
            Kind::Secret => "secret",
            Kind::Bool => "boolean",
            Kind::Integer { .. } => "integer",
            Kind::List => "list",
            Kind::Url => "URL",
            Kind::Path => "path",
            Kind::Tlp => "TLP",
            Kind::Weekday => "weekday",
            Kind::Scopes => "scopes",
            Kind::Duration => "duration",
            Kind::TlsVerify => "boolean or path",
            Kind::Pem => "path or PEM",
        }
    }

    /// Whether a value of this kind may never appear in logs, errors or `Debug` output.
    pub fn is_secret(self) -> bool {
        matches!(self, Kind::Secret)
    }

    /// What a valid value looks like, as the end of an "invalid value" message.
    pub fn allowed(self) -> String {
        match self {
            Kind::Text | Kind::Secret | Kind::Path => "text".to_owned(),
            Kind::Bool => "true, false, yes, no, 1, 0 (any case)".to_owned(),
            Kind::Integer { min, max } => format!("a whole number from {min} to {max}"),
            Kind::List => "comma-separated text or a YAML list of text".to_owned(),
            Kind::Url => "an http:// or https:// URL".to_owned(),
            Kind::Tlp => "white, clear, green, amber, amber+strict, red".to_owned(),
            Kind::Weekday => {
                "0 or empty (every run), or an ISO weekday from 1 (Monday) to 7 (Sunday)".to_owned()
            }
            Kind::Scopes => {
                "one or more of publication, master_ioc, master_yara, comma-separated".to_owned()
            }
            Kind::Choice(words) => words.join(", "),
            Kind::Duration => "a positive ISO 8601 duration without years or months (PT12H, P1D), \
                 or whole seconds"
                .to_owned(),
            Kind::TlsVerify => "true, false, yes, no, 1, 0, or the path of a CA bundle".to_owned(),
            Kind::Pem => "a path or PEM text".to_owned(),
        }
    }
}

/// One configuration setting, as the operator sees it.
#[derive(Debug)]
pub struct Setting {
    /// The YAML section: `opencti`, `connector`, `kaspersky` or `mq`.
    pub section: &'static str,
    /// The key inside the section, e.g. `publication_report_type`.
    pub key: &'static str,
    /// `section.key`, the name used in messages and documentation.
    pub path: &'static str,
    /// The environment variable: section and key upper-cased, joined by `_`.
    pub env: &'static str,
    /// How the value is read.
    pub kind: Kind,
    /// The default as text (parsed like a user's value), or `None` for no value.
    pub default: Option<&'static str>,
    /// Whether the `run` command needs a real value (not `ChangeMe`).
    pub required: Required,
    /// One line for the README.
    pub description: &'static str,
}

impl fmt::Display for Setting {
    /// `kaspersky.tlp (KASPERSKY_TLP)`: both names an operator may have used.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.path, self.env)
    }
}

/// When a setting must have a real value, checked by [`super::Config::check_for_run`].
///
/// Loading never requires one, so `convert` and `demo` work without OpenCTI or the portal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Required {
    /// A default or no value is fine.
    No,
    /// The `run` command needs it.
    Yes,
    /// The `run` command needs it when bundles go to the OpenCTI queue
    /// (`connector.send_to_queue`).
    WithQueue,
}

/// The sections, in the order of `config.yml`.
pub const SECTIONS: [&str; 4] = ["opencti", "connector", "kaspersky", "mq"];

/// Declares one `pub static` per setting, named after its environment variable, and the
/// table [`ALL`] holding them in order.
macro_rules! settings {
    ($(
        $env:ident = $section:ident . $key:ident, $kind:expr, $default:expr,
        required: $required:ident, $description:literal;
    )*) => {
        $(
            #[doc = $description]
            pub static $env: Setting = Setting {
                section: stringify!($section),
                key: stringify!($key),
                path: concat!(stringify!($section), ".", stringify!($key)),
                env: stringify!($env),
                kind: $kind,
                default: $default,
                required: Required::$required,
                description: $description,
            };
        )*

        /// Every setting, section by section, in the order of `config.yml.sample`.
        pub static ALL: &[&Setting] = &[$(&$env),*];
    };
}

const PORT: Kind = Kind::Integer { min: 1, max: 65535 };
const DAYS: Kind = Kind::Integer { min: 0, max: 36500 };
const SECONDS: Kind = Kind::Integer {
    min: 1,
    max: 31_536_000,
};
const LOG_LEVELS: &[&str] = &["debug", "info", "warn", "warning", "error"];
const NONE: Option<&str> = None;

settings! {
    OPENCTI_URL = opencti.url, Kind::Url, NONE, required: WithQueue,
        "URL of the OpenCTI platform.";
    OPENCTI_TOKEN = opencti.token, Kind::Secret, NONE, required: WithQueue,
        "API token of the connector's OpenCTI user.";
    OPENCTI_SSL_VERIFY = opencti.ssl_verify, Kind::TlsVerify, Some("true"), required: No,
        "Verify OpenCTI's TLS certificate; or the path of a CA bundle to verify it with.";
    OPENCTI_JSON_LOGGING = opencti.json_logging, Kind::Bool, Some("true"), required: No,
        "Write logs as pycti's JSON lines (`true`) or plain text (`false`). `--log-format` \
         wins over it; when it is not set, a terminal gets text and anything else JSON.";

    CONNECTOR_ID = connector.id, Kind::Text, NONE, required: WithQueue,
        "Unique id of this connector instance in OpenCTI (a UUIDv4).";
    CONNECTOR_TYPE = connector.type, Kind::Choice(&["EXTERNAL_IMPORT"]),
        Some("EXTERNAL_IMPORT"), required: No,
        "Connector type registered in OpenCTI; this connector is an external import.";
    CONNECTOR_NAME = connector.name, Kind::Text, Some("Kaspersky"), required: No,
        "Name shown in OpenCTI and used in work names.";
    CONNECTOR_SCOPE = connector.scope, Kind::List, Some("kaspersky"), required: No,
        "Scope registered in OpenCTI.";
    CONNECTOR_LOG_LEVEL = connector.log_level, Kind::Choice(LOG_LEVELS), Some("error"),
        required: No,
        "Lowest level of log lines written.";
    CONNECTOR_CONFIDENCE_LEVEL = connector.confidence_level,
        Kind::Integer { min: 0, max: 100 }, NONE, required: No,
        "Confidence (0-100) given to the imported objects; none when unset.";
    CONNECTOR_UPDATE_EXISTING_DATA = connector.update_existing_data, Kind::Bool, Some("false"),
        required: No,
        "Ask OpenCTI to overwrite objects it already has.";
    CONNECTOR_RUN_AND_TERMINATE = connector.run_and_terminate, Kind::Bool, Some("false"),
        required: No,
        "Run once and exit (non-zero when the run failed).";
    CONNECTOR_DURATION_PERIOD = connector.duration_period, Kind::Duration, NONE,
        required: No,
        "Time between runs as an ISO 8601 duration (PT12H); overrides interval_sec when set.";
    CONNECTOR_EXPOSE_METRICS = connector.expose_metrics, Kind::Bool, Some("false"),
        required: No,
        "Serve Prometheus metrics.";
    CONNECTOR_METRICS_PORT = connector.metrics_port, PORT, Some("9095"), required: No,
        "Port of the Prometheus metrics endpoint.";
    CONNECTOR_METRICS_NAMESPACE = connector.metrics_namespace, Kind::Text, NONE,
        required: No,
        "Prefix of every metric name, as pycti's namespace (namespace_subsystem_name).";
    CONNECTOR_METRICS_SUBSYSTEM = connector.metrics_subsystem, Kind::Text, NONE,
        required: No,
        "Second prefix of every metric name, after the namespace.";
    CONNECTOR_QUEUE_PROTOCOL = connector.queue_protocol, Kind::Choice(&["amqp", "api"]),
        Some("amqp"), required: No,
        "How bundles reach OpenCTI: its RabbitMQ (amqp) or its HTTP API (api).";
    CONNECTOR_QUEUE_THRESHOLD = connector.queue_threshold,
        Kind::Integer { min: 0, max: 1_000_000_000 }, Some("500"), required: No,
        "Skip a run while the connector's OpenCTI queue holds more than this many MB.";
    CONNECTOR_SEND_TO_QUEUE = connector.send_to_queue, Kind::Bool, Some("true"),
        required: No,
        "Send bundles to OpenCTI.";
    CONNECTOR_SEND_TO_DIRECTORY = connector.send_to_directory, Kind::Bool, Some("false"),
        required: No,
        "Also write bundles as STIX files to send_to_directory_path.";
    CONNECTOR_SEND_TO_DIRECTORY_PATH = connector.send_to_directory_path, Kind::Path, NONE,
        required: No,
        "Directory for bundle files; needed when send_to_directory is true.";
    CONNECTOR_SEND_TO_DIRECTORY_RETENTION = connector.send_to_directory_retention, DAYS,
        Some("7"), required: No,
        "Days to keep bundle files in that directory; 0 keeps them for ever.";

    KASPERSKY_BASE_URL = kaspersky.base_url, Kind::Url, Some("https://tip.kaspersky.com"),
        required: No,
        "Base URL of the Kaspersky Threat Intelligence Portal.";
    KASPERSKY_USER = kaspersky.user, Kind::Text, Some("ChangeMe"), required: Yes,
        "Portal user name issued by Kaspersky.";
    KASPERSKY_PASSWORD = kaspersky.password, Kind::Secret, Some("ChangeMe"), required: Yes,
        "Portal password issued by Kaspersky.";
    KASPERSKY_CERTIFICATE_PATH = kaspersky.certificate_path, Kind::Path, Some("ChangeMe"),
        required: Yes,
        "PEM file with the client certificate and its private key issued by Kaspersky.";
    KASPERSKY_TLP = kaspersky.tlp, Kind::Tlp, Some("Amber"), required: No,
        "TLP marking of everything imported.";
    KASPERSKY_CREATE_OBSERVABLES = kaspersky.create_observables, Kind::Bool, Some("true"),
        required: No,
        "Make observables from IoCs (publication and master_ioc scopes).";
    KASPERSKY_CREATE_INDICATORS = kaspersky.create_indicators, Kind::Bool, Some("true"),
        required: No,
        "Make indicators from IoCs (publication and master_ioc scopes).";
    KASPERSKY_SCOPES = kaspersky.scopes, Kind::Scopes,
        Some("publication,master_ioc,master_yara"), required: No,
        "Which data to import: publication, master_ioc, master_yara.";
    KASPERSKY_PUBLICATION_START_TIMESTAMP = kaspersky.publication_start_timestamp,
        Kind::Integer { min: 0, max: 253_402_300_799 }, Some("0"), required: No,
        "On the first run, import publications updated after this Unix time (seconds, UTC); \
         0 imports everything, which is a lot.";
    KASPERSKY_PUBLICATION_REPORT_TYPE = kaspersky.publication_report_type, Kind::Text,
        Some("threat-report"), required: No,
        "Report type of imported publications.";
    KASPERSKY_PUBLICATION_REPORT_STATUS = kaspersky.publication_report_status, Kind::Text,
        Some("New"), required: No,
        "Workflow status of imported publication reports.";
    KASPERSKY_PUBLICATION_REPORT_IGNORE_PREFIXES = kaspersky.publication_report_ignore_prefixes,
        Kind::List, Some("Monthly APT activity report"), required: No,
        "Publications whose name starts with one of these are skipped.";
    KASPERSKY_PUBLICATION_EXCLUDED_IOC_INDICATOR_TYPES =
        kaspersky.publication_excluded_ioc_indicator_types, Kind::List,
        Some("Md5sum,FileItem/Sha1sum"), required: No,
        "OpenIOC search terms whose publication IoCs are skipped.";
    KASPERSKY_MASTER_IOC_FETCH_WEEKDAY = kaspersky.master_ioc_fetch_weekday, Kind::Weekday,
        Some("1"), required: No,
        "ISO weekday (1 = Monday) on which the Master IoC file is fetched; 0 or empty: every run.";
    KASPERSKY_MASTER_IOC_EXCLUDED_IOC_INDICATOR_TYPES =
        kaspersky.master_ioc_excluded_ioc_indicator_types, Kind::List,
        Some("md5Hash,sha1Hash"), required: No,
        "Master IoC indicator types that are skipped.";
    KASPERSKY_MASTER_IOC_REPORT_TYPE = kaspersky.master_ioc_report_type, Kind::Text,
        Some("threat-report"), required: No,
        "Report type of Master IoC reports.";
    KASPERSKY_MASTER_IOC_REPORT_STATUS = kaspersky.master_ioc_report_status, Kind::Text,
        Some("New"), required: No,
        "Workflow status of Master IoC reports.";
    KASPERSKY_MASTER_YARA_FETCH_WEEKDAY = kaspersky.master_yara_fetch_weekday, Kind::Weekday,
        Some("2"), required: No,
        "ISO weekday (1 = Monday) on which the Master YARA file is fetched; 0 or empty: every \
         run.";
    KASPERSKY_MASTER_YARA_INCLUDE_REPORT = kaspersky.master_yara_include_report, Kind::Bool,
        Some("true"), required: No,
        "Import the reports that Master YARA rules belong to, not only the rules.";
    KASPERSKY_MASTER_YARA_REPORT_TYPE = kaspersky.master_yara_report_type, Kind::Text,
        Some("threat-report"), required: No,
        "Report type of Master YARA reports.";
    KASPERSKY_MASTER_YARA_REPORT_STATUS = kaspersky.master_yara_report_status, Kind::Text,
        Some("New"), required: No,
        "Workflow status of Master YARA reports.";
    KASPERSKY_INTERVAL_SEC = kaspersky.interval_sec, SECONDS, Some("43200"), required: No,
        "Seconds between runs.";
    KASPERSKY_CA_PATH = kaspersky.ca_path, Kind::Path, NONE, required: No,
        "PEM file of CA certificates to verify the portal with, besides the system's.";
    KASPERSKY_SSL_VERIFY = kaspersky.ssl_verify, Kind::Bool, Some("true"), required: No,
        "Verify the portal's TLS certificate.";
    KASPERSKY_MAX_PAYLOAD_BYTES = kaspersky.max_payload_bytes,
        Kind::Integer { min: 1024, max: 17_179_869_184 }, Some("536870912"), required: No,
        "Largest decoded payload (PDF, IoC file, master file) accepted, in bytes.";
    KASPERSKY_CONNECT_TIMEOUT_SEC = kaspersky.connect_timeout_sec, SECONDS, Some("10"),
        required: No,
        "Seconds to wait for a connection to the portal.";
    KASPERSKY_READ_TIMEOUT_SEC = kaspersky.read_timeout_sec, SECONDS, Some("300"),
        required: No,
        "Seconds to wait for a portal response to complete.";
    KASPERSKY_MAX_RETRIES = kaspersky.max_retries, Kind::Integer { min: 0, max: 100 },
        Some("5"), required: No,
        "Retries of a portal request after a transient failure (429, 5xx, timeout).";
    KASPERSKY_RETRY_MAX_DELAY_SEC = kaspersky.retry_max_delay_sec, SECONDS, Some("300"),
        required: No,
        "Longest wait before a retry, capping backoff and Retry-After.";
    KASPERSKY_PUBLICATION_CONCURRENCY = kaspersky.publication_concurrency,
        Kind::Integer { min: 1, max: 16 }, Some("1"), required: No,
        "Publications fetched from the portal at the same time.";

    MQ_HOST = mq.host, Kind::Text, NONE, required: No,
        "RabbitMQ host, instead of the one OpenCTI gives.";
    MQ_PORT = mq.port, PORT, NONE, required: No,
        "RabbitMQ port, instead of the one OpenCTI gives.";
    MQ_VHOST = mq.vhost, Kind::Text, NONE, required: No,
        "RabbitMQ virtual host, instead of the one OpenCTI gives.";
    MQ_USE_SSL = mq.use_ssl, Kind::Bool, NONE, required: No,
        "Use TLS to RabbitMQ, instead of what OpenCTI says.";
    MQ_USER = mq.user, Kind::Text, NONE, required: No,
        "RabbitMQ user, instead of the one OpenCTI gives.";
    MQ_PASS = mq.pass, Kind::Secret, NONE, required: No,
        "RabbitMQ password, instead of the one OpenCTI gives.";
    MQ_USE_SSL_CA = mq.use_ssl_ca, Kind::Pem, NONE, required: No,
        "CA certificates to verify RabbitMQ with (path or PEM).";
    MQ_USE_SSL_CERT = mq.use_ssl_cert, Kind::Pem, NONE, required: No,
        "Client certificate for RabbitMQ (path or PEM).";
    MQ_USE_SSL_KEY = mq.use_ssl_key, Kind::Pem, NONE, required: No,
        "Private key of that client certificate (path or PEM).";
    MQ_USE_SSL_PASSPHRASE = mq.use_ssl_passphrase, Kind::Secret, NONE, required: No,
        "Passphrase of that private key.";
    MQ_USE_SSL_REJECT_UNAUTHORIZED = mq.use_ssl_reject_unauthorized, Kind::Bool, Some("true"),
        required: No,
        "Verify RabbitMQ's TLS certificate.";
}

/// The setting at `section.key`, if there is one.
pub fn find(section: &str, key: &str) -> Option<&'static Setting> {
    ALL.iter()
        .copied()
        .find(|s| s.section == section && s.key == key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_names_are_section_and_key_upper_cased() {
        for setting in ALL {
            let expected = format!("{}_{}", setting.section, setting.key).to_ascii_uppercase();
            assert_eq!(setting.env, expected, "{}", setting.path);
            assert!(SECTIONS.contains(&setting.section), "{}", setting.path);
        }
    }

    #[test]
    fn paths_are_unique() {
        let mut paths: Vec<_> = ALL.iter().map(|s| s.path).collect();
        paths.sort_unstable();
        paths.dedup();
        assert_eq!(paths.len(), ALL.len());
    }

    #[test]
    fn find_knows_underscored_keys() {
        let setting = find("kaspersky", "publication_report_type").unwrap();
        assert_eq!(setting.env, "KASPERSKY_PUBLICATION_REPORT_TYPE");
        assert!(find("kaspersky", "publication").is_none());
    }
}
