//! The configuration as an operator meets it: files, environment, defaults, errors, and
//! the sample files shipped with the project.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::time::Duration;

use connector_kaspersky::config::{
    Config, ConfigError, LogLevel, PemSource, QueueProtocol, Scope, TlsVerify, markdown_table,
    settings,
};
use connector_kaspersky::stix::Tlp;
use connector_kaspersky::testdata;

/// Loads `yaml` (when not empty) with the environment `env`.
fn load(yaml: &str, env: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let env: HashMap<String, String> = env
        .iter()
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect();
    let lookup = |name: &str| env.get(name).cloned();
    if yaml.is_empty() {
        return Config::load(None, lookup);
    }
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(yaml.as_bytes()).unwrap();
    Config::load(Some(file.path()), lookup)
}

fn error(yaml: &str, env: &[(&str, &str)]) -> String {
    let message = load(yaml, env).unwrap_err().to_string();
    assert!(!message.contains('\n'), "one line: {message}");
    message
}

/// Why `check_for_run` refuses the configuration loaded from `env` alone.
fn run_error(env: &[(&str, &str)]) -> String {
    load("", env)
        .unwrap()
        .check_for_run()
        .unwrap_err()
        .to_string()
}

fn project_file(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(name)
}

/// The defaults of the Python connector's documented table (`reference/seed.md`).
const SEED_DEFAULTS: [(&str, &str); 22] = [
    ("KASPERSKY_BASE_URL", "https://tip.kaspersky.com"),
    ("KASPERSKY_USER", "ChangeMe"),
    ("KASPERSKY_PASSWORD", "ChangeMe"),
    ("KASPERSKY_CERTIFICATE_PATH", "ChangeMe"),
    ("KASPERSKY_TLP", "Amber"),
    ("KASPERSKY_CREATE_OBSERVABLES", "true"),
    ("KASPERSKY_CREATE_INDICATORS", "true"),
    ("KASPERSKY_SCOPES", "publication,master_ioc,master_yara"),
    ("KASPERSKY_PUBLICATION_START_TIMESTAMP", "0"),
    ("KASPERSKY_PUBLICATION_REPORT_TYPE", "threat-report"),
    ("KASPERSKY_PUBLICATION_REPORT_STATUS", "New"),
    (
        "KASPERSKY_PUBLICATION_REPORT_IGNORE_PREFIXES",
        "Monthly APT activity report",
    ),
    (
        "KASPERSKY_PUBLICATION_EXCLUDED_IOC_INDICATOR_TYPES",
        "Md5sum,FileItem/Sha1sum",
    ),
    ("KASPERSKY_MASTER_IOC_FETCH_WEEKDAY", "1"),
    (
        "KASPERSKY_MASTER_IOC_EXCLUDED_IOC_INDICATOR_TYPES",
        "md5Hash,sha1Hash",
    ),
    ("KASPERSKY_MASTER_IOC_REPORT_TYPE", "threat-report"),
    ("KASPERSKY_MASTER_IOC_REPORT_STATUS", "New"),
    ("KASPERSKY_MASTER_YARA_FETCH_WEEKDAY", "2"),
    ("KASPERSKY_MASTER_YARA_INCLUDE_REPORT", "true"),
    ("KASPERSKY_MASTER_YARA_REPORT_TYPE", "threat-report"),
    ("KASPERSKY_MASTER_YARA_REPORT_STATUS", "New"),
    ("KASPERSKY_INTERVAL_SEC", "43200"),
];

fn default_of(env: &str) -> Option<&'static str> {
    let setting = settings().iter().find(|s| s.env == env);
    setting
        .unwrap_or_else(|| panic!("{env} is not a setting"))
        .default
}

#[test]
fn defaults_are_those_of_the_seed_table() {
    for (env, default) in SEED_DEFAULTS {
        assert_eq!(default_of(env), Some(default), "{env}");
    }
}

