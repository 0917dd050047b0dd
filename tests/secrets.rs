//! Issue 6, secrets: a whole run logged at debug level, and runs that fail on a refused
//! password or token, never print the TIP password (nor its base64, nor the basic-auth
//! header value), the OpenCTI token or the client certificate's private key.

#[path = "support/ocfixture.rs"]
mod ocfixture;
#[path = "support/opencti_env.rs"]
mod opencti_env;
#[path = "support/proxy.rs"]
mod proxy;

use base64::Engine;
use connector_kaspersky::simulator::opencti::StandInConfig;
use connector_kaspersky::simulator::tip::SimulatorOptions;
use ocfixture::{Fixture, RunOutput, Setup};

/// A fixture whose password and token are distinctive.
async fn start(test: &str) -> Option<(Fixture, String, String)> {
    let unique = uuid::Uuid::new_v4().simple().to_string();
    let password = format!("tipPw-{unique}");
    let token = format!("octiTok-{unique}");
    let defaults = Setup::default();
    let setup = Setup {
        simulator: SimulatorOptions {
            password: Some(password.clone()),
            ..SimulatorOptions::default()
        },
        stand_in: StandInConfig {
            token: token.clone(),
            ..defaults.stand_in
        },
        ..defaults
    };
    let fixture = Fixture::start_with(test, setup).await?;
    Some((fixture, password, token))
}

/// Every way a secret could show: as it is, in base64, as basic-auth credentials, as a
/// bearer header, and each base64 line of the private key.
fn forbidden(fixture: &Fixture, password: &str, token: &str) -> Vec<String> {
    let b64 = |text: &str| base64::engine::general_purpose::STANDARD.encode(text);
    let user = fixture.tip.user();
    let mut secrets = vec![
        password.to_owned(),
        b64(password),
        b64(&format!("{user}:{password}")),
        token.to_owned(),
        b64(token),
    ];
    secrets.extend(
        fixture
            .tip
            .client_key_pem()
            .lines()
            .filter(|line| !line.starts_with("-----") && line.len() >= 16)
            .map(str::to_owned),
    );
    secrets
}

fn assert_nothing_leaks(output: &RunOutput, secrets: &[String]) {
    for secret in secrets {
        for (stream, text) in [("stdout", &output.stdout), ("stderr", &output.stderr)] {
            assert!(
                !text.contains(secret.as_str()),
                "a secret ({}…) is in {stream}",
                &secret[..6]
            );
        }
    }
}

/// A successful run at debug level, with JSON logs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_debug_run_prints_no_secret() {
    let Some((fixture, password, token)) = start("secrets").await else {
        return;
    };
    let key = std::fs::read_to_string(fixture.certificate_path()).expect("the client PEM");
    assert!(
        key.contains("PRIVATE KEY"),
        "the key is in the certificate file"
    );
    let secrets = forbidden(&fixture, &password, &token);
    assert!(secrets[5..].iter().all(|line| key.contains(line.as_str())));

    let output = fixture.run(&[("CONNECTOR_LOG_LEVEL", "debug")]).await;
    output.assert_success();
    let lines = output.log_lines();
    assert!(
        lines.iter().any(|l| l["level"] == "DEBUG"),
        "no debug line was written"
    );
    assert!(lines.len() > 50, "too few log lines to mean anything");
    assert_nothing_leaks(&output, &secrets);
    assert!(!fixture.drain().await.is_empty());
}

/// The TIP refuses the password (401): the run fails, saying so, without printing it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_password_is_not_printed() {
    let Some((fixture, password, token)) = start("wrong-pw").await else {
        return;
    };
    let wrong = format!("wrongPw-{}", uuid::Uuid::new_v4().simple());

    let output = fixture
        .run(&[
            ("CONNECTOR_LOG_LEVEL", "debug"),
            ("KASPERSKY_PASSWORD", wrong.as_str()),
        ])
        .await;
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        ocfixture::tail(&output.stderr)
    );
    assert!(
        output.stderr.contains("401"),
        "{}",
        ocfixture::tail(&output.stderr)
    );
    let mut secrets = forbidden(&fixture, &password, &token);
    secrets.extend(forbidden(&fixture, &wrong, &token));
    assert_nothing_leaks(&output, &secrets);
}

/// OpenCTI refuses the token: start-up fails without printing it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_token_is_not_printed() {
    let Some((fixture, password, token)) = start("wrong-token").await else {
        return;
    };
    let wrong = format!("wrongTok-{}", uuid::Uuid::new_v4().simple());

    let output = fixture
        .run(&[
            ("CONNECTOR_LOG_LEVEL", "debug"),
            ("OPENCTI_TOKEN", wrong.as_str()),
        ])
        .await;
    assert!(!output.status.success());
    assert!(
        output.stderr.contains("AUTH_REQUIRED"),
        "{}",
        ocfixture::tail(&output.stderr)
    );
    let mut secrets = forbidden(&fixture, &password, &token);
    secrets.extend(forbidden(&fixture, &password, &wrong));
    assert_nothing_leaks(&output, &secrets);
}
