//! The HTTPS client of the TIP publications API: four endpoints, retries, bounded bodies.
//!
//! Every call is a POST to `{base_url}/api/publications/<name>` with its parameters in the
//! query string and an empty body, authenticated twice: by the client certificate during
//! the TLS handshake and by HTTP basic auth. Transient failures are retried as `retry`
//! decides; the body is read chunk by chunk and refused past `max_body_bytes`.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use jiff::Timestamp;
use reqwest::header::RETRY_AFTER;
use tokio_util::sync::CancellationToken;

use super::error::excerpt;
use super::retry::{self, Failure, RetryPolicy};
use super::tls::{self, error_chain};
use super::{Endpoint, Publication, TipError, TipSettings, response};

/// The `report_group` asked for with the Master files, as the Python connector does.
pub const MASTER_REPORT_GROUP: &str = "apt";

/// The `include_info` of `get_one`: every file a publication can carry.
pub const INCLUDE_INFO: &str = "pdf,yara,iocs";

/// The `lang` of `get_one`.
pub const LANG: &str = "en";

/// Bytes of an error answer kept for the message.
const ERROR_BODY_BYTES: u64 = 64 * 1024;

/// One retry about to happen, for logs and metrics.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryEvent {
    /// The endpoint called.
    pub endpoint: Endpoint,
    /// The number of the try that failed, from 1.
    pub attempt: u32,
    /// The wait before the next try.
    pub delay: Duration,
    /// The HTTP status of the failed try, if it got one.
    pub status: Option<u16>,
    /// What went wrong, one line.
    pub reason: String,
}

type RetryHook = Arc<dyn Fn(&RetryEvent) + Send + Sync>;

/// A client of the TIP publications API. Cheap to clone; clones share the connection
/// pool and the retry counter.
#[derive(Clone)]
pub struct TipClient {
    http: reqwest::Client,
    base_url: String,
    user: String,
    password: String,
    policy: RetryPolicy,
    max_body_bytes: u64,
    retries: Arc<AtomicU64>,
    on_retry: Option<RetryHook>,
    /// A stop request ends the request in flight and any retry wait (see
    /// [`TipClient::cancelled_by`]); never cancelled unless one is given.
    cancel: CancellationToken,
}

impl fmt::Debug for TipClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TipClient")
            .field("base_url", &self.base_url)
            .field("user", &self.user)
            .field("policy", &self.policy)
            .field("max_body_bytes", &self.max_body_bytes)
            .finish_non_exhaustive()
    }
}

impl TipClient {
    /// Builds the client: loads and checks the client certificate, trusts the system
    /// roots plus `ca_path` (or `$SSL_CERT_FILE`), and sets timeouts. Nothing is sent yet.
    ///
    /// # Errors
    ///
    /// A certificate error of its own kind for each way the PEM file can be wrong (see
    /// [`TipError`]), [`TipError::CaFile`] for an unusable CA file, and
    /// [`TipError::Build`] for a malformed `base_url`.
    pub fn new(settings: &TipSettings) -> Result<TipClient, TipError> {
        let base_url = settings.base_url.trim_end_matches('/').to_owned();
        reqwest::Url::parse(&base_url)
            .map_err(|error| TipError::Build(format!("base_url {base_url:?}: {error}")))?;

        let identity = tls::load_identity(&settings.certificate_path)?;
        let mut builder = reqwest::Client::builder()
            .connect_timeout(settings.connect_timeout)
            .read_timeout(settings.read_timeout)
            .user_agent(concat!("connector-kaspersky/", env!("CARGO_PKG_VERSION")))
            .identity(identity);

        if let Some(ca_path) = tls::ca_file(settings.ca_path.as_deref()) {
            builder = builder.tls_certs_merge(tls::load_ca_file(&ca_path)?);
        }
        if !settings.ssl_verify {
            tracing::warn!(
                base_url = %base_url,
                "TIP server certificate verification is off (kaspersky.ssl_verify=false)"
            );
            builder = builder.tls_danger_accept_invalid_certs(true);
        }
        let http = builder
            .build()
            .map_err(|error| TipError::Build(error_chain(&error)))?;

        Ok(TipClient {
            http,
            base_url,
            user: settings.user.clone(),
            password: settings.password.clone(),
            policy: RetryPolicy {
                max_retries: settings.max_retries,
                base_delay: settings.base_delay,
                max_delay: settings.retry_max_delay,
            },
            max_body_bytes: settings.max_body_bytes,
            retries: Arc::new(AtomicU64::new(0)),
            on_retry: None,
            cancel: CancellationToken::new(),
        })
    }