/// The same, read from the seed document itself when the shared references are there.
#[test]
fn defaults_match_the_seed_document() {
    let Some(path) = testdata::shared("reference/seed.md") else {
        return;
    };
    let text = std::fs::read_to_string(path).unwrap();
    let mut rows = 0;
    for line in text.lines().filter(|line| line.starts_with("| `")) {
        let cells: Vec<&str> = line
            .split('|')
            .map(|c| c.trim().trim_matches('`'))
            .collect();
        assert_eq!(default_of(cells[2]), Some(cells[3]), "{line}");
        rows += 1;
    }
    assert_eq!(rows, SEED_DEFAULTS.len());
}

#[test]
fn defaults_give_the_documented_values() {
    let config = load("", &[]).unwrap();

    assert_eq!(config.opencti.url, None);
    assert_eq!(config.opencti.ssl_verify, TlsVerify::Enabled);
    assert!(config.opencti.json_logging);
    assert_eq!(config.connector.name, "Kaspersky");
    assert_eq!(config.connector.scope, ["kaspersky"]);
    assert_eq!(config.connector.log_level, LogLevel::Error);
    assert_eq!(config.connector.confidence_level, None);
    assert_eq!(config.connector.duration_period, None);
    assert_eq!(config.connector.metrics_port, 9095);
    assert_eq!(config.connector.queue_protocol, QueueProtocol::Amqp);
    assert_eq!(config.connector.queue_threshold, 500);
    assert!(config.connector.send_to_queue && !config.connector.send_to_directory);
    assert_eq!(config.connector.send_to_directory_retention, 7);

    let k = &config.kaspersky;
    assert_eq!(k.base_url, "https://tip.kaspersky.com");
    assert_eq!(k.user, "ChangeMe");
    assert_eq!(k.password.expose(), "ChangeMe");
    assert_eq!(k.certificate_path, Path::new("ChangeMe"));
    assert_eq!(k.tlp, Tlp::Amber);
    assert!(k.create_observables && k.create_indicators);
    assert_eq!(k.scopes.iter().collect::<Vec<_>>(), Scope::ALL);
    assert_eq!(k.publication_start_timestamp, 0);
    assert_eq!(k.publication_report_type, "threat-report");
    assert_eq!(k.publication_report_status, "New");
    assert_eq!(
        k.publication_report_ignore_prefixes,
        ["Monthly APT activity report"]
    );
    assert_eq!(
        k.publication_excluded_ioc_indicator_types,
        ["Md5sum", "FileItem/Sha1sum"]
    );
    assert_eq!(k.master_ioc_fetch_weekday, Some(1));
    assert_eq!(
        k.master_ioc_excluded_ioc_indicator_types,
        ["md5Hash", "sha1Hash"]
    );
    assert_eq!(k.master_yara_fetch_weekday, Some(2));
    assert!(k.master_yara_include_report);
    assert_eq!(k.interval, Duration::from_secs(43200));
    assert_eq!(k.ca_path, None);
    assert!(k.ssl_verify);
    assert_eq!(k.max_payload_bytes, 536_870_912);
    assert_eq!(k.connect_timeout, Duration::from_secs(10));
    assert_eq!(k.read_timeout, Duration::from_secs(300));
    assert_eq!(k.max_retries, 5);
    assert_eq!(k.retry_max_delay, Duration::from_secs(300));
    assert_eq!(k.publication_concurrency, 1);

    assert!(config.mq.host.is_none() && config.mq.use_ssl.is_none());
    assert!(config.mq.use_ssl_reject_unauthorized);
    assert!(config.ignored_keys.is_empty());
}

#[test]
fn environment_beats_file_beats_default() {
    let yaml = "kaspersky:\n  tlp: red\n  publication_report_type: 'apt-report'\n";

    let from_file = load(yaml, &[]).unwrap();
    assert_eq!(from_file.kaspersky.tlp, Tlp::Red);
    assert_eq!(from_file.kaspersky.publication_report_type, "apt-report");
    assert_eq!(from_file.kaspersky.master_ioc_report_type, "threat-report");

    let from_env = load(yaml, &[("KASPERSKY_TLP", "green")]).unwrap();
    assert_eq!(from_env.kaspersky.tlp, Tlp::Green);
    assert_eq!(from_env.kaspersky.publication_report_type, "apt-report");
}

