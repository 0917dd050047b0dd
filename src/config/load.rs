//! Building the [`Config`] from `config.yml` and the environment, and the checks that
//! need several settings at once.

use std::path::Path;
use std::time::Duration;

use super::model::{Config, ConnectorConfig, KasperskyConfig, MqConfig, OpenCtiConfig};
use super::read::{
    Reader, parse_bool, parse_choice, parse_duration, parse_integer, parse_list, parse_path,
    parse_pem, parse_scopes, parse_secret, parse_text, parse_tlp, parse_tls_verify, parse_url,
    parse_weekday,
};
use super::settings::*;
use super::source::{Document, Sources};
use super::values::{LogLevel, QueueProtocol, Scope};
use super::{ConfigError, Secret};

/// The file read when no `--config` is given, in the working directory.
pub const DEFAULT_FILE: &str = "config.yml";

/// The value the sample files carry where the operator must put a real one.
const PLACEHOLDER: &str = "ChangeMe";

impl Config {
    /// Loads `file` (when given) and the environment `env`, and validates the result.
    ///
    /// Precedence is environment > file > default. A variable or key set to the empty
    /// string (or YAML null) counts as not set, hiding the file's value; for the fetch
    /// weekdays it means "every run". Fails on the first invalid value, with one line
    /// naming the setting; a `file` that cannot be read or parsed is an error too.
    pub fn load(
        file: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let document = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|cause| ConfigError::Read {
                    path: path.to_owned(),
                    cause,
                })?;
                Document::parse(&text, path)?
            }
            None => Document::default(),
        };
        resolve(&document, &env)
    }

    /// [`Config::load`] with the process environment, from `file` or else from
    /// [`DEFAULT_FILE`] in the working directory when it exists.
    ///
    /// A variable that is not valid UTF-8 is read with replacement characters, which no
    /// non-text setting accepts.
    pub fn from_process_env(file: Option<&Path>) -> Result<Config, ConfigError> {
        let default = Path::new(DEFAULT_FILE);
        let file = file.or_else(|| default.is_file().then_some(default));
        Config::load(file, |name| {
            std::env::var_os(name).map(|value| value.to_string_lossy().into_owned())
        })
    }

    /// The checks only the `run` and `check` commands need, to call before they start.
    ///
    /// Refuses a missing or `ChangeMe` value for every setting the table marks
    /// [`Required::Yes`], and for those marked [`Required::WithQueue`] when
    /// `connector.send_to_queue` is true; refuses a configuration that delivers bundles
    /// nowhere.
    pub fn check_for_run(&self) -> Result<(), ConfigError> {
        let queue = self.connector.send_to_queue;
        if !queue && !self.connector.send_to_directory {
            return Err(ConfigError::Conflict(
                "connector.send_to_queue and connector.send_to_directory are both false, so \
                 bundles would go nowhere - enable one of them",
            ));
        }

        for (setting, value) in self.required_values() {
            let needed = match setting.required {
                Required::No => false,
                Required::Yes => true,
                Required::WithQueue => queue,
            };
            let reason = match value {
                _ if !needed => continue,
                None if setting.required == Required::WithQueue => {
                    "required when connector.send_to_queue is true"
                }
                None => "required",
                Some(PLACEHOLDER) => "still the placeholder ChangeMe",
                Some(_) => continue,
            };
            return Err(ConfigError::Missing {
                path: setting.path,
                env: setting.env,
                reason,
            });
        }
        Ok(())
    }

    /// The settings that may be required, with their values as text.
    fn required_values(&self) -> [(&'static Setting, Option<&str>); 6] {
        [
            (&OPENCTI_URL, self.opencti.url.as_deref()),
            (
                &OPENCTI_TOKEN,
                self.opencti.token.as_ref().map(Secret::expose),
            ),
            (&CONNECTOR_ID, self.connector.id.as_deref()),
            (&KASPERSKY_USER, Some(&self.kaspersky.user)),
            (&KASPERSKY_PASSWORD, Some(self.kaspersky.password.expose())),
            (
                &KASPERSKY_CERTIFICATE_PATH,
                self.kaspersky.certificate_path.to_str(),
            ),
        ]
    }
}

