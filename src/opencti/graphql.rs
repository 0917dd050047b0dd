//! The HTTP side of OpenCTI's GraphQL API: one POST per operation, typed errors.
//!
//! Every request is `POST {url}/graphql` with `{"query", "variables"}`, the bearer token
//! and this connector's `User-Agent` (reference/opencti-protocol.md §2). An HTTP status
//! other than 200 and a GraphQL `errors` array both become [`ApiError`]s; the first
//! GraphQL error's `name` and `message` are kept, because callers branch on them.

use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::documents::Operation;

/// The `User-Agent` of every request.
pub const USER_AGENT: &str = concat!("connector-kaspersky/", env!("CARGO_PKG_VERSION"));

pub use crate::config::Secret;

/// How the platform's TLS certificate is checked (`opencti.ssl_verify`).
///
/// This project verifies by default (DESIGN.md difference 8); pycti does not.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum TlsVerification {
    /// Against the system's trusted roots.
    #[default]
    System,
    /// Against the certificates of a PEM bundle only (`ssl_verify` set to a path).
    CaBundle(PathBuf),
    /// Not at all (`ssl_verify: false`).
    Disabled,
}

/// Where and how to reach the platform.
#[derive(Clone, Debug)]
pub struct ApiSettings {
    /// The platform's base URL (`opencti.url`); a trailing `/` is ignored.
    pub url: String,
    /// The API token (`opencti.token`).
    pub token: Secret,
    /// Certificate checking.
    pub tls: TlsVerification,
    /// Per-request timeout; pycti uses 300 s.
    pub timeout: Duration,
}

impl ApiSettings {
    /// Settings with TLS verification on and pycti's 300 s timeout.
    pub fn new(url: impl Into<String>, token: impl Into<Secret>) -> Self {
        ApiSettings {
            url: url.into(),
            token: token.into(),
            tls: TlsVerification::System,
            timeout: Duration::from_secs(300),
        }
    }
}

/// A failed GraphQL call.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// The HTTP client could not be built (for example an unreadable CA bundle).
    #[error("cannot set up the OpenCTI client: {detail}")]
    Setup { detail: String },
    /// The request did not get an HTTP answer (connection refused, TLS, timeout).
    #[error("{operation}: OpenCTI is not reachable at {url}: {source}")]
    Transport {
        operation: &'static str,
        url: String,
        #[source]
        source: reqwest::Error,
    },
    /// The platform answered with a status other than 200.
    #[error("{operation}: OpenCTI answered HTTP {status}: {body}")]
    Http {
        operation: &'static str,
        status: u16,
        body: String,
    },
    /// The platform answered with GraphQL errors; the first one is kept.
    #[error("{operation}: OpenCTI error {name}: {message}")]
    Graphql {
        operation: &'static str,
        name: String,
        message: String,
    },
    /// The answer did not have the expected shape.
    #[error("{operation}: unexpected answer from OpenCTI: {detail}")]
    Response {
        operation: &'static str,
        detail: String,
    },
    /// The caller cancelled while waiting for the platform.
    #[error("{operation}: cancelled while waiting for OpenCTI")]
    Cancelled { operation: &'static str },
}

impl ApiError {
    /// Whether trying again later may succeed: no answer, HTTP 429 or 5xx, or a GraphQL
    /// error that says the platform is busy or a gateway failed.
    pub fn is_transient(&self) -> bool {
        match self {
            ApiError::Transport { .. } => true,
            ApiError::Http { status, .. } => *status == 429 || *status >= 500,
            ApiError::Graphql { name, message, .. } => {
                let text = format!("{name} {message}");
                [
                    "LOCK_ERROR",
                    "Bad Gateway",
                    "Request timed out",
                    "DATABASE_ERROR",
                ]
                .iter()
                .any(|hint| text.contains(hint))
            }
            ApiError::Setup { .. } | ApiError::Response { .. } | ApiError::Cancelled { .. } => {
                false
            }
        }
    }

    /// The GraphQL error name, when the platform sent one.
    pub fn graphql_name(&self) -> Option<&str> {
        match self {
            ApiError::Graphql { name, .. } => Some(name),
            _ => None,
        }
    }
}

/// The lowest layer of the platform client: posts documents, returns `data`.
#[derive(Clone, Debug)]
pub struct GraphqlClient {
    http: reqwest::Client,
    endpoint: String,
    authorization: Secret,
}

/// Longest HTTP error body kept in an error.
const ERROR_BODY_LIMIT: usize = 512;