#[test]
fn an_empty_variable_hides_the_file_and_gives_the_default() {
    let yaml = "kaspersky:\n  tlp: red\n  interval_sec: 60\n";
    let config = load(
        yaml,
        &[("KASPERSKY_TLP", ""), ("KASPERSKY_INTERVAL_SEC", "  ")],
    )
    .unwrap();

    assert_eq!(config.kaspersky.tlp, Tlp::Amber);
    assert_eq!(config.kaspersky.interval, Duration::from_secs(43200));
}

#[test]
fn an_empty_or_zero_weekday_means_every_run() {
    let yaml = "kaspersky:\n  master_ioc_fetch_weekday: 3\n  master_yara_fetch_weekday: 4\n";
    let config = load(
        yaml,
        &[
            ("KASPERSKY_MASTER_IOC_FETCH_WEEKDAY", ""),
            ("KASPERSKY_MASTER_YARA_FETCH_WEEKDAY", "0"),
        ],
    )
    .unwrap();
    assert_eq!(config.kaspersky.master_ioc_fetch_weekday, None);
    assert_eq!(config.kaspersky.master_yara_fetch_weekday, None);

    let yaml = "kaspersky:\n  master_ioc_fetch_weekday:\n  master_yara_fetch_weekday: ''\n";
    let config = load(yaml, &[]).unwrap();
    assert_eq!(config.kaspersky.master_ioc_fetch_weekday, None);
    assert_eq!(config.kaspersky.master_yara_fetch_weekday, None);

    let config = load("", &[("KASPERSKY_MASTER_YARA_FETCH_WEEKDAY", "7")]).unwrap();
    assert_eq!(config.kaspersky.master_yara_fetch_weekday, Some(7));
}

#[test]
fn yaml_null_counts_as_not_set() {
    let yaml = "opencti:\n  token: ~\nconnector:\n  log_level: null\nkaspersky:\n  tlp:\n";
    let config = load(yaml, &[]).unwrap();

    assert!(config.opencti.token.is_none());
    assert_eq!(config.connector.log_level, LogLevel::Error);
    assert_eq!(config.kaspersky.tlp, Tlp::Amber);
}

#[test]
fn invalid_values_stop_with_one_line_naming_the_setting() {
    assert_eq!(
        error("", &[("KASPERSKY_TLP", "orange")]),
        "invalid value for kaspersky.tlp (KASPERSKY_TLP): \"orange\" - \
         allowed: white, clear, green, amber, amber+strict, red"
    );

    let cases = [
        (
            "KASPERSKY_INTERVAL_SEC",
            "12h",
            "a whole number from 1 to 31536000",
        ),
        (
            "KASPERSKY_MASTER_IOC_FETCH_WEEKDAY",
            "8",
            "0 or empty (every run), or an ISO weekday from 1 (Monday) to 7 (Sunday)",
        ),
        (
            "KASPERSKY_SCOPES",
            "publication,reports",
            "one or more of publication, master_ioc, master_yara, comma-separated",
        ),
        (
            "KASPERSKY_CREATE_INDICATORS",
            "maybe",
            "true, false, yes, no, 1, 0 (any case)",
        ),
        (
            "CONNECTOR_CONFIDENCE_LEVEL",
            "101",
            "a whole number from 0 to 100",
        ),
        (
            "CONNECTOR_DURATION_PERIOD",
            "12 hours",
            "a positive ISO 8601 duration without years or months (PT12H, P1D), or whole seconds",
        ),
        (
            "CONNECTOR_LOG_LEVEL",
            "verbose",
            "debug, info, warn, warning, error",
        ),
        ("CONNECTOR_TYPE", "INTERNAL_ENRICHMENT", "EXTERNAL_IMPORT"),
        (
            "KASPERSKY_PUBLICATION_CONCURRENCY",
            "17",
            "a whole number from 1 to 16",
        ),
        (
            "OPENCTI_URL",
            "localhost:8080",
            "an http:// or https:// URL",
        ),
    ];
    for (env, value, allowed) in cases {
        let path = env.to_ascii_lowercase().replacen('_', ".", 1);
        assert_eq!(
            error("", &[(env, value)]),
            format!("invalid value for {path} ({env}): \"{value}\" - allowed: {allowed}")
        );
    }
}