    /// Calls `hook` before each retry (after the warning is logged), e.g. to count retries
    /// in metrics.
    pub fn on_retry(mut self, hook: impl Fn(&RetryEvent) + Send + Sync + 'static) -> TipClient {
        self.on_retry = Some(Arc::new(hook));
        self
    }

    /// Ends every call (the request in flight, a body being read, a wait before a retry)
    /// with [`TipError::Cancelled`] as soon as `cancel` fires. Without it a stop request
    /// would wait for the whole retry schedule of each call still running, minutes during
    /// a TIP outage.
    pub fn cancelled_by(mut self, cancel: CancellationToken) -> TipClient {
        self.cancel = cancel;
        self
    }

    /// Retries made so far by this client and its clones.
    pub fn retries(&self) -> u64 {
        self.retries.load(Ordering::Relaxed)
    }

    /// `get_list`: the metadata of the publications whose `updated` lies between
    /// `date_start` and `date_end` (Unix seconds, inclusive, each optional).
    ///
    /// Logs a warning when the TIP's `count` differs from the number of publications sent
    /// (a server-side cap would look like that).
    pub async fn get_list(
        &self,
        date_start: Option<i64>,
        date_end: Option<i64>,
    ) -> Result<Vec<Publication>, TipError> {
        let mut query = Vec::new();
        if let Some(start) = date_start {
            query.push(("date_start", start.to_string()));
        }
        if let Some(end) = date_end {
            query.push(("date_end", end.to_string()));
        }

        let body = self.call(Endpoint::GetList, &query, None).await?;
        let list = response::parse_list(&body)?;

        for entry in &list.rejected {
            tracing::warn!(endpoint = %Endpoint::GetList, entry = %entry, "Item skipped");
        }
        let returned = (list.publications.len() + list.rejected.len()) as u64;
        if let Some(count) = list.count
            && count != returned
        {
            tracing::warn!(
                endpoint = %Endpoint::GetList,
                count,
                returned,
                "TIP publication list count differs from the publications returned"
            );
        }
        Ok(list.publications)
    }

    /// `get_one`: one publication with its PDF, YARA and OpenIOC files (`include_info =
    /// pdf,yara,iocs`, `lang = en`).
    pub async fn get_one(&self, publication_id: &str) -> Result<Publication, TipError> {
        let query = [
            ("publication_id", publication_id.to_owned()),
            ("include_info", INCLUDE_INFO.to_owned()),
            ("lang", LANG.to_owned()),
        ];
        let body = self
            .call(Endpoint::GetOne, &query, Some(publication_id))
            .await?;
        response::parse_one(&body)
    }

    /// `get_master_ioc` for `report_group=apt`: the base64 of the gzipped Master IoC CSV.
    pub async fn get_master_ioc(&self) -> Result<String, TipError> {
        self.master(Endpoint::GetMasterIoc, "master_ioc").await
    }

    /// `get_master_yara` for `report_group=apt`: the base64 of the gzipped Master YARA.
    pub async fn get_master_yara(&self) -> Result<String, TipError> {
        self.master(Endpoint::GetMasterYara, "master_yara").await
    }

    async fn master(&self, endpoint: Endpoint, field: &str) -> Result<String, TipError> {
        let query = [("report_group", MASTER_REPORT_GROUP.to_owned())];
        let body = self.call(endpoint, &query, None).await?;
        response::parse_master(endpoint, field, body)
    }