impl GraphqlClient {
    /// A client for `settings`. Proxies come from `HTTP_PROXY`/`HTTPS_PROXY`/`NO_PROXY`.
    ///
    /// # Errors
    ///
    /// [`ApiError::Setup`] when the CA bundle cannot be read or parsed.
    pub fn new(settings: &ApiSettings) -> Result<Self, ApiError> {
        let mut builder = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout.min(Duration::from_secs(30)));
        builder = match &settings.tls {
            TlsVerification::System => builder,
            TlsVerification::Disabled => builder.tls_danger_accept_invalid_certs(true),
            TlsVerification::CaBundle(path) => {
                let pem = std::fs::read(path).map_err(|e| ApiError::Setup {
                    detail: format!("cannot read CA bundle {}: {e}", path.display()),
                })?;
                let certificates =
                    reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| ApiError::Setup {
                        detail: format!("CA bundle {} is not PEM: {e}", path.display()),
                    })?;
                builder.tls_certs_only(certificates)
            }
        };
        let http = builder.build().map_err(|e| ApiError::Setup {
            detail: e.to_string(),
        })?;
        Ok(GraphqlClient {
            http,
            endpoint: format!("{}/graphql", settings.url.trim_end_matches('/')),
            authorization: Secret::new(format!("Bearer {}", settings.token.expose())),
        })
    }

    /// The GraphQL endpoint, `{url}/graphql`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Sends `operation` with `variables` and returns its `data`, deserialised.
    ///
    /// # Errors
    ///
    /// Any [`ApiError`] but `Setup`.
    pub async fn execute<V: Serialize + ?Sized, R: DeserializeOwned>(
        &self,
        operation: Operation,
        variables: &V,
    ) -> Result<R, ApiError> {
        #[derive(Serialize)]
        struct Request<'a, V: ?Sized> {
            query: &'a str,
            variables: &'a V,
        }

        let name = operation.name;
        let response = self
            .http
            .post(&self.endpoint)
            .header(reqwest::header::AUTHORIZATION, self.authorization.expose())
            .json(&Request {
                query: operation.document,
                variables,
            })
            .send()
            .await
            .map_err(|source| self.transport(name, source))?;

        let status = response.status().as_u16();
        let body = response
            .bytes()
            .await
            .map_err(|source| self.transport(name, source))?;
        if status != 200 {
            let text = String::from_utf8_lossy(&body);
            let text: String = text.chars().take(ERROR_BODY_LIMIT).collect();
            return Err(ApiError::Http {
                operation: name,
                status,
                body: text,
            });
        }

        let answer: Value = serde_json::from_slice(&body).map_err(|e| ApiError::Response {
            operation: name,
            detail: format!("not JSON: {e}"),
        })?;
        if let Some(first) = answer
            .get("errors")
            .and_then(Value::as_array)
            .and_then(|e| e.first())
        {
            let message = first
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let name_field = first
                .get("name")
                .or_else(|| first.get("extensions").and_then(|e| e.get("code")))
                .and_then(Value::as_str)
                .unwrap_or(message);
            return Err(ApiError::Graphql {
                operation: name,
                name: name_field.to_owned(),
                message: message.to_owned(),
            });
        }
        let data = answer.get("data").cloned().unwrap_or(Value::Null);
        serde_json::from_value(data).map_err(|e| ApiError::Response {
            operation: name,
            detail: e.to_string(),
        })
    }

    fn transport(&self, operation: &'static str, source: reqwest::Error) -> ApiError {
        ApiError::Transport {
            operation,
            url: self.endpoint.clone(),
            source: source.without_url(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_stay_hidden() {
        let settings = ApiSettings::new("https://opencti.example.com/", "s3cr3t-token");
        assert!(!format!("{settings:?}").contains("s3cr3t"));
        let client = GraphqlClient::new(&settings).unwrap();
        assert!(!format!("{client:?}").contains("s3cr3t"));
        assert_eq!(client.endpoint(), "https://opencti.example.com/graphql");
    }

    #[test]
    fn missing_ca_bundle_is_a_setup_error() {
        let mut settings = ApiSettings::new("https://opencti.example.com", "t");
        settings.tls = TlsVerification::CaBundle("/nonexistent/ca.pem".into());
        let error = GraphqlClient::new(&settings).unwrap_err();
        assert!(matches!(error, ApiError::Setup { .. }));
        assert!(error.to_string().contains("/nonexistent/ca.pem"));
    }

    #[test]
    fn transient_errors() {
        let http = |status| ApiError::Http {
            operation: "x",
            status,
            body: String::new(),
        };
        assert!(http(503).is_transient());
        assert!(http(429).is_transient());
        assert!(!http(401).is_transient());
        let graphql = ApiError::Graphql {
            operation: "x",
            name: "FUNCTIONAL_ERROR".into(),
            message: "No connector found".into(),
        };
        assert!(!graphql.is_transient());
        assert_eq!(graphql.graphql_name(), Some("FUNCTIONAL_ERROR"));
    }
}
