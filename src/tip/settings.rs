//! What the TIP client needs to know: where the TIP is, who we are, and how patient to be.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// The TIP's address unless the account holder was told otherwise.
pub const DEFAULT_BASE_URL: &str = "https://tip.kaspersky.com";

/// Time allowed to open a connection, as the Python connector allows.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Longest silence while waiting for (part of) an answer. It applies to each read, not to
/// the whole answer, so a large Master file that keeps flowing is never cut off.
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Retries after the first try for a transient failure (429, 5xx, timeouts).
pub const DEFAULT_MAX_RETRIES: u32 = 5;

/// First backoff delay; doubled on each further retry.
pub const DEFAULT_BASE_DELAY: Duration = Duration::from_secs(5);

/// Longest wait between two tries, for backoff and for a server's `Retry-After` alike.
pub const DEFAULT_RETRY_MAX_DELAY: Duration = Duration::from_secs(300);

/// Largest answer read into memory: 1 GiB, far above any real Master file.
pub const DEFAULT_MAX_BODY_BYTES: u64 = 1024 * 1024 * 1024;

/// Settings of [`super::TipClient`].
///
/// Build with [`TipSettings::new`] and adjust the public fields. `Debug` hides the
/// password.
#[derive(Clone)]
pub struct TipSettings {
    /// Scheme and host, e.g. `https://tip.kaspersky.com`; a trailing `/` is ignored.
    pub base_url: String,
    /// HTTP basic auth user issued by Kaspersky.
    pub user: String,
    /// HTTP basic auth password issued by Kaspersky. Never logged or printed.
    pub password: String,
    /// One PEM file holding the client certificate and its (unencrypted) private key.
    pub certificate_path: PathBuf,
    /// Extra CA certificates (PEM) trusted besides the system roots. When `None`, the file
    /// named by `SSL_CERT_FILE` is used if that variable is set.
    pub ca_path: Option<PathBuf>,
    /// Verify the TIP's server certificate (default true). False logs a warning at start.
    pub ssl_verify: bool,
    /// Default [`DEFAULT_CONNECT_TIMEOUT`].
    pub connect_timeout: Duration,
    /// Default [`DEFAULT_READ_TIMEOUT`].
    pub read_timeout: Duration,
    /// Retries after the first try; default [`DEFAULT_MAX_RETRIES`], 0 disables retrying.
    pub max_retries: u32,
    /// Default [`DEFAULT_BASE_DELAY`].
    pub base_delay: Duration,
    /// Default [`DEFAULT_RETRY_MAX_DELAY`].
    pub retry_max_delay: Duration,
    /// Default [`DEFAULT_MAX_BODY_BYTES`].
    pub max_body_bytes: u64,
}

impl TipSettings {
    /// Settings with the given address and credentials and every default above.
    pub fn new(
        base_url: impl Into<String>,
        user: impl Into<String>,
        password: impl Into<String>,
        certificate_path: impl Into<PathBuf>,
    ) -> TipSettings {
        TipSettings {
            base_url: base_url.into(),
            user: user.into(),
            password: password.into(),
            certificate_path: certificate_path.into(),
            ca_path: None,
            ssl_verify: true,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            read_timeout: DEFAULT_READ_TIMEOUT,
            max_retries: DEFAULT_MAX_RETRIES,
            base_delay: DEFAULT_BASE_DELAY,
            retry_max_delay: DEFAULT_RETRY_MAX_DELAY,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        }
    }
}

impl fmt::Debug for TipSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TipSettings")
            .field("base_url", &self.base_url)
            .field("user", &self.user)
            .field("password", &"<redacted>")
            .field("certificate_path", &self.certificate_path)
            .field("ca_path", &self.ca_path)
            .field("ssl_verify", &self.ssl_verify)
            .field("connect_timeout", &self.connect_timeout)
            .field("read_timeout", &self.read_timeout)
            .field("max_retries", &self.max_retries)
            .field("base_delay", &self.base_delay)
            .field("retry_max_delay", &self.retry_max_delay)
            .field("max_body_bytes", &self.max_body_bytes)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_password() {
        let settings = TipSettings::new("https://tip.example.com", "alice", "s3cr3t-pw", "c.pem");
        let text = format!("{settings:?}");
        assert!(!text.contains("s3cr3t-pw"), "{text}");
        assert!(text.contains("alice"));
        assert!(text.contains("<redacted>"));
    }

    #[test]
    fn defaults_follow_the_documented_policy() {
        let settings = TipSettings::new(DEFAULT_BASE_URL, "u", "p", "c.pem");
        assert_eq!(settings.max_retries, 5);
        assert_eq!(settings.retry_max_delay, Duration::from_secs(300));
        assert_eq!(settings.max_body_bytes, 1 << 30);
        assert!(settings.ssl_verify);
    }
}
