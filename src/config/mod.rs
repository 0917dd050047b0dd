//! Configuration: the first stage of the pipeline, validated once before any work.
//!
//! Settings come from a table ([`settings()`]) of every key the Python connector and pycti
//! read (`opencti.*`, `connector.*`, `kaspersky.*`, `mq.*`) plus this project's own
//! tuning keys. [`Config::load`] resolves each entry by precedence environment >
//! `config.yml` > default and reads it by its kind; the first bad value stops the program
//! with one line naming the setting, the value (never a secret's) and what is allowed.
//! The README's table ([`markdown_table`]) and the JSON Schema of the environment variables
//! in `__metadata__/` ([`json_schema`]) are generated from the same table.
//!
//! ```
//! use connector_kaspersky::config::{Config, Scope};
//!
//! let env = |name: &str| match name {
//!     "KASPERSKY_SCOPES" => Some("publication".to_owned()),
//!     "KASPERSKY_MASTER_IOC_FETCH_WEEKDAY" => Some(String::new()),
//!     _ => None,
//! };
//! let config = Config::load(None, env).unwrap();
//! assert!(!config.kaspersky.scopes.contains(Scope::MasterIoc));
//! assert_eq!(config.kaspersky.master_ioc_fetch_weekday, None); // empty: every run
//! assert_eq!(config.kaspersky.master_yara_fetch_weekday, Some(2)); // the default
//! ```

mod docs;
mod error;
mod load;
mod model;
mod read;
mod secret;
pub mod settings;
mod source;
mod values;

pub use docs::{JSON_SCHEMA_DIALECT, JSON_SCHEMA_ID, json_schema, markdown_table};
pub use error::ConfigError;
pub use load::DEFAULT_FILE;
pub use model::{Config, ConnectorConfig, KasperskyConfig, MqConfig, OpenCtiConfig};
pub use secret::Secret;
pub use settings::{Kind, Required, Setting};
pub use values::{LogLevel, PemSource, QueueProtocol, Scope, Scopes, TlsVerify};

/// Every setting, section by section (`opencti`, `connector`, `kaspersky`, `mq`).
pub fn settings() -> &'static [&'static Setting] {
    settings::ALL
}
