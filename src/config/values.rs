//! The typed values that settings turn into, beyond numbers and text.
//!
//! These are what the rest of the pipeline matches on: the importers run per [`Scope`], the
//! runtime sets up logging from [`LogLevel`], the OpenCTI client reads [`TlsVerify`] and the
//! AMQP publisher [`PemSource`].

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use super::Secret;

/// One importer of the connector.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Threat publications: report, PDF, OpenIOC indicators, YARA rules.
    Publication,
    /// The Master IoC file.
    MasterIoc,
    /// The Master YARA file.
    MasterYara,
}

impl Scope {
    /// Every scope, in the order a run goes through them.
    pub const ALL: [Scope; 3] = [Scope::Publication, Scope::MasterIoc, Scope::MasterYara];

    /// The configuration word: `publication`, `master_ioc`, `master_yara`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Publication => "publication",
            Scope::MasterIoc => "master_ioc",
            Scope::MasterYara => "master_yara",
        }
    }

    fn bit(self) -> u8 {
        1 << self as u8
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Scope {
    type Err = ();

    /// The configuration word, in any case, surrounding spaces ignored.
    fn from_str(text: &str) -> Result<Self, ()> {
        let text = text.trim();
        Scope::ALL
            .into_iter()
            .find(|scope| scope.as_str().eq_ignore_ascii_case(text))
            .ok_or(())
    }
}

/// A set of scopes; iterates in run order whatever the order of the configuration.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub struct Scopes(u8);

impl Scopes {
    /// Whether `scope` is enabled.
    pub fn contains(self, scope: Scope) -> bool {
        self.0 & scope.bit() != 0
    }

    /// Enables `scope`.
    pub fn insert(&mut self, scope: Scope) {
        self.0 |= scope.bit();
    }

    /// Whether no scope is enabled.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The enabled scopes in run order: publication, Master IoC, Master YARA.
    pub fn iter(self) -> impl Iterator<Item = Scope> {
        Scope::ALL
            .into_iter()
            .filter(move |scope| self.contains(*scope))
    }
}

impl FromIterator<Scope> for Scopes {
    fn from_iter<I: IntoIterator<Item = Scope>>(iter: I) -> Self {
        let mut scopes = Scopes::default();
        for scope in iter {
            scopes.insert(scope);
        }
        scopes
    }
}

impl fmt::Debug for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

/// The lowest level of log lines written (`connector.log_level`, default `error`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogLevel {
    Debug,
    Info,
    /// `warn` or `warning`.
    Warn,
    Error,
}

impl LogLevel {
    /// Reads one of the words of the `connector.log_level` setting, in any case.
    pub(super) fn from_word(word: &str) -> Option<Self> {
        match word.to_ascii_lowercase().as_str() {
            "debug" => Some(LogLevel::Debug),
            "info" => Some(LogLevel::Info),
            "warn" | "warning" => Some(LogLevel::Warn),
            "error" => Some(LogLevel::Error),
            _ => None,
        }
    }

    /// The matching `tracing` level.
    pub fn tracing_level(self) -> tracing::Level {
        match self {
            LogLevel::Debug => tracing::Level::DEBUG,
            LogLevel::Info => tracing::Level::INFO,
            LogLevel::Warn => tracing::Level::WARN,
            LogLevel::Error => tracing::Level::ERROR,
        }
    }
}

/// How bundles reach OpenCTI (`connector.queue_protocol`, default `amqp`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueueProtocol {
    /// Published to the platform's RabbitMQ.
    Amqp,
    /// Posted to the platform's HTTP API.
    Api,
}

impl QueueProtocol {
    /// Reads `amqp` or `api`, in any case.
    pub(super) fn from_word(word: &str) -> Option<Self> {
        match word.to_ascii_lowercase().as_str() {
            "amqp" => Some(QueueProtocol::Amqp),
            "api" => Some(QueueProtocol::Api),
            _ => None,
        }
    }
}

/// Whether and how a TLS server certificate is verified (`opencti.ssl_verify`).
///
/// Verification is on by default in this project, unlike pycti.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TlsVerify {
    /// Verified against the system's CA certificates.
    Enabled,
    /// Not verified at all.
    Disabled,
    /// Verified against the CA certificates of this PEM file.
    CaBundle(PathBuf),
}

/// A PEM item given either as a file path or inline (`MQ_USE_SSL_CA`, `_CERT`, `_KEY`).
///
/// Inline text is held as a [`Secret`] because it may be a private key.
#[derive(Clone, Debug)]
pub enum PemSource {
    File(PathBuf),
    Inline(Secret),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_iterate_in_run_order() {
        let scopes: Scopes = [Scope::MasterYara, Scope::Publication]
            .into_iter()
            .collect();

        assert_eq!(
            scopes.iter().collect::<Vec<_>>(),
            [Scope::Publication, Scope::MasterYara]
        );
        assert!(!scopes.contains(Scope::MasterIoc));
        assert_eq!(format!("{scopes:?}"), "{Publication, MasterYara}");
    }

    #[test]
    fn scope_words_are_case_insensitive() {
        assert_eq!(" Master_IoC ".parse::<Scope>(), Ok(Scope::MasterIoc));
        assert!("master-ioc".parse::<Scope>().is_err());
    }

    #[test]
    fn warning_is_warn() {
        assert_eq!(LogLevel::from_word("WARNING"), Some(LogLevel::Warn));
        assert_eq!(LogLevel::from_word("trace"), None);
    }
}
