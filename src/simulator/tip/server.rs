//! The simulator's HTTPS server on loopback and the handle that controls it.
//!
//! TLS demands a client certificate signed by the simulator's own CA (minted at start), as
//! the real TIP demands Kaspersky's; HTTP basic auth comes on top. The handle gives a test
//! or a user everything needed to connect: address, CA, client PEM, credentials.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use rustls::RootCertStore;
use rustls::server::WebPkiClientVerifier;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;

use super::certs::{CertificateError, SimulatorCertificates};
use super::faults::{Fault, FaultSpec, FaultTarget, Faults, RequestCounts};
use super::routes::{ServerState, router};
use super::world::World;
use crate::tip::{Endpoint, TipSettings};

/// How to start the simulator. `Default` is a free port with a generated password.
#[derive(Clone, Default)]
pub struct SimulatorOptions {
    /// Port on 127.0.0.1; 0 (the default) picks a free one.
    pub port: u16,
    /// Basic auth user; default `simulator`.
    pub user: Option<String>,
    /// Basic auth password; default a random one per start.
    pub password: Option<String>,
    /// Faults queued before the first request.
    pub faults: Vec<FaultSpec>,
    /// Serve at most this many publications per `get_list` (with `count` saying how many
    /// matched), to exercise the client's count check.
    pub list_limit: Option<usize>,
}

impl std::fmt::Debug for SimulatorOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimulatorOptions")
            .field("port", &self.port)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("faults", &self.faults)
            .field("list_limit", &self.list_limit)
            .finish()
    }
}

/// Why the simulator could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SimulatorError {
    #[error(transparent)]
    Certificates(#[from] CertificateError),
    #[error("cannot set up the simulator's TLS: {0}")]
    Tls(String),
    #[error("cannot listen on 127.0.0.1:{port}: {source}")]
    Bind {
        port: u16,
        #[source]
        source: std::io::Error,
    },
}

/// Files written by [`TipSimulator::write_credentials`].
#[derive(Clone, Debug)]
pub struct CredentialFiles {
    /// The CA certificate: `KASPERSKY_CA_PATH`.
    pub ca_path: PathBuf,
    /// Client certificate and key in one PEM (mode 0600): `KASPERSKY_CERTIFICATE_PATH`.
    pub certificate_path: PathBuf,
    /// `KASPERSKY_*` lines to source in a shell (mode 0600, holds the password).
    pub env_path: PathBuf,
}

/// A running simulated TIP. Dropping it stops the server.
pub struct TipSimulator {
    addr: SocketAddr,
    certificates: SimulatorCertificates,
    user: String,
    password: String,
    faults: Arc<Faults>,
    counts: Arc<RequestCounts>,
    shutdown: CancellationToken,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for TipSimulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TipSimulator")
            .field("addr", &self.addr)
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

impl TipSimulator {
    /// Mints certificates, binds 127.0.0.1 and starts serving `world` on the current
    /// tokio runtime.
    pub async fn start(
        world: World,
        options: SimulatorOptions,
    ) -> Result<TipSimulator, SimulatorError> {
        let certificates = SimulatorCertificates::mint()?;
        let acceptor = tls_acceptor(&certificates)?;

        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, options.port))
            .await
            .map_err(|source| SimulatorError::Bind {
                port: options.port,
                source,
            })?;
        let addr = listener
            .local_addr()
            .map_err(|source| SimulatorError::Bind {
                port: options.port,
                source,
            })?;

        let user = options.user.unwrap_or_else(|| "simulator".to_owned());
        let password = options
            .password
            .unwrap_or_else(|| format!("sim-{}", uuid::Uuid::new_v4().simple()));
        let faults = Arc::new(Faults::default());
        options
            .faults
            .iter()
            .for_each(|spec| faults.push_spec(spec));
        let counts = Arc::new(RequestCounts::default());
        let state = Arc::new(ServerState {
            world: Arc::new(world),
            user: user.clone(),
            password: password.clone(),
            faults: faults.clone(),
            counts: counts.clone(),
            list_limit: options.list_limit,
        });

        let shutdown = CancellationToken::new();
        let task = tokio::spawn(accept_loop(
            listener,
            acceptor,
            router(state),
            shutdown.clone(),
        ));
        tracing::info!(addr = %addr, "TIP simulator listening");

        Ok(TipSimulator {
            addr,
            certificates,
            user,
            password,
            faults,
            counts,
            shutdown,
            task: Some(task),
        })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `https://127.0.0.1:<port>`: the `base_url` of the client.
    pub fn base_url(&self) -> String {
        format!("https://{}", self.addr)
    }

    /// The CA certificate (PEM) to trust.
    pub fn ca_pem(&self) -> &str {
        &self.certificates.ca_pem
    }

    /// Client certificate and key in one PEM.
    pub fn client_pem(&self) -> String {
        self.certificates.client_pem()
    }

    /// The client certificate alone (PEM).
    pub fn client_cert_pem(&self) -> &str {
        &self.certificates.client_cert_pem
    }

    /// The client key alone (PEM).
    pub fn client_key_pem(&self) -> &str {
        &self.certificates.client_key_pem
    }

