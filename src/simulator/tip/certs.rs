//! Throwaway certificates for one simulator run: a CA, a server certificate for
//! 127.0.0.1/localhost, and a client certificate the server accepts.
//!
//! Everything is minted in memory at start; nothing secret is stored in the project. The
//! client certificate and key come as one PEM, the form the TIP's users are given.

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// Why certificates could not be minted.
#[derive(Debug, thiserror::Error)]
#[error("cannot mint simulator certificates: {0}")]
pub struct CertificateError(#[from] rcgen::Error);

/// A CA with one server and one client certificate signed by it.
pub struct SimulatorCertificates {
    /// The CA certificate (PEM), the one file a client must trust.
    pub ca_pem: String,
    /// The client certificate (PEM).
    pub client_cert_pem: String,
    /// The client's private key (PKCS#8 PEM, unencrypted).
    pub client_key_pem: String,
    pub(crate) ca_der: CertificateDer<'static>,
    pub(crate) server_cert_der: CertificateDer<'static>,
    pub(crate) server_key_der: PrivatePkcs8KeyDer<'static>,
}

impl std::fmt::Debug for SimulatorCertificates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimulatorCertificates")
            .finish_non_exhaustive()
    }
}

impl SimulatorCertificates {
    /// Mints a fresh CA, server certificate and client certificate (ECDSA P-256).
    pub fn mint() -> Result<SimulatorCertificates, CertificateError> {
        let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "connector-kaspersky TIP simulator CA");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate()?)?;

        let mut server_params =
            CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])?;
        server_params
            .distinguished_name
            .push(DnType::CommonName, "TIP simulator");
        server_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let server_key = KeyPair::generate()?;
        let server_cert = server_params.signed_by(&server_key, &ca)?;

        let mut client_params = CertificateParams::new(Vec::<String>::new())?;
        client_params
            .distinguished_name
            .push(DnType::CommonName, "TIP simulator client");
        client_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let client_key = KeyPair::generate()?;
        let client_cert = client_params.signed_by(&client_key, &ca)?;

        Ok(SimulatorCertificates {
            ca_pem: ca.pem(),
            client_cert_pem: client_cert.pem(),
            client_key_pem: client_key.serialize_pem(),
            ca_der: ca.der().clone(),
            server_cert_der: server_cert.der().clone(),
            server_key_der: PrivatePkcs8KeyDer::from(server_key.serialize_der()),
        })
    }

    /// Client certificate and key in one PEM, the file `certificate_path` names.
    pub fn client_pem(&self) -> String {
        format!("{}{}", self.client_cert_pem, self.client_key_pem)
    }

    pub(crate) fn server_key(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(self.server_key_der.clone_key())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minted_pems_have_the_expected_blocks() {
        let certs = SimulatorCertificates::mint().unwrap();
        assert!(certs.ca_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        let client = certs.client_pem();
        assert!(client.contains("-----BEGIN CERTIFICATE-----"));
        assert!(client.contains("-----BEGIN PRIVATE KEY-----"));
        assert!(!format!("{certs:?}").contains("PRIVATE"));
    }
}
