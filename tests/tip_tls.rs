//! Authentication against the simulator: the client certificate in the TLS handshake and
//! basic auth, and a clear message for each way the certificate file can be wrong.
#![cfg(feature = "simulator")]

#[path = "support/tip_harness.rs"]
mod harness;

use connector_kaspersky::simulator::tip::SimulatorCertificates;
use connector_kaspersky::tip::{Endpoint, TipClient, TipError};
use harness::Harness;

/// A connection without a client certificate is refused in the TLS handshake, before any
/// HTTP answer.
#[tokio::test]
async fn a_connection_without_a_client_certificate_fails() {
    let h = Harness::generated().await;
    let ca = reqwest::Certificate::from_pem(h.sim.ca_pem().as_bytes()).unwrap();
    let anonymous = reqwest::Client::builder()
        .tls_certs_only([ca])
        .build()
        .unwrap();

    let result = anonymous
        .post(format!("{}{}", h.sim.base_url(), Endpoint::GetList.path()))
        .basic_auth(h.sim.user(), Some(h.sim.password()))
        .send()
        .await;
    let error = result.expect_err("the simulator must refuse a client without a certificate");
    let chain = format!("{:?}", error);
    assert!(
        chain.contains("CertificateRequired") || chain.contains("alert"),
        "{chain}"
    );
    assert_eq!(
        h.sim.requests(Endpoint::GetList),
        0,
        "no HTTP request got through"
    );

    // The same request with the certificate goes through.
    let (status, _) = h.raw_post(Endpoint::GetList, &[]).await;
    assert_eq!(status, 200);
}

/// A client certificate from another CA fails the handshake with the client's TLS message,
/// and is not retried.
#[tokio::test]
async fn a_foreign_client_certificate_gives_the_tls_message() {
    let mut h = Harness::generated().await;
    let foreign = SimulatorCertificates::mint().unwrap();
    let path = h.dir.path().join("foreign.pem");
    std::fs::write(&path, foreign.client_pem()).unwrap();
    h.settings.certificate_path = path;

    let error = h.client().get_list(None, None).await.unwrap_err();
    assert!(matches!(error, TipError::TlsHandshake { .. }), "{error:?}");
    let text = error.to_string();
    assert!(text.contains("TLS handshake with the TIP failed"), "{text}");
    assert!(text.contains("client certificate"), "{text}");
    assert!(error.is_permanent());
}

/// A wrong password gets the 401 explanation, after one try.
#[tokio::test]
async fn a_wrong_password_gives_the_401_message_without_retry() {
    let mut h = Harness::generated().await;
    h.settings.password = "not-the-password".to_owned();
    let client = h.client();

    let error = client.get_list(None, None).await.unwrap_err();
    assert!(matches!(error, TipError::Unauthorized { .. }), "{error:?}");
    let text = error.to_string();
    assert!(text.contains("terms and conditions not accepted"), "{text}");
    assert!(!text.contains("not-the-password"), "{text}");
    assert_eq!(h.sim.requests(Endpoint::GetList), 1);
    assert_eq!(client.retries(), 0);
}

/// Without the simulator's CA, its server certificate is not trusted (a CA minted at start
/// is in no system bundle, `SSL_CERT_FILE` or not); the message names the settings that
/// fix it, and it is not retried. With `ssl_verify=false` the same call works.
#[tokio::test]
async fn an_untrusted_server_certificate_names_the_fix() {
    let mut h = Harness::generated().await;
    h.settings.ca_path = None;

    let client = h.client();
    let error = client.get_list(None, None).await.unwrap_err();
    assert!(
        matches!(error, TipError::ServerCertificate { .. }),
        "{error:?}"
    );
    assert_eq!(client.retries(), 0);
    let text = error.to_string();
    assert!(
        text.contains("KASPERSKY_CA_PATH") && text.contains("ssl_verify"),
        "{text}"
    );

    h.settings.ssl_verify = false;
    assert_eq!(h.client().get_list(None, None).await.unwrap().len(), 8);
}