/// Reads every setting of the table and applies the checks across settings.
fn resolve(
    document: &Document,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Config, ConfigError> {
    let read = Reader {
        sources: Sources { document, env },
    };
    let config = Config {
        opencti: read_opencti(&read)?,
        connector: read_connector(&read)?,
        kaspersky: read_kaspersky(&read)?,
        mq: read_mq(&read)?,
        ignored_keys: document.ignored_keys(),
    };

    let kaspersky = &config.kaspersky;
    if kaspersky.scopes.contains(Scope::MasterIoc)
        && !kaspersky.create_observables
        && !kaspersky.create_indicators
    {
        return Err(ConfigError::Conflict(
            "kaspersky.scopes has master_ioc while kaspersky.create_observables and \
             kaspersky.create_indicators are both false, so Master IoC would import nothing - \
             enable one of them or drop master_ioc",
        ));
    }
    if config.connector.send_to_directory && config.connector.send_to_directory_path.is_none() {
        return Err(ConfigError::Missing {
            path: CONNECTOR_SEND_TO_DIRECTORY_PATH.path,
            env: CONNECTOR_SEND_TO_DIRECTORY_PATH.env,
            reason: "required when connector.send_to_directory is true",
        });
    }
    Ok(config)
}

fn read_opencti(read: &Reader<'_>) -> Result<OpenCtiConfig, ConfigError> {
    Ok(OpenCtiConfig {
        url: read.optional(&OPENCTI_URL, parse_url)?,
        token: read.optional(&OPENCTI_TOKEN, parse_secret)?,
        ssl_verify: read.value(&OPENCTI_SSL_VERIFY, parse_tls_verify)?,
        json_logging: read.value(&OPENCTI_JSON_LOGGING, parse_bool)?,
        json_logging_set: read.is_set(&OPENCTI_JSON_LOGGING),
    })
}

fn read_connector(read: &Reader<'_>) -> Result<ConnectorConfig, ConfigError> {
    read.value(&CONNECTOR_TYPE, parse_choice)?;
    Ok(ConnectorConfig {
        id: read.optional(&CONNECTOR_ID, parse_text)?,
        name: read.value(&CONNECTOR_NAME, parse_text)?,
        scope: read.value(&CONNECTOR_SCOPE, parse_list)?,
        log_level: read.value(&CONNECTOR_LOG_LEVEL, |raw, setting| {
            parse_choice(raw, setting).and_then(LogLevel::from_word)
        })?,
        confidence_level: read.optional(&CONNECTOR_CONFIDENCE_LEVEL, parse_integer)?,
        update_existing_data: read.value(&CONNECTOR_UPDATE_EXISTING_DATA, parse_bool)?,
        run_and_terminate: read.value(&CONNECTOR_RUN_AND_TERMINATE, parse_bool)?,
        duration_period: read.optional(&CONNECTOR_DURATION_PERIOD, parse_duration)?,
        expose_metrics: read.value(&CONNECTOR_EXPOSE_METRICS, parse_bool)?,
        metrics_port: read.value(&CONNECTOR_METRICS_PORT, parse_integer)?,
        metrics_namespace: read.optional(&CONNECTOR_METRICS_NAMESPACE, parse_text)?,
        metrics_subsystem: read.optional(&CONNECTOR_METRICS_SUBSYSTEM, parse_text)?,
        queue_protocol: read.value(&CONNECTOR_QUEUE_PROTOCOL, |raw, setting| {
            parse_choice(raw, setting).and_then(QueueProtocol::from_word)
        })?,
        queue_threshold: read.value(&CONNECTOR_QUEUE_THRESHOLD, parse_integer)?,
        send_to_queue: read.value(&CONNECTOR_SEND_TO_QUEUE, parse_bool)?,
        send_to_directory: read.value(&CONNECTOR_SEND_TO_DIRECTORY, parse_bool)?,
        send_to_directory_path: read.optional(&CONNECTOR_SEND_TO_DIRECTORY_PATH, parse_path)?,
        send_to_directory_retention: read
            .value(&CONNECTOR_SEND_TO_DIRECTORY_RETENTION, parse_integer)?,
    })
}

fn read_kaspersky(read: &Reader<'_>) -> Result<KasperskyConfig, ConfigError> {
    let seconds = |setting| read.value(setting, parse_integer).map(Duration::from_secs);
    Ok(KasperskyConfig {
        base_url: read.value(&KASPERSKY_BASE_URL, parse_url)?,
        user: read.value(&KASPERSKY_USER, parse_text)?,
        password: read.value(&KASPERSKY_PASSWORD, parse_secret)?,
        certificate_path: read.value(&KASPERSKY_CERTIFICATE_PATH, parse_path)?,
        tlp: read.value(&KASPERSKY_TLP, parse_tlp)?,
        create_observables: read.value(&KASPERSKY_CREATE_OBSERVABLES, parse_bool)?,
        create_indicators: read.value(&KASPERSKY_CREATE_INDICATORS, parse_bool)?,
        scopes: read.value(&KASPERSKY_SCOPES, parse_scopes)?,
        publication_start_timestamp: read
            .value(&KASPERSKY_PUBLICATION_START_TIMESTAMP, parse_integer)?,
        publication_report_type: read.value(&KASPERSKY_PUBLICATION_REPORT_TYPE, parse_text)?,
        publication_report_status: read.value(&KASPERSKY_PUBLICATION_REPORT_STATUS, parse_text)?,
        publication_report_ignore_prefixes: read
            .value(&KASPERSKY_PUBLICATION_REPORT_IGNORE_PREFIXES, parse_list)?,
        publication_excluded_ioc_indicator_types: read.value(
            &KASPERSKY_PUBLICATION_EXCLUDED_IOC_INDICATOR_TYPES,
            parse_list,
        )?,
        master_ioc_fetch_weekday: read.value(&KASPERSKY_MASTER_IOC_FETCH_WEEKDAY, parse_weekday)?,
        master_ioc_excluded_ioc_indicator_types: read.value(
            &KASPERSKY_MASTER_IOC_EXCLUDED_IOC_INDICATOR_TYPES,
            parse_list,
        )?,
        master_ioc_report_type: read.value(&KASPERSKY_MASTER_IOC_REPORT_TYPE, parse_text)?,
        master_ioc_report_status: read.value(&KASPERSKY_MASTER_IOC_REPORT_STATUS, parse_text)?,
        master_yara_fetch_weekday: read
            .value(&KASPERSKY_MASTER_YARA_FETCH_WEEKDAY, parse_weekday)?,
        master_yara_include_report: read
            .value(&KASPERSKY_MASTER_YARA_INCLUDE_REPORT, parse_bool)?,
        master_yara_report_type: read.value(&KASPERSKY_MASTER_YARA_REPORT_TYPE, parse_text)?,
        master_yara_report_status: read.value(&KASPERSKY_MASTER_YARA_REPORT_STATUS, parse_text)?,
        interval: seconds(&KASPERSKY_INTERVAL_SEC)?,
        ca_path: read.optional(&KASPERSKY_CA_PATH, parse_path)?,
        ssl_verify: read.value(&KASPERSKY_SSL_VERIFY, parse_bool)?,
        max_payload_bytes: read.value(&KASPERSKY_MAX_PAYLOAD_BYTES, parse_integer)?,
        connect_timeout: seconds(&KASPERSKY_CONNECT_TIMEOUT_SEC)?,
        read_timeout: seconds(&KASPERSKY_READ_TIMEOUT_SEC)?,
        max_retries: read.value(&KASPERSKY_MAX_RETRIES, parse_integer)?,
        retry_max_delay: seconds(&KASPERSKY_RETRY_MAX_DELAY_SEC)?,
        publication_concurrency: read.value(&KASPERSKY_PUBLICATION_CONCURRENCY, parse_integer)?,
    })
}

fn read_mq(read: &Reader<'_>) -> Result<MqConfig, ConfigError> {
    Ok(MqConfig {
        host: read.optional(&MQ_HOST, parse_text)?,
        port: read.optional(&MQ_PORT, parse_integer)?,
        vhost: read.optional(&MQ_VHOST, parse_text)?,
        use_ssl: read.optional(&MQ_USE_SSL, parse_bool)?,
        user: read.optional(&MQ_USER, parse_text)?,
        pass: read.optional(&MQ_PASS, parse_secret)?,
        use_ssl_ca: read.optional(&MQ_USE_SSL_CA, parse_pem)?,
        use_ssl_cert: read.optional(&MQ_USE_SSL_CERT, parse_pem)?,
        use_ssl_key: read.optional(&MQ_USE_SSL_KEY, parse_pem)?,
        use_ssl_passphrase: read.optional(&MQ_USE_SSL_PASSPHRASE, parse_secret)?,
        use_ssl_reject_unauthorized: read.value(&MQ_USE_SSL_REJECT_UNAUTHORIZED, parse_bool)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_required_setting_is_checked_for_a_run() {
        let config = Config::load(None, |_| None).unwrap();
        let checked: Vec<_> = config
            .required_values()
            .iter()
            .map(|(s, _)| s.path)
            .collect();
        let required: Vec<_> = ALL
            .iter()
            .filter(|setting| setting.required != Required::No)
            .map(|setting| setting.path)
            .collect();
        assert_eq!(checked, required);
    }
}