    /// The basic auth user.
    pub fn user(&self) -> &str {
        &self.user
    }

    /// The basic auth password.
    pub fn password(&self) -> &str {
        &self.password
    }

    /// The fault queues, to add or clear faults while running.
    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    /// Queues one fault for the next request to `target`.
    pub fn inject(&self, target: impl Into<FaultTarget>, fault: Fault) {
        self.faults.push(target, fault);
    }

    /// The request counters.
    pub fn counts(&self) -> &RequestCounts {
        &self.counts
    }

    /// Requests to `endpoint` so far.
    pub fn requests(&self, endpoint: Endpoint) -> u64 {
        self.counts.get(endpoint)
    }

    /// Writes `ca.pem`, `client.pem` (certificate and key, mode 0600) and
    /// `simulator.env` (the `KASPERSKY_*` variables, mode 0600) into `dir`.
    pub fn write_credentials(&self, dir: &Path) -> std::io::Result<CredentialFiles> {
        std::fs::create_dir_all(dir)?;
        let files = CredentialFiles {
            ca_path: dir.join("ca.pem"),
            certificate_path: dir.join("client.pem"),
            env_path: dir.join("simulator.env"),
        };
        std::fs::write(&files.ca_path, self.ca_pem())?;
        write_private(&files.certificate_path, self.client_pem().as_bytes())?;

        let env: String = self
            .env_vars(&files)
            .into_iter()
            .map(|(key, value)| format!("export {key}='{value}'\n"))
            .collect();
        write_private(&files.env_path, env.as_bytes())?;
        Ok(files)
    }

    /// The variables that point the connector at this simulator: `KASPERSKY_BASE_URL`,
    /// `KASPERSKY_CERTIFICATE_PATH`, `KASPERSKY_CA_PATH`, `KASPERSKY_USER`,
    /// `KASPERSKY_PASSWORD`.
    pub fn env_vars(&self, files: &CredentialFiles) -> Vec<(&'static str, String)> {
        vec![
            ("KASPERSKY_BASE_URL", self.base_url()),
            (
                "KASPERSKY_CERTIFICATE_PATH",
                files.certificate_path.display().to_string(),
            ),
            ("KASPERSKY_CA_PATH", files.ca_path.display().to_string()),
            ("KASPERSKY_USER", self.user.clone()),
            ("KASPERSKY_PASSWORD", self.password.clone()),
        ]
    }

    /// Writes the credentials into `dir` and returns client settings pointing here, with
    /// every other setting at its default.
    pub fn tip_settings(&self, dir: &Path) -> std::io::Result<TipSettings> {
        let files = self.write_credentials(dir)?;
        let mut settings = TipSettings::new(
            self.base_url(),
            &self.user,
            &self.password,
            files.certificate_path,
        );
        settings.ca_path = Some(files.ca_path);
        Ok(settings)
    }

    /// Stops accepting, closes open connections, and waits for the server task.
    pub async fn shutdown(mut self) {
        self.shutdown.cancel();
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for TipSimulator {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

fn tls_acceptor(certificates: &SimulatorCertificates) -> Result<TlsAcceptor, SimulatorError> {
    let tls_error = |error: &dyn std::fmt::Display| SimulatorError::Tls(error.to_string());
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());

    let mut roots = RootCertStore::empty();
    roots
        .add(certificates.ca_der.clone())
        .map_err(|e| tls_error(&e))?;
    let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|e| tls_error(&e))?;

    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_error(&e))?
        .with_client_cert_verifier(verifier)
        .with_single_cert(
            vec![certificates.server_cert_der.clone()],
            certificates.server_key(),
        )
        .map_err(|e| tls_error(&e))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

async fn accept_loop(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    router: axum::Router,
    shutdown: CancellationToken,
) {
    loop {
        let accepted = tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(connection) => connection,
            Err(error) => {
                tracing::warn!(error = %error, "TIP simulator failed to accept a connection");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };

        let connection = serve_connection(
            acceptor.clone(),
            stream,
            TowerToHyperService::new(router.clone()),
        );
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            tokio::select! {
                _ = shutdown.cancelled() => {}
                _ = connection => {}
            }
            tracing::trace!(peer = %peer, "TIP simulator connection closed");
        });
    }
}

/// One connection: the TLS handshake (which checks the client certificate), then HTTP/1.1
/// until the client closes.
async fn serve_connection(
    acceptor: TlsAcceptor,
    stream: tokio::net::TcpStream,
    service: TowerToHyperService<axum::Router>,
) {
    let tls = match acceptor.accept(stream).await {
        Ok(tls) => tls,
        Err(error) => {
            tracing::debug!(error = %error, "TIP simulator refused a TLS handshake");
            return;
        }
    };
    let served = hyper::server::conn::http1::Builder::new()
        .serve_connection(TokioIo::new(tls), service)
        .await;
    if let Err(error) = served {
        tracing::debug!(error = %error, "TIP simulator connection ended with an error");
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;

        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(path)?;
        // An existing file keeps its mode through `open`; set it again.
        std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
        file.write_all(bytes)
    }
    #[cfg(not(unix))]
    std::fs::write(path, bytes)
}
