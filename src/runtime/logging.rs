//! Log lines as OpenCTI connectors write them, or readable text for a terminal.
//!
//! The JSON form is pycti's (reference/opencti-protocol.md §8.2): one object per line on
//! standard error with `timestamp`, `level`, `name` (the connector name), `message` and,
//! when the event has fields, `attributes`. Operators' log pipelines already parse it.

use std::fmt;
use std::io::IsTerminal;

use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::{EnvFilter, prelude::*};

/// How log lines look.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// pycti's JSON lines.
    Json,
    /// Human-readable lines.
    Text,
}

impl LogFormat {
    /// The format as pycti chooses it, with the command line first: `flag`
    /// (`--log-format`) wins; else `json_logging` when it was set (environment or
    /// config.yml); else text on a terminal and JSON otherwise (containers, log
    /// collectors). pycti's default is JSON everywhere; a person at a terminal who set
    /// nothing gets readable lines instead.
    pub fn choose(flag: Option<LogFormat>, json_logging: Option<bool>, terminal: bool) -> Self {
        match (flag, json_logging) {
            (Some(format), _) => format,
            (None, Some(true)) => LogFormat::Json,
            (None, Some(false)) => LogFormat::Text,
            (None, None) if terminal => LogFormat::Text,
            (None, None) => LogFormat::Json,
        }
    }

    /// [`LogFormat::choose`] for this process's standard error.
    pub fn for_stderr(flag: Option<LogFormat>, json_logging: Option<bool>) -> Self {
        Self::choose(flag, json_logging, std::io::stderr().is_terminal())
    }
}

/// Colours only for a person reading a terminal: a file or a log collector would keep the
/// escape codes as text. `NO_COLOR` (any non-empty value) turns them off there too.
fn ansi_colours() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Installs the global subscriber. `level` is the connector's `log_level`
/// (`debug`, `info`, `warn`/`warning`, `error`); `RUST_LOG`, when set, wins.
pub fn init(format: LogFormat, level: &str, name: &str) {
    let level = match level.to_ascii_lowercase().as_str() {
        "warning" => "warn".to_owned(),
        other => other.to_owned(),
    };
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(format!("{level},lapin=warn,hyper=warn,rustls=warn")));
    let registry = tracing_subscriber::registry().with(filter);
    let result = match format {
        LogFormat::Json => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .with_writer(std::io::stderr)
                    .event_format(PyctiJson {
                        name: name.to_owned(),
                    }),
            )
            .try_init(),
        LogFormat::Text => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .with_writer(std::io::stderr)
                    .with_ansi(ansi_colours())
                    .with_target(false),
            )
            .try_init(),
    };
    // A second init (tests, `demo` inside a process that already logs) keeps the first.
    let _ = result;
}

/// Formats events as pycti's JSON lines.
pub struct PyctiJson {
    name: String,
}

impl PyctiJson {
    /// A formatter naming lines after the connector.
    pub fn new(name: impl Into<String>) -> Self {
        PyctiJson { name: name.into() }
    }
}

impl<S, N> FormatEvent<S, N> for PyctiJson
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let mut fields = FieldsToJson::default();
        event.record(&mut fields);
        if let Some(scope) = ctx.event_scope() {
            for span in scope.from_root() {
                let extensions = span.extensions();
                let stored = extensions.get::<tracing_subscriber::fmt::FormattedFields<N>>();
                if let Some(stored) = stored.filter(|s| !s.is_empty()) {
                    let text = Value::String(stored.to_string());
                    fields.attributes.entry(span.name()).or_insert(text);
                }
            }
        }

        let mut line = Map::new();
        let now = jiff::Timestamp::now()
            .strftime("%Y-%m-%dT%H:%M:%S%.6fZ")
            .to_string();
        line.insert("timestamp".into(), Value::String(now));
        line.insert(
            "level".into(),
            Value::String(level_name(*event.metadata().level()).into()),
        );
        line.insert("name".into(), Value::String(self.name.clone()));
        line.insert(
            "message".into(),
            Value::String(fields.message.unwrap_or_default()),
        );
        if !fields.attributes.is_empty() {
            line.insert("attributes".into(), Value::Object(fields.attributes));
        }
        let text = serde_json::to_string(&Value::Object(line)).map_err(|_| fmt::Error)?;
        writeln!(writer, "{text}")
    }
}

/// pycti's level names.
fn level_name(level: Level) -> &'static str {
    match level {
        Level::TRACE | Level::DEBUG => "DEBUG",
        Level::INFO => "INFO",
        Level::WARN => "WARNING",
        Level::ERROR => "ERROR",
    }
}

#[derive(Default)]
struct FieldsToJson {
    message: Option<String>,
    attributes: Map<String, Value>,
}

impl FieldsToJson {
    fn insert(&mut self, field: &Field, value: Value) {
        if field.name() == "message" {
            self.message = Some(match value {
                Value::String(text) => text,
                other => other.to_string(),
            });
        } else {
            self.attributes.insert(field.name().to_owned(), value);
        }
    }
}

impl Visit for FieldsToJson {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.insert(field, Value::String(value.to_owned()));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.insert(field, Value::from(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.insert(field, Value::from(value));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.insert(field, Value::from(value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.insert(field, Value::from(value));
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.insert(field, Value::String(crate::errors::chain(value)));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.insert(field, Value::String(format!("{value:?}")));
    }
}

/// The JSON log lines that `work` writes, parsed (for tests of what is logged).
#[cfg(test)]
pub(crate) fn capture_json(work: impl FnOnce()) -> Vec<Value> {
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    let buffer = Buffer::default();
    let sink = buffer.clone();
    let subscriber = tracing_subscriber::registry().with(
        tracing_subscriber::fmt::layer()
            .with_writer(move || sink.clone())
            .event_format(PyctiJson::new("Kaspersky")),
    );
    tracing::subscriber::with_default(subscriber, work);
    let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
    text.lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flag_wins_then_a_set_json_logging_then_the_terminal() {
        use LogFormat::{Json, Text};
        for terminal in [false, true] {
            assert_eq!(LogFormat::choose(Some(Text), Some(true), terminal), Text);
            assert_eq!(LogFormat::choose(Some(Json), Some(false), terminal), Json);
            assert_eq!(LogFormat::choose(None, Some(false), terminal), Text);
            assert_eq!(LogFormat::choose(None, Some(true), terminal), Json);
        }
        assert_eq!(LogFormat::choose(None, None, true), Text);
        assert_eq!(LogFormat::choose(None, None, false), Json);
    }

    #[test]
    fn lines_have_pyctis_fields() {
        let lines = capture_json(|| {
            tracing::warn!(scope = "publication", count = 3, "Publication skipped");
            tracing::info!("Connector registered with ID");
        });
        assert_eq!(lines[0]["level"], "WARNING");
        assert_eq!(lines[0]["name"], "Kaspersky");
        assert_eq!(lines[0]["message"], "Publication skipped");
        assert_eq!(lines[0]["attributes"]["scope"], "publication");
        assert_eq!(lines[0]["attributes"]["count"], 3);
        assert!(lines[1].get("attributes").is_none());
        assert!(lines[1]["timestamp"].as_str().unwrap().ends_with('Z'));
    }
}
