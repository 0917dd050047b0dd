//! The TLS side of the TIP client: the client identity file and the extra trusted CAs.
//!
//! The TIP wants a client certificate issued by Kaspersky on top of basic auth. Users get
//! that file wrong in a handful of ways (no key, no certificate, an encrypted key), and the
//! TLS stack only says "builder error" or fails the handshake, so the file is checked here
//! first and each mistake gets its own message. Key material never reaches a message.

use std::io;
use std::path::{Path, PathBuf};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use super::TipError;

/// Reads the client certificate file and turns it into a client identity.
///
/// # Errors
///
/// One distinct [`TipError`] each for a missing file, an unreadable file, a file without a
/// certificate, without a private key, with an encrypted key, and for blocks the TLS stack
/// refuses.
pub(crate) fn load_identity(path: &Path) -> Result<reqwest::Identity, TipError> {
    let pem = read_file(path)?;
    warn_if_readable_by_others(path);
    check_identity_pem(&pem, path)?;

    reqwest::Identity::from_pem(&pem).map_err(|error| TipError::CertificateInvalid {
        path: path.to_path_buf(),
        reason: error_chain(&error),
    })
}

/// Checks that one PEM buffer holds at least one certificate and exactly one usable,
/// unencrypted private key (PKCS#8, PKCS#1 or SEC1).
pub(crate) fn check_identity_pem(pem: &[u8], path: &Path) -> Result<(), TipError> {
    if holds_encrypted_key(pem) {
        return Err(TipError::CertificateKeyEncrypted {
            path: path.to_path_buf(),
        });
    }

    let damaged = || TipError::CertificateInvalid {
        path: path.to_path_buf(),
        reason: "a PEM block is damaged (bad base64 or a missing END line)".to_owned(),
    };
    let mut certificates = 0;
    for certificate in CertificateDer::pem_slice_iter(pem) {
        certificate.map_err(|_| damaged())?;
        certificates += 1;
    }
    let mut keys = 0;
    for key in PrivateKeyDer::pem_slice_iter(pem) {
        key.map_err(|_| damaged())?;
        keys += 1;
    }

    match (certificates, keys) {
        (0, 0) => Err(TipError::CertificateInvalid {
            path: path.to_path_buf(),
            reason: "no PEM certificate or key found (is the file PEM? convert a .p12/.pfx \
                     with `openssl pkcs12 -in cert.p12 -out cert.pem -nodes`)"
                .to_owned(),
        }),
        (0, _) => Err(TipError::CertificateWithoutCertificate {
            path: path.to_path_buf(),
        }),
        (_, 0) => Err(TipError::CertificateWithoutKey {
            path: path.to_path_buf(),
        }),
        (_, 1) => Ok(()),
        (_, _) => Err(TipError::CertificateInvalid {
            path: path.to_path_buf(),
            reason: format!("{keys} private keys found, expected exactly one"),
        }),
    }
}

/// Reads the PEM bundle of extra CA certificates.
pub(crate) fn load_ca_file(path: &Path) -> Result<Vec<reqwest::Certificate>, TipError> {
    let ca_error = |reason: String| TipError::CaFile {
        path: path.to_path_buf(),
        reason,
    };
    let pem = std::fs::read(path).map_err(|error| ca_error(error.to_string()))?;
    let certificates = reqwest::Certificate::from_pem_bundle(&pem)
        .map_err(|error| ca_error(error_chain(&error)))?;
    if certificates.is_empty() {
        return Err(ca_error("no PEM certificate in the file".to_owned()));
    }
    Ok(certificates)
}

/// The CA file to trust besides the system roots: `ca_path`, else `$SSL_CERT_FILE`.
pub(crate) fn ca_file(ca_path: Option<&Path>) -> Option<PathBuf> {
    ca_path.map(Path::to_path_buf).or_else(|| {
        std::env::var_os("SSL_CERT_FILE")
            .filter(|value| !value.is_empty())
            .map(PathBuf::from)
    })
}

/// Encrypted keys come as PKCS#8 `ENCRYPTED PRIVATE KEY` blocks or as legacy OpenSSL
/// blocks with a `Proc-Type: 4,ENCRYPTED` header; both are unusable without a passphrase.
fn holds_encrypted_key(pem: &[u8]) -> bool {
    let text = String::from_utf8_lossy(pem);
    text.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----")
        || text.contains("Proc-Type: 4,ENCRYPTED")
}