#[test]
fn invalid_yaml_values_are_shown_as_written() {
    assert_eq!(
        error("kaspersky:\n  publication_start_timestamp: 12.5\n", &[]),
        "invalid value for kaspersky.publication_start_timestamp \
         (KASPERSKY_PUBLICATION_START_TIMESTAMP): 12.5 - allowed: a whole number from 0 to \
         253402300799"
    );
    assert!(
        error("kaspersky:\n  tlp: [amber, red]\n", &[])
            .starts_with(r#"invalid value for kaspersky.tlp (KASPERSKY_TLP): ["amber", "red"]"#)
    );
    assert!(
        error("kaspersky:\n  create_observables: {a: 1}\n", &[])
            .contains("(KASPERSKY_CREATE_OBSERVABLES): a mapping - allowed")
    );
}

#[test]
fn booleans_accept_every_documented_spelling() {
    let spellings = [
        ("true", true),
        ("TRUE", true),
        ("Yes", true),
        ("1", true),
        ("false", false),
        ("False", false),
        ("NO", false),
        ("0", false),
    ];
    for (word, expected) in spellings {
        let config = load("", &[("KASPERSKY_SSL_VERIFY", word)]).unwrap();
        assert_eq!(config.kaspersky.ssl_verify, expected, "env {word}");

        let yaml = format!("kaspersky:\n  ssl_verify: {word}\n");
        assert_eq!(
            load(&yaml, &[]).unwrap().kaspersky.ssl_verify,
            expected,
            "yaml {word}"
        );
    }
}

#[test]
fn lists_trim_items_and_drop_empty_ones() {
    let env = [(
        "KASPERSKY_MASTER_IOC_EXCLUDED_IOC_INDICATOR_TYPES",
        " md5Hash ,, sha256Hash , ",
    )];
    let config = load("", &env).unwrap();
    assert_eq!(
        config.kaspersky.master_ioc_excluded_ioc_indicator_types,
        ["md5Hash", "sha256Hash"]
    );

    let yaml = "kaspersky:\n  scopes:\n    - master_yara\n    - ' publication '\n";
    let config = load(yaml, &[]).unwrap();
    let scopes: Vec<_> = config.kaspersky.scopes.iter().collect();
    assert_eq!(scopes, [Scope::Publication, Scope::MasterYara]);
}

#[test]
fn typed_values_come_through() {
    let env = [
        ("OPENCTI_URL", "https://opencti.example.com/"),
        ("OPENCTI_SSL_VERIFY", "/etc/ssl/opencti-ca.pem"),
        ("CONNECTOR_LOG_LEVEL", "WARNING"),
        ("CONNECTOR_QUEUE_PROTOCOL", "API"),
        ("CONNECTOR_DURATION_PERIOD", "PT6H"),
        ("CONNECTOR_CONFIDENCE_LEVEL", "80"),
        ("KASPERSKY_TLP", "amber+strict"),
        ("MQ_PORT", "5671"),
        ("MQ_USE_SSL_CA", "/etc/ssl/rabbit-ca.pem"),
    ];
    let config = load("", &env).unwrap();

    assert_eq!(
        config.opencti.url.as_deref(),
        Some("https://opencti.example.com")
    );
    assert_eq!(
        config.opencti.ssl_verify,
        TlsVerify::CaBundle("/etc/ssl/opencti-ca.pem".into())
    );
    assert_eq!(config.connector.log_level, LogLevel::Warn);
    assert_eq!(config.connector.queue_protocol, QueueProtocol::Api);
    assert_eq!(
        config.connector.duration_period,
        Some(Duration::from_secs(6 * 3600))
    );
    assert_eq!(config.connector.confidence_level, Some(80));
    assert_eq!(config.kaspersky.tlp, Tlp::AmberStrict);
    assert_eq!(config.mq.port, Some(5671));
    assert!(matches!(config.mq.use_ssl_ca, Some(PemSource::File(_))));
}

#[test]
fn secrets_never_show_in_debug_output_or_errors() {
    let env = [
        ("OPENCTI_TOKEN", "token-0d2c5e7a"),
        ("KASPERSKY_PASSWORD", " pass-with-spaces-91f3 "),
        ("MQ_PASS", "mq-pass-44ab"),
        (
            "MQ_USE_SSL_KEY",
            "-----BEGIN PRIVATE KEY-----\nkey-body-7c1e\n-----END PRIVATE KEY-----",
        ),
        ("MQ_USE_SSL_PASSPHRASE", "phrase-5d9e"),
    ];
    let config = load("", &env).unwrap();

    assert_eq!(
        config.kaspersky.password.expose(),
        " pass-with-spaces-91f3 "
    );
    let debug = format!("{config:?} {config:#?}");
    for secret in [
        "token-0d2c5e7a",
        "pass-with-spaces",
        "mq-pass-44ab",
        "key-body",
        "phrase-5d9e",
    ] {
        assert!(!debug.contains(secret), "{secret} leaked");
    }
    assert!(debug.contains("<hidden>"));

    let message = error("kaspersky:\n  password: [hunter2-list]\n", &[]);
    assert!(!message.contains("hunter2"), "{message}");
    assert!(
        message.contains("(KASPERSKY_PASSWORD): <hidden> - allowed"),
        "{message}"
    );
}

#[test]
fn master_ioc_without_observables_or_indicators_is_refused() {
    let env = [
        ("KASPERSKY_CREATE_OBSERVABLES", "no"),
        ("KASPERSKY_CREATE_INDICATORS", "false"),
    ];
    let message = error("", &env);
    assert!(message.starts_with("conflicting settings: kaspersky.scopes has master_ioc"));

    let without_master_ioc = [
        env[0],
        env[1],
        ("KASPERSKY_SCOPES", "publication,master_yara"),
    ];
    assert!(load("", &without_master_ioc).is_ok());
}

#[test]
fn a_directory_sink_needs_its_path() {
    assert_eq!(
        error("", &[("CONNECTOR_SEND_TO_DIRECTORY", "true")]),
        "missing value for connector.send_to_directory_path (CONNECTOR_SEND_TO_DIRECTORY_PATH): \
         required when connector.send_to_directory is true"
    );
    let env = [
        ("CONNECTOR_SEND_TO_DIRECTORY", "true"),
        ("CONNECTOR_SEND_TO_DIRECTORY_PATH", "/b"),
    ];
    assert!(load("", &env).is_ok());
}

#[test]
fn opencti_is_required_only_to_send_to_its_queue() {
    let kaspersky = [
        ("KASPERSKY_USER", "analyst"),
        ("KASPERSKY_PASSWORD", "pw"),
        ("KASPERSKY_CERTIFICATE_PATH", "/run/secrets/kaspersky.pem"),
    ];

    assert_eq!(
        run_error(&kaspersky),
        "missing value for opencti.url (OPENCTI_URL): required when connector.send_to_queue is true"
    );

    let mut env = kaspersky.to_vec();
    env.extend([
        ("OPENCTI_URL", "http://localhost:8080"),
        ("OPENCTI_TOKEN", "ChangeMe"),
    ]);
    assert_eq!(
        run_error(&env),
        "missing value for opencti.token (OPENCTI_TOKEN): still the placeholder ChangeMe"
    );
    env.extend([
        ("OPENCTI_TOKEN", "t"),
        ("CONNECTOR_ID", "6f1a3c1e-0c4e-4d7e-9a39-8d2f0f3b1c55"),
    ]);
    load("", &env).unwrap().check_for_run().unwrap();

    let mut to_directory = kaspersky.to_vec();
    to_directory.extend([
        ("CONNECTOR_SEND_TO_QUEUE", "false"),
        ("CONNECTOR_SEND_TO_DIRECTORY", "true"),
        ("CONNECTOR_SEND_TO_DIRECTORY_PATH", "/bundles"),
    ]);
    load("", &to_directory).unwrap().check_for_run().unwrap();

    let nowhere = run_error(&[("CONNECTOR_SEND_TO_QUEUE", "false")]);
    assert!(nowhere.contains("bundles would go nowhere"), "{nowhere}");
}

#[test]
fn the_kaspersky_placeholders_are_refused_for_a_run() {
    let env = [
        ("CONNECTOR_SEND_TO_QUEUE", "false"),
        ("CONNECTOR_SEND_TO_DIRECTORY", "true"),
        ("CONNECTOR_SEND_TO_DIRECTORY_PATH", "/bundles"),
    ];
    assert_eq!(
        run_error(&env),
        "missing value for kaspersky.user (KASPERSKY_USER): still the placeholder ChangeMe"
    );
}

#[test]
fn a_missing_file_is_an_error_naming_it() {
    let missing = Path::new("/nonexistent/config.yml");
    let message = Config::load(Some(missing), |_| None)
        .unwrap_err()
        .to_string();
    assert!(message.starts_with("cannot read configuration file /nonexistent/config.yml: "));
}

#[test]
fn unknown_keys_are_reported_not_refused() {
    let yaml = "connector:\n  auto: true\n  validate_before_import: false\ns3:\n  bucket: x\n";
    let config = load(yaml, &[]).unwrap();
    assert_eq!(
        config.ignored_keys,
        ["connector.auto", "connector.validate_before_import", "s3"]
    );
}

#[test]
fn the_sample_file_loads_and_holds_only_known_keys_with_their_defaults() {
    let sample = project_file("config.yml.sample");
    let config = Config::load(Some(&sample), |_| None).unwrap();
    assert!(
        config.ignored_keys.is_empty(),
        "unknown keys: {:?}",
        config.ignored_keys
    );

    // Every value in the sample is the default, so it loads like the defaults alone.
    let env = HashMap::from([
        ("OPENCTI_URL", "http://localhost:8080"),
        ("OPENCTI_TOKEN", "ChangeMe"),
        ("CONNECTOR_ID", "ChangeMe"),
    ]);
    let defaults = Config::load(None, |name| env.get(name).map(|v| v.to_string())).unwrap();
    assert_eq!(format!("{config:?}"), format!("{defaults:?}"));

    // Every key appears, set or commented out.
    let text = std::fs::read_to_string(&sample).unwrap();
    for setting in settings() {
        let line = format!("{}:", setting.key);
        assert!(
            text.lines()
                .any(|l| l.trim_start_matches([' ', '#']).starts_with(&line)),
            "{}",
            setting.path
        );
    }
}

#[test]
fn the_compose_file_sets_known_variables_to_valid_values() {
    let text = std::fs::read_to_string(project_file("docker-compose.yml")).unwrap();
    let compose: serde_json::Value = serde_saphyr::from_str(&text).unwrap();
    let service = &compose["services"]["connector-kaspersky"];
    assert_eq!(service["image"], "connector-kaspersky:latest");
    assert_eq!(service["restart"], "always");
    assert!(service["volumes"][0].as_str().unwrap().ends_with(":ro"));

    let mut env = HashMap::new();
    for entry in service["environment"].as_array().unwrap() {
        let (name, value) = entry.as_str().unwrap().split_once('=').unwrap();
        assert!(
            settings().iter().any(|s| s.env == name),
            "{name} is not a setting"
        );
        env.insert(name.to_owned(), value.to_owned());
    }
    let config = Config::load(None, |name| env.get(name).cloned()).unwrap();
    assert_eq!(
        config.kaspersky.certificate_path,
        Path::new("/run/secrets/kaspersky.pem")
    );

    // Every setting outside mq is listed, set or commented out.
    for setting in settings().iter().filter(|s| s.section != "mq") {
        assert!(
            text.contains(&format!("- {}=", setting.env)),
            "{} missing",
            setting.env
        );
    }
}

#[test]
fn the_markdown_table_has_a_row_per_setting() {
    let table = markdown_table();
    assert_eq!(table.lines().count(), settings().len() + 2);
    assert!(table.contains(
        "| `kaspersky.tlp` | `KASPERSKY_TLP` | `Amber` |  | TLP marking of everything imported. |"
    ));
    assert!(table.contains("| `opencti.token` | `OPENCTI_TOKEN` |  | with `send_to_queue` |"));
}
