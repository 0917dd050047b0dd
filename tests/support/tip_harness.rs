//! Shared set-up of the TIP tests: a simulator on loopback, client settings with short
//! delays, and payload decoding.
#![allow(dead_code)]

use std::io::Read;
use std::time::Duration;

use base64::Engine;
use connector_kaspersky::simulator::tip::{
    GenerateParams, SimulatorOptions, TipSimulator, World, generate,
};
use connector_kaspersky::tip::{Endpoint, TipClient, TipSettings};
use tempfile::TempDir;

/// A running simulator, the directory holding its credentials, and settings for it.
pub struct Harness {
    pub sim: TipSimulator,
    pub dir: TempDir,
    pub settings: TipSettings,
}

impl Harness {
    /// Serves `world` with default options.
    pub async fn start(world: World) -> Harness {
        Harness::start_with(world, SimulatorOptions::default()).await
    }

    /// Serves `world`; client settings retry fast (10 ms base delay, 2 s cap, 10 s read
    /// timeout) so that tests stay quick; the timeouts are generous for a loaded machine.
    pub async fn start_with(world: World, options: SimulatorOptions) -> Harness {
        let sim = TipSimulator::start(world, options)
            .await
            .expect("simulator starts");
        let dir = tempfile::tempdir().expect("temporary directory");
        let mut settings = sim.tip_settings(dir.path()).expect("credentials written");
        settings.base_delay = Duration::from_millis(10);
        settings.retry_max_delay = Duration::from_secs(2);
        settings.read_timeout = Duration::from_secs(10);
        settings.connect_timeout = Duration::from_secs(10);
        Harness { sim, dir, settings }
    }

    /// The default generated world.
    pub async fn generated() -> Harness {
        Harness::start(generate(&GenerateParams::default())).await
    }

    pub fn client(&self) -> TipClient {
        TipClient::new(&self.settings).expect("client builds")
    }

    /// A raw HTTPS client with the simulator's client certificate, for answers unparsed.
    pub fn raw_client(&self) -> reqwest::Client {
        let identity = reqwest::Identity::from_pem(self.sim.client_pem().as_bytes()).unwrap();
        let ca = reqwest::Certificate::from_pem(self.sim.ca_pem().as_bytes()).unwrap();
        reqwest::Client::builder()
            .identity(identity)
            .tls_certs_only([ca])
            .build()
            .unwrap()
    }

    /// POSTs to an endpoint with basic auth and returns the status and JSON body.
    pub async fn raw_post(
        &self,
        endpoint: Endpoint,
        query: &[(&str, &str)],
    ) -> (u16, serde_json::Value) {
        let response = self
            .raw_client()
            .post(format!("{}{}", self.sim.base_url(), endpoint.path()))
            .query(query)
            .basic_auth(self.sim.user(), Some(self.sim.password()))
            .send()
            .await
            .expect("request sent");
        let status = response.status().as_u16();
        let body = response.bytes().await.expect("body read");
        (status, serde_json::from_slice(&body).expect("JSON body"))
    }
}

/// Base64, then gunzip (with a cap: test inputs are small).
pub fn decode(encoded: &str) -> Vec<u8> {
    let compressed = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .expect("valid base64");
    let mut raw = Vec::new();
    flate2::read::MultiGzDecoder::new(&compressed[..])
        .take(64 * 1024 * 1024)
        .read_to_end(&mut raw)
        .expect("valid gzip");
    raw
}

/// Replaces every base64+gzip payload field of a JSON value by its decoded text (lossy),
/// so two answers can be compared field for field.
pub fn decode_payloads(value: &mut serde_json::Value) {
    const FIELDS: [&str; 5] = [
        "report_pdf",
        "report_yara",
        "report_iocs",
        "master_ioc",
        "master_yara",
    ];
    match value {
        serde_json::Value::Object(map) => {
            for (key, field) in map.iter_mut() {
                if FIELDS.contains(&key.as_str())
                    && let serde_json::Value::String(encoded) = field
                {
                    let raw = decode(encoded);
                    *field = serde_json::Value::String(format!(
                        "{} bytes: {}",
                        raw.len(),
                        String::from_utf8_lossy(&raw)
                    ));
                } else {
                    decode_payloads(field);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(decode_payloads),
        _ => {}
    }
}
