//! What can go wrong when talking to the TIP, worded so that an operator knows what to fix.
//!
//! Messages name the endpoint (and the publication when there is one) and never carry the
//! password or key material: certificate problems name the file, HTTP problems the status
//! and a short excerpt of the body the TIP sent.

use std::path::PathBuf;

use super::Endpoint;

/// An error of the TIP client.
///
/// The caller decides what a failure means for the run; [`TipError::is_permanent`] says
/// whether trying again later can help.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TipError {
    /// `certificate_path` points at nothing.
    #[error(
        "client certificate file {} does not exist (set kaspersky.certificate_path / \
         KASPERSKY_CERTIFICATE_PATH to the PEM file holding the certificate and its key)",
        path.display()
    )]
    CertificateMissing { path: PathBuf },

    /// The certificate file exists but cannot be read.
    #[error("client certificate file {} cannot be read: {source}", path.display())]
    CertificateUnreadable {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// The PEM file holds a key but no `CERTIFICATE` block.
    #[error(
        "client certificate file {} holds no certificate: the PEM file must contain the \
         certificate issued by Kaspersky and its private key",
        path.display()
    )]
    CertificateWithoutCertificate { path: PathBuf },

    /// The PEM file holds a certificate but no private key.
    #[error(
        "client certificate file {} holds no private key: the PEM file must contain the \
         certificate and its private key (append the key to the file)",
        path.display()
    )]
    CertificateWithoutKey { path: PathBuf },

    /// The private key is protected by a passphrase, which the connector cannot use.
    #[error(
        "client certificate file {} holds an encrypted private key: decrypt it once with \
         `openssl pkcs8 -in encrypted-key.pem -out key.pem` (or `openssl rsa` for an RSA key) \
         and put the decrypted key next to the certificate in the PEM file",
        path.display()
    )]
    CertificateKeyEncrypted { path: PathBuf },

    /// The PEM blocks are there but cannot be used (damaged base64, unsupported key type).
    #[error("client certificate file {} cannot be used: {reason}", path.display())]
    CertificateInvalid { path: PathBuf, reason: String },

    /// The CA file of `ca_path` or `SSL_CERT_FILE` cannot be used.
    #[error("CA file {} cannot be used: {reason}", path.display())]
    CaFile { path: PathBuf, reason: String },

    /// The HTTP client could not be built from the settings.
    #[error("cannot build the TIP client: {0}")]
    Build(String),

    /// HTTP 401.
    #[error(
        "the TIP answered 401 Unauthorized at {endpoint}: credentials wrong or the portal's \
         terms and conditions not accepted (log in once at tip.kaspersky.com)"
    )]
    Unauthorized { endpoint: Endpoint },

    /// HTTP 403.
    #[error(
        "the TIP answered 403 Forbidden at {endpoint}: this account has no access to the TIP API"
    )]
    Forbidden { endpoint: Endpoint },

    /// HTTP 400 or 404: the TIP found nothing for the request.
    #[error("{what} not found (the TIP answered HTTP {status} at {endpoint})")]
    NotFound {
        endpoint: Endpoint,
        status: u16,
        /// `publication <id>` or `endpoint <name>`.
        what: String,
    },

    /// Any other HTTP status the client does not treat specially.
    #[error("the TIP answered HTTP {status} at {endpoint}: {excerpt}")]
    Status {
        endpoint: Endpoint,
        status: u16,
        excerpt: String,
    },

    /// The TLS handshake failed in a way that points at the client certificate.
    #[error(
        "TLS handshake with the TIP failed at {endpoint}: check the client certificate \
         (kaspersky.certificate_path: one PEM file with the certificate issued by Kaspersky \
         and its private key): {detail}"
    )]
    TlsHandshake { endpoint: Endpoint, detail: String },

    /// The TIP's own certificate was not trusted.
    #[error(
        "the TIP's server certificate is not trusted at {endpoint}: add its CA with \
         kaspersky.ca_path (KASPERSKY_CA_PATH) or SSL_CERT_FILE, or, only if you must, turn \
         checking off with kaspersky.ssl_verify=false (KASPERSKY_SSL_VERIFY): {detail}"
    )]
    ServerCertificate { endpoint: Endpoint, detail: String },

    /// The TIP could not be reached.
    #[error("cannot connect to the TIP at {endpoint}: {detail}")]
    Connect { endpoint: Endpoint, detail: String },

    /// The TIP did not answer (or stopped sending) within the read or connect timeout.
    #[error("the TIP did not answer in time at {endpoint}")]
    Timeout { endpoint: Endpoint },

    /// The connection broke while the answer was being read.
    #[error("the connection to the TIP broke while reading the answer of {endpoint}: {detail}")]
    Interrupted { endpoint: Endpoint, detail: String },

    /// The answer is larger than `max_body_bytes`.
    #[error("the answer of {endpoint} exceeds the limit of {limit} bytes (max_body_bytes)")]
    BodyTooLarge { endpoint: Endpoint, limit: u64 },

    /// The body is not JSON.
    #[error("the answer of {endpoint} is not valid JSON ({reason}): {excerpt}")]
    Json {
        endpoint: Endpoint,
        reason: String,
        excerpt: String,
    },

    /// `status` is not `ok` or `return_data` is missing.
    #[error("the TIP reported a failure at {endpoint} ({reason}): {excerpt}")]
    Envelope {
        endpoint: Endpoint,
        reason: String,
        excerpt: String,
    },

    /// The body is JSON with `status: ok` but not of the shape the endpoint promises.
    #[error("the answer of {endpoint} has an unexpected shape ({what}): {excerpt}")]
    Shape {
        endpoint: Endpoint,
        what: String,
        excerpt: String,
    },

    /// Transient failures went on past the retry budget.
    #[error("gave up on {endpoint} after {attempts} tries: {last}")]
    RetriesExhausted {
        endpoint: Endpoint,
        attempts: u32,
        #[source]
        last: Box<TipError>,
    },

    /// Any other failure of the HTTP stack.
    #[error("request to {endpoint} failed: {detail}")]
    Request { endpoint: Endpoint, detail: String },

    /// A stop request ended the call (the request in flight or the wait before a retry).
    #[error("request to {endpoint} cancelled: the connector is stopping")]
    Cancelled { endpoint: Endpoint },
}