fn client_error(h: &Harness, file: &str, contents: Option<&str>) -> TipError {
    let path = h.dir.path().join(file);
    if let Some(contents) = contents {
        std::fs::write(&path, contents).unwrap();
    }
    let mut settings = h.settings.clone();
    settings.certificate_path = path;
    TipClient::new(&settings).expect_err("the certificate file is unusable")
}

/// Each way the certificate file can be wrong has its own message, and none of them
/// quotes the key.
#[tokio::test]
async fn each_certificate_file_mistake_has_its_own_message() {
    let h = Harness::generated().await;

    let missing = client_error(&h, "nowhere.pem", None);
    assert!(
        matches!(missing, TipError::CertificateMissing { .. }),
        "{missing:?}"
    );
    assert!(missing.to_string().contains("does not exist"), "{missing}");

    let no_key = client_error(&h, "cert-only.pem", Some(h.sim.client_cert_pem()));
    assert!(
        matches!(no_key, TipError::CertificateWithoutKey { .. }),
        "{no_key:?}"
    );
    assert!(
        no_key.to_string().contains("holds no private key"),
        "{no_key}"
    );

    let no_cert = client_error(&h, "key-only.pem", Some(h.sim.client_key_pem()));
    assert!(
        matches!(no_cert, TipError::CertificateWithoutCertificate { .. }),
        "{no_cert:?}"
    );
    assert!(
        no_cert.to_string().contains("holds no certificate"),
        "{no_cert}"
    );

    let encrypted = format!(
        "{}-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIFHDBOBgkqhkiG9w0BBQ0wQTApBgkqhkiG\n\
         -----END ENCRYPTED PRIVATE KEY-----\n",
        h.sim.client_cert_pem()
    );
    let encrypted = client_error(&h, "encrypted.pem", Some(&encrypted));
    assert!(
        matches!(encrypted, TipError::CertificateKeyEncrypted { .. }),
        "{encrypted:?}"
    );
    assert!(
        encrypted.to_string().contains("openssl pkcs8"),
        "{encrypted}"
    );

    let directory = client_error(&h, ".", None);
    assert!(
        matches!(directory, TipError::CertificateUnreadable { .. }),
        "{directory:?}"
    );

    let key_body: String = h.sim.client_key_pem().lines().nth(1).unwrap().to_owned();
    for error in [&missing, &no_key, &no_cert, &encrypted, &directory] {
        assert!(error.is_permanent());
        assert!(!error.to_string().contains(&key_body));
        assert!(!format!("{error:?}").contains(&key_body));
    }
}

/// The credential files a user points the connector at: the key file is private, and the
/// environment file names every variable.
#[tokio::test]
async fn credential_files_are_written_for_a_user() {
    let h = Harness::generated().await;
    let dir = tempfile::tempdir().unwrap();
    let files = h.sim.write_credentials(dir.path()).unwrap();

    let env = std::fs::read_to_string(&files.env_path).unwrap();
    for key in [
        "KASPERSKY_BASE_URL",
        "KASPERSKY_CERTIFICATE_PATH",
        "KASPERSKY_CA_PATH",
        "KASPERSKY_USER",
        "KASPERSKY_PASSWORD",
    ] {
        assert!(env.contains(&format!("export {key}=")), "{key}");
    }
    assert!(env.contains(&h.sim.base_url()));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for path in [&files.certificate_path, &files.env_path] {
            let mode = std::fs::metadata(path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{}", path.display());
        }
    }
    let pem = std::fs::read_to_string(&files.certificate_path).unwrap();
    assert!(pem.contains("BEGIN CERTIFICATE") && pem.contains("BEGIN PRIVATE KEY"));
}

/// `Debug` of the settings and the client never shows the password.
#[tokio::test]
async fn debug_output_hides_the_password() {
    let h = Harness::generated().await;
    let password = h.sim.password().to_owned();
    assert!(!format!("{:?}", h.settings).contains(&password));
    assert!(!format!("{:?}", h.client()).contains(&password));
    assert!(!format!("{:?}", h.sim).contains(&password));
}