    /// One call with retries; returns the body of the successful try.
    async fn call(
        &self,
        endpoint: Endpoint,
        query: &[(&str, String)],
        publication_id: Option<&str>,
    ) -> Result<Vec<u8>, TipError> {
        let url = format!("{}{}", self.base_url, endpoint.path());
        let mut retry = 0;
        loop {
            let attempt = self.try_once(endpoint, &url, query, publication_id);
            let Some(result) = self.cancel.run_until_cancelled(attempt).await else {
                return Err(TipError::Cancelled { endpoint });
            };
            let (failure, error) = match result {
                Ok(body) => return Ok(body),
                Err(failed) => failed,
            };

            let Some(delay) = retry::next_delay(&self.policy, &failure, retry) else {
                let exhausted = retry::is_transient(&failure) && self.policy.max_retries > 0;
                return Err(if exhausted {
                    TipError::RetriesExhausted {
                        endpoint,
                        attempts: retry + 1,
                        last: Box::new(error),
                    }
                } else {
                    error
                });
            };

            self.note_retry(RetryEvent {
                endpoint,
                attempt: retry + 1,
                delay,
                status: failure.status(),
                reason: error.to_string(),
            });
            if self
                .cancel
                .run_until_cancelled(tokio::time::sleep(delay))
                .await
                .is_none()
            {
                return Err(TipError::Cancelled { endpoint });
            }
            retry += 1;
        }
    }

    fn note_retry(&self, event: RetryEvent) {
        tracing::warn!(
            endpoint = %event.endpoint,
            attempt = event.attempt,
            delay_ms = event.delay.as_millis() as u64,
            status = event.status,
            error = %event.reason,
            "TIP request failed, retrying"
        );
        self.retries.fetch_add(1, Ordering::Relaxed);
        if let Some(hook) = &self.on_retry {
            hook(&event);
        }
    }

    async fn try_once(
        &self,
        endpoint: Endpoint,
        url: &str,
        query: &[(&str, String)],
        publication_id: Option<&str>,
    ) -> Result<Vec<u8>, (Failure, TipError)> {
        let response = self
            .http
            .post(url)
            .query(query)
            .basic_auth(&self.user, Some(&self.password))
            .send()
            .await
            .map_err(|error| classify(endpoint, &error, false))?;

        let status = response.status();
        if !status.is_success() {
            let retry_after = response
                .headers()
                .get(RETRY_AFTER)
                .and_then(|value| value.to_str().ok())
                .and_then(|value| retry::parse_retry_after(value, Timestamp::now()));
            let body = read_body(endpoint, response, ERROR_BODY_BYTES, true)
                .await
                .unwrap_or_default();
            let code = status.as_u16();
            let error = status_error(endpoint, code, publication_id, &body);
            return Err((Failure::Status { code, retry_after }, error));
        }

        let body = read_body(endpoint, response, self.max_body_bytes, false).await?;
        tracing::debug!(endpoint = %endpoint, bytes = body.len(), "TIP answered");
        Ok(body)
    }
}