impl TipError {
    /// True when trying again (next run) cannot help without a change of configuration or
    /// account: credentials, certificates, access rights.
    pub fn is_permanent(&self) -> bool {
        matches!(
            self,
            TipError::CertificateMissing { .. }
                | TipError::CertificateUnreadable { .. }
                | TipError::CertificateWithoutCertificate { .. }
                | TipError::CertificateWithoutKey { .. }
                | TipError::CertificateKeyEncrypted { .. }
                | TipError::CertificateInvalid { .. }
                | TipError::CaFile { .. }
                | TipError::Build(_)
                | TipError::Unauthorized { .. }
                | TipError::Forbidden { .. }
                | TipError::TlsHandshake { .. }
                | TipError::ServerCertificate { .. }
        )
    }

    /// True when the TIP looks down rather than refusing this one request: it could not
    /// be reached, did not answer in time, or answered a transient status (5xx, 429), and
    /// the retries, if any, did not help. A run seeing this for several publications in a
    /// row stops asking (see the publication scope's circuit breaker).
    pub fn is_unavailable(&self) -> bool {
        match self {
            TipError::RetriesExhausted { .. }
            | TipError::Connect { .. }
            | TipError::Timeout { .. }
            | TipError::Interrupted { .. } => true,
            TipError::Status { status, .. } => super::retry::is_transient_status(*status),
            _ => false,
        }
    }
}

/// Number of characters of a body quoted in an error.
pub(crate) const EXCERPT_CHARS: usize = 200;

/// The first [`EXCERPT_CHARS`] characters of a body, lossily decoded, with `…` when cut.
pub(crate) fn excerpt(body: &[u8]) -> String {
    let head = &body[..body.len().min(EXCERPT_CHARS * 4)];
    let text = String::from_utf8_lossy(head);
    let mut chars = text.chars();
    let mut out: String = chars.by_ref().take(EXCERPT_CHARS).collect();
    if chars.next().is_some() || head.len() < body.len() {
        out.push('…');
    }
    if out.is_empty() {
        out.push_str("(empty body)");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpt_cuts_long_bodies_and_marks_the_cut() {
        let body = "x".repeat(1000);
        let text = excerpt(body.as_bytes());
        assert_eq!(text.chars().count(), EXCERPT_CHARS + 1);
        assert!(text.ends_with('…'));
        assert_eq!(excerpt(b"{\"status\":\"error\"}"), "{\"status\":\"error\"}");
        assert_eq!(excerpt(b""), "(empty body)");
    }

    #[test]
    fn excerpt_survives_multibyte_text_cut_anywhere() {
        let body = "é".repeat(500);
        let text = excerpt(body.as_bytes());
        assert!(text.starts_with("éé"));
        assert!(text.ends_with('…'));
    }

    #[test]
    fn credentials_and_certificates_are_permanent() {
        let endpoint = Endpoint::GetList;
        assert!(TipError::Unauthorized { endpoint }.is_permanent());
        assert!(!TipError::Timeout { endpoint }.is_permanent());
    }

    #[test]
    fn an_outage_is_told_from_a_refused_request() {
        let endpoint = Endpoint::GetOne;
        let unavailable = |status| TipError::Status {
            endpoint,
            status,
            excerpt: String::new(),
        };
        assert!(unavailable(503).is_unavailable());
        assert!(!unavailable(501).is_unavailable());
        assert!(TipError::Timeout { endpoint }.is_unavailable());
        let exhausted = TipError::RetriesExhausted {
            endpoint,
            attempts: 3,
            last: Box::new(unavailable(502)),
        };
        assert!(exhausted.is_unavailable());
        assert!(!TipError::Unauthorized { endpoint }.is_unavailable());
        assert!(!TipError::Cancelled { endpoint }.is_unavailable());
    }
}