fn read_file(path: &Path) -> Result<Vec<u8>, TipError> {
    std::fs::read(path).map_err(|source| match source.kind() {
        io::ErrorKind::NotFound => TipError::CertificateMissing {
            path: path.to_path_buf(),
        },
        _ => TipError::CertificateUnreadable {
            path: path.to_path_buf(),
            source,
        },
    })
}

/// The file holds a private key, so group or world access deserves a warning.
fn warn_if_readable_by_others(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;

        if let Ok(metadata) = std::fs::metadata(path) {
            let mode = metadata.permissions().mode();
            if mode & 0o077 != 0 {
                tracing::warn!(
                    path = %path.display(),
                    mode = format!("{:o}", mode & 0o777),
                    "client certificate file holds a private key but is open to group or \
                     others; restrict it with chmod 600"
                );
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

pub(crate) use crate::errors::chain as error_chain;

#[cfg(test)]
mod tests {
    use super::*;

    const CERT: &str =
        "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ2lJ\n-----END CERTIFICATE-----\n";
    const KEY: &str =
        "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEG\n-----END PRIVATE KEY-----\n";

    fn check(pem: &str) -> Result<(), TipError> {
        check_identity_pem(pem.as_bytes(), Path::new("client.pem"))
    }

    #[test]
    fn certificate_and_key_together_pass() {
        check(&format!("{CERT}{KEY}")).unwrap();
        check(&format!("{KEY}{CERT}")).unwrap();
    }

    #[test]
    fn each_incomplete_file_has_its_own_error() {
        assert!(matches!(
            check(CERT),
            Err(TipError::CertificateWithoutKey { .. })
        ));
        assert!(matches!(
            check(KEY),
            Err(TipError::CertificateWithoutCertificate { .. })
        ));
        assert!(matches!(
            check("hello"),
            Err(TipError::CertificateInvalid { .. })
        ));
        let two_keys = format!("{CERT}{KEY}{KEY}");
        assert!(matches!(
            check(&two_keys),
            Err(TipError::CertificateInvalid { .. })
        ));
    }

    #[test]
    fn encrypted_keys_are_named_and_the_fix_is_given() {
        let pkcs8 = format!(
            "{CERT}-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIFHDBOBgkq\n\
             -----END ENCRYPTED PRIVATE KEY-----\n"
        );
        let error = check(&pkcs8).unwrap_err();
        assert!(matches!(error, TipError::CertificateKeyEncrypted { .. }));
        assert!(error.to_string().contains("openssl pkcs8"));

        let legacy = format!(
            "{CERT}-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n\
             DEK-Info: AES-128-CBC,00\n\nMIIE\n-----END RSA PRIVATE KEY-----\n"
        );
        assert!(matches!(
            check(&legacy),
            Err(TipError::CertificateKeyEncrypted { .. })
        ));
    }

    #[test]
    fn unusable_ca_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.pem");
        assert!(matches!(
            load_ca_file(&missing),
            Err(TipError::CaFile { .. })
        ));
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate").unwrap();
        let error = load_ca_file(&empty).unwrap_err();
        assert!(error.to_string().contains("no PEM certificate"), "{error}");
        assert_eq!(ca_file(Some(&empty)), Some(empty.clone()));
    }

    /// Collects what the subscriber writes, to check a warning was logged.
    #[derive(Clone, Default)]
    struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl io::Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_key_file_open_to_others_is_warned_about() {
        use std::os::unix::fs::PermissionsExt;

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("client.pem");
        std::fs::write(&path, "x").unwrap();
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();

        tracing::subscriber::with_default(subscriber, || {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
            warn_if_readable_by_others(&path);
            assert!(captured.0.lock().unwrap().is_empty());
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            warn_if_readable_by_others(&path);
        });
        let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        assert!(log.contains("WARN") && log.contains("chmod 600"), "{log}");
        assert!(
            log.contains("mode=\"644\"") || log.contains("mode=644"),
            "{log}"
        );
    }

    #[test]
    fn messages_never_quote_the_key() {
        let damaged = format!("{CERT}-----BEGIN PRIVATE KEY-----\nSECRETKEYTEXT\n");
        let error = check(&damaged).unwrap_err();
        assert!(!error.to_string().contains("SECRETKEYTEXT"), "{error}");
    }
}