/// Reads a body up to `limit` bytes. With `truncate`, a longer body is cut at the limit
/// (for error excerpts); without, it is an error.
async fn read_body(
    endpoint: Endpoint,
    mut response: reqwest::Response,
    limit: u64,
    truncate: bool,
) -> Result<Vec<u8>, (Failure, TipError)> {
    let too_large = || {
        (
            Failure::Permanent,
            TipError::BodyTooLarge { endpoint, limit },
        )
    };
    let announced = response.content_length().unwrap_or(0);
    if announced > limit && !truncate {
        return Err(too_large());
    }

    let mut body = Vec::with_capacity(announced.min(limit).min(64 * 1024 * 1024) as usize);
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|error| classify(endpoint, &error, true))?
    {
        if (body.len() + chunk.len()) as u64 > limit {
            if truncate {
                let room = limit as usize - body.len();
                body.extend_from_slice(&chunk[..room]);
                break;
            }
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The error of a non-success HTTP status.
fn status_error(
    endpoint: Endpoint,
    code: u16,
    publication_id: Option<&str>,
    body: &[u8],
) -> TipError {
    match code {
        401 => TipError::Unauthorized { endpoint },
        403 => TipError::Forbidden { endpoint },
        400 | 404 => TipError::NotFound {
            endpoint,
            status: code,
            what: match publication_id {
                Some(id) => format!("publication {id:?}"),
                None => format!("endpoint {}", endpoint.path()),
            },
        },
        _ => TipError::Status {
            endpoint,
            status: code,
            excerpt: excerpt(body),
        },
    }
}

/// Sorts an error of the HTTP stack into a retry class and a message.
fn classify(endpoint: Endpoint, error: &reqwest::Error, reading_body: bool) -> (Failure, TipError) {
    let detail = error_chain(error);
    if let Some(tls_error) = find_tls_error(error) {
        let error = match tls_error {
            rustls::Error::InvalidCertificate(_) => TipError::ServerCertificate {
                endpoint,
                detail: tls_error.to_string(),
            },
            _ => TipError::TlsHandshake {
                endpoint,
                detail: tls_error.to_string(),
            },
        };
        return (Failure::Permanent, error);
    }
    if error.is_timeout() {
        return (Failure::Timeout, TipError::Timeout { endpoint });
    }
    if error.is_connect() {
        return (Failure::Connect, TipError::Connect { endpoint, detail });
    }
    if reading_body || error.is_body() || error.is_request() {
        // The server closed the connection before a complete answer: a restart, a proxy.
        return (
            Failure::Interrupted,
            TipError::Interrupted { endpoint, detail },
        );
    }
    (Failure::Permanent, TipError::Request { endpoint, detail })
}

/// The rustls error somewhere in the chain. `io::Error::source` skips the error it wraps
/// (and the TLS connector nests io errors), so io errors are unwrapped with `get_ref`.
fn find_tls_error<'a>(error: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(cause) = current {
        if let Some(tls_error) = cause.downcast_ref::<rustls::Error>() {
            return Some(tls_error);
        }
        current = match cause.downcast_ref::<std::io::Error>() {
            Some(io_error) => match io_error.get_ref() {
                Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
                None => cause.source(),
            },
            None => cause.source(),
        };
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_become_actionable_errors() {
        let error = status_error(Endpoint::GetOne, 404, Some("abc123"), b"");
        assert!(
            error
                .to_string()
                .contains("publication \"abc123\" not found"),
            "{error}"
        );
        let error = status_error(Endpoint::GetMasterIoc, 400, None, b"");
        assert!(
            error
                .to_string()
                .contains("/api/publications/get_master_ioc not found"),
            "{error}"
        );
        let error = status_error(Endpoint::GetList, 401, None, b"");
        assert!(
            error.to_string().contains("terms and conditions"),
            "{error}"
        );
        let error = status_error(Endpoint::GetList, 403, None, b"");
        assert!(
            error.to_string().contains("no access to the TIP API"),
            "{error}"
        );
        let error = status_error(Endpoint::GetList, 502, None, b"<h1>Bad gateway</h1>");
        assert!(
            error.to_string().contains("<h1>Bad gateway</h1>"),
            "{error}"
        );
    }

    #[test]
    fn tls_errors_are_found_inside_io_errors() {
        let alert = rustls::Error::AlertReceived(rustls::AlertDescription::CertificateRequired);
        let wrapped = std::io::Error::new(std::io::ErrorKind::InvalidData, alert);
        let found = find_tls_error(&wrapped).unwrap();
        assert!(matches!(found, rustls::Error::AlertReceived(_)));
        let nested = std::io::Error::other(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer),
        ));
        assert!(matches!(
            find_tls_error(&nested),
            Some(rustls::Error::InvalidCertificate(_))
        ));
        let plain = std::io::Error::other("reset");
        assert!(find_tls_error(&plain).is_none());
    }
}
