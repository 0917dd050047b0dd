//! TLS to OpenCTI's RabbitMQ: server verification on by default, an optional CA, an
//! optional client certificate, and pycti's "do not verify" for those who must.
//!
//! lapin verifies through the platform verifier and has no switch to turn checking off,
//! so the connector is built here and handed to lapin's low-level `Connection::connector`.

use std::fmt;
use std::io;
use std::sync::Arc;

use lapin::tcp::{RustlsConnector, RustlsConnectorConfig};
use rustls::DigitallySignedStruct;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};

use super::graphql::Secret;

/// TLS options of the broker connection (`MQ_USE_SSL_*`), used when `use_ssl` is on.
#[derive(Clone, Debug)]
pub struct BrokerTls {
    /// Check the server's certificate (`MQ_USE_SSL_REJECT_UNAUTHORIZED`); on by default in
    /// this project (DESIGN.md difference 8), off by default in pycti.
    pub verify: bool,
    /// Extra trusted CA certificates, PEM text (`MQ_USE_SSL_CA`).
    pub ca_pem: Option<String>,
    /// Client certificate chain, PEM text (`MQ_USE_SSL_CERT`).
    pub client_cert_pem: Option<String>,
    /// Client private key, PEM text (`MQ_USE_SSL_KEY`).
    pub client_key_pem: Option<Secret>,
}

impl Default for BrokerTls {
    fn default() -> Self {
        BrokerTls {
            verify: true,
            ca_pem: None,
            client_cert_pem: None,
            client_key_pem: None,
        }
    }
}

/// A `MQ_USE_SSL_*` value: inline PEM when it starts with `-----BEGIN`, else a file path.
///
/// # Errors
///
/// When the file cannot be read.
pub fn pem_setting(value: &str) -> io::Result<String> {
    if value.trim_start().starts_with("-----BEGIN") {
        Ok(value.to_owned())
    } else {
        std::fs::read_to_string(value)
    }
}

/// The TLS settings could not be used.
#[derive(Debug, thiserror::Error)]
#[error("broker TLS settings: {detail}")]
pub struct TlsSetupError {
    pub detail: String,
}

fn setup(detail: impl fmt::Display) -> TlsSetupError {
    TlsSetupError {
        detail: detail.to_string(),
    }
}

fn certificates(pem: &str, what: &str) -> Result<Vec<CertificateDer<'static>>, TlsSetupError> {
    let certs: Vec<_> = rustls_pemfile::certs(&mut pem.as_bytes())
        .collect::<Result<_, _>>()
        .map_err(|e| setup(format!("{what} is not PEM: {e}")))?;
    if certs.is_empty() {
        return Err(setup(format!("{what} holds no certificate")));
    }
    Ok(certs)
}

fn identity(
    tls: &BrokerTls,
) -> Result<Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>, TlsSetupError> {
    let (Some(cert), Some(key)) = (&tls.client_cert_pem, &tls.client_key_pem) else {
        if tls.client_cert_pem.is_some() != tls.client_key_pem.is_some() {
            return Err(setup("MQ_USE_SSL_CERT and MQ_USE_SSL_KEY go together"));
        }
        return Ok(None);
    };
    let chain = certificates(cert, "MQ_USE_SSL_CERT")?;
    let key = rustls_pemfile::private_key(&mut key.expose().as_bytes())
        .map_err(|e| setup(format!("MQ_USE_SSL_KEY is not PEM: {e}")))?
        .ok_or_else(|| setup("MQ_USE_SSL_KEY holds no private key"))?;
    Ok(Some((chain, key)))
}

/// The rustls connector for `tls`.
///
/// # Errors
///
/// When a PEM setting does not parse or the key does not match the certificate.
pub fn connector(tls: &BrokerTls) -> Result<RustlsConnector, TlsSetupError> {
    let identity = identity(tls)?;
    if tls.verify {
        let mut config = RustlsConnectorConfig::new_with_platform_verifier();
        if let Some(ca) = &tls.ca_pem {
            config.add_parsable_certificates(certificates(ca, "MQ_USE_SSL_CA")?);
        }
        let built = match identity {
            Some((chain, key)) => config.connector_with_single_cert(chain, key),
            None => config.connector_with_no_client_auth(),
        };
        return built.map_err(setup);
    }

    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(setup)?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AcceptAnyServer(provider)));
    let config = match identity {
        Some((chain, key)) => builder.with_client_auth_cert(chain, key).map_err(setup)?,
        None => builder.with_no_client_auth(),
    };
    Ok(RustlsConnector::from(config))
}

/// Accepts any server certificate (signatures are still checked), for
/// `MQ_USE_SSL_REJECT_UNAUTHORIZED=false`.
#[derive(Debug)]
struct AcceptAnyServer(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyServer {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.0.signature_verification_algorithms;
        rustls::crypto::verify_tls12_signature(message, cert, dss, algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.0.signature_verification_algorithms;
        rustls::crypto::verify_tls13_signature(message, cert, dss, algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(all(test, feature = "simulator"))]
mod tests {
    use super::*;

    fn minted() -> (String, String) {
        let key = rcgen::KeyPair::generate().unwrap();
        let params = rcgen::CertificateParams::new(vec!["localhost".into()]).unwrap();
        let cert = params.self_signed(&key).unwrap();
        (cert.pem(), key.serialize_pem())
    }

    #[test]
    fn connectors_build_for_every_mode() {
        let (cert, key) = minted();
        let with_ca = BrokerTls {
            ca_pem: Some(cert.clone()),
            ..BrokerTls::default()
        };
        assert!(connector(&with_ca).is_ok());
        let insecure = BrokerTls {
            verify: false,
            ..BrokerTls::default()
        };
        assert!(connector(&insecure).is_ok());
        let client = BrokerTls {
            ca_pem: Some(cert.clone()),
            client_cert_pem: Some(cert),
            client_key_pem: Some(Secret::new(key)),
            ..BrokerTls::default()
        };
        assert!(connector(&client).is_ok());
    }

    #[test]
    fn bad_pem_is_reported() {
        let bad = BrokerTls {
            ca_pem: Some("not pem".into()),
            ..BrokerTls::default()
        };
        let error = connector(&bad).unwrap_err();
        assert!(error.to_string().contains("MQ_USE_SSL_CA"));
        let half = BrokerTls {
            client_cert_pem: Some("x".into()),
            ..BrokerTls::default()
        };
        assert!(
            connector(&half)
                .unwrap_err()
                .to_string()
                .contains("go together")
        );
        assert!(pem_setting("-----BEGIN CERTIFICATE-----\n").is_ok());
        assert!(pem_setting("/nonexistent/ca.pem").is_err());
    }
}
