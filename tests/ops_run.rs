//! What an operator watches during a run: pycti's JSON log lines and the Prometheus
//! endpoint with `/health` (issue #8).
#![cfg(feature = "simulator")]

use std::process::{Command, Stdio};
use std::time::Duration;

use connector_kaspersky::simulator::tip::{
    Fault, GenerateParams, SimulatorOptions, TipSimulator, generate, serve,
};
use connector_kaspersky::tip::Endpoint;
use serde_json::Value;

/// The variables of a directory-mode run against `sim`.
fn run_vars(sim: &TipSimulator, dir: &std::path::Path) -> Vec<(String, String)> {
    let files = sim.write_credentials(&dir.join("tip")).unwrap();
    let mut vars: Vec<(String, String)> = sim
        .env_vars(&files)
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_string()))
        .collect();
    for (key, value) in [
        ("CONNECTOR_SEND_TO_QUEUE", "false"),
        ("CONNECTOR_SEND_TO_DIRECTORY", "true"),
        ("KASPERSKY_MASTER_IOC_FETCH_WEEKDAY", "0"),
        ("KASPERSKY_MASTER_YARA_FETCH_WEEKDAY", "0"),
    ] {
        vars.push((key.to_owned(), value.to_owned()));
    }
    let out = dir.join("bundles").display().to_string();
    vars.push(("CONNECTOR_SEND_TO_DIRECTORY_PATH".to_owned(), out));
    vars
}

fn command(vars: &[(String, String)], dir: &std::path::Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_connector-kaspersky"));
    command
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    command.envs(vars.iter().map(|(k, v)| (k, v)));
    command
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test(flavor = "multi_thread")]
async fn log_lines_are_pycti_json_with_structured_fields() {
    let sim = serve(
        generate(&GenerateParams::default()),
        SimulatorOptions::default(),
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut vars = run_vars(&sim, dir.path());
    vars.push(("CONNECTOR_LOG_LEVEL".into(), "info".into()));
    vars.push(("CONNECTOR_NAME".into(), "Kaspersky Test".into()));
    let output = command(&vars, dir.path())
        .args(["run", "--once", "--log-format", "json"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let lines: Vec<Value> = String::from_utf8_lossy(&output.stderr)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    assert!(!lines.is_empty());
    for line in &lines {
        assert!(
            line["timestamp"].as_str().is_some_and(|t| t.ends_with('Z')),
            "{line}"
        );
        assert!(["DEBUG", "INFO", "WARNING", "ERROR"].contains(&line["level"].as_str().unwrap()));
        assert_eq!(line["name"], "Kaspersky Test");
        assert!(line["message"].is_string());
    }
    let finished: Vec<&Value> = lines
        .iter()
        .filter(|l| l["message"] == "Scope finished")
        .collect();
    assert_eq!(finished.len(), 3, "one line per scope");
    for line in finished {
        let attributes = &line["attributes"];
        assert!(attributes["scope"].is_string(), "{line}");
        assert!(attributes["delivered"].is_u64(), "{line}");
        assert!(attributes["fetched"].is_u64(), "{line}");
    }
    let delivered = lines
        .iter()
        .find(|l| l["message"] == "Publication delivered")
        .expect("a publication line");
    assert!(delivered["attributes"]["publication_id"].is_string());
    assert!(delivered["attributes"]["objects"].is_u64());
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_and_health_are_served_during_a_run() {
    let sim = serve(
        generate(&GenerateParams::default()),
        SimulatorOptions::default(),
    )
    .await
    .unwrap();
    // Slow publications keep the run going while the endpoint is scraped.
    for _ in 0..6 {
        sim.inject(Endpoint::GetOne, Fault::Delay(Duration::from_millis(700)));
    }
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut vars = run_vars(&sim, dir.path());
    vars.push(("CONNECTOR_EXPOSE_METRICS".into(), "true".into()));
    vars.push(("CONNECTOR_METRICS_PORT".into(), port.to_string()));
    let mut child = command(&vars, dir.path())
        .args(["run", "--once"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();

    let url = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let mut during = String::new();
    for _ in 0..200 {
        if let Ok(response) = http.get(format!("{url}/metrics")).send().await {
            during = response.text().await.unwrap();
            if during.contains("state{state=\"running\"} 1") {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(during.contains("runs_total"), "{during}");
    assert!(during.contains("state{state=\"running\"} 1"), "{during}");
    let health = http.get(format!("{url}/health")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let body: Value = health.json().await.unwrap();
    assert_eq!(body["status"], "starting");

    // Later in the same run: TIP latency and items fetched.
    let mut text = String::new();
    for _ in 0..100 {
        match http.get(format!("{url}/metrics")).send().await {
            Ok(response) => text = response.text().await.unwrap(),
            Err(_) => break,
        }
        if text.contains("kaspersky_items_fetched_total{scope=\"publication\"}") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        text.contains("kaspersky_tip_request_duration_seconds"),
        "{text}"
    );
    assert!(
        text.contains("kaspersky_items_fetched_total{scope=\"publication\"}"),
        "{text}"
    );
    assert!(child.wait().unwrap().success());
}

/// `OPENCTI_JSON_LOGGING=false` gives text lines, as with pycti, even where JSON is the
/// default (standard error is a pipe here); `--log-format` wins over it. Text written to
/// a pipe carries no colour codes.
#[tokio::test(flavor = "multi_thread")]
async fn json_logging_false_gives_plain_text_and_the_flag_wins() {
    let sim = serve(
        generate(&GenerateParams::default()),
        SimulatorOptions::default(),
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut vars = run_vars(&sim, dir.path());
    vars.push(("CONNECTOR_LOG_LEVEL".into(), "info".into()));
    vars.push(("OPENCTI_JSON_LOGGING".into(), "false".into()));
    let run = |flag: &[&str]| {
        let output = command(&vars, dir.path())
            .args(flag)
            .args(["run", "--once"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert!(output.status.success(), "{stderr}");
        stderr
    };

    let text = run(&[]);
    assert!(text.contains("Scope finished"), "{text}");
    assert!(
        !text.contains('\u{1b}'),
        "no colour codes in a pipe: {text:?}"
    );
    for line in text.lines() {
        assert!(serde_json::from_str::<Value>(line).is_err(), "{line}");
    }

    let json = run(&["--log-format", "json"]);
    assert!(json.contains("Scope finished"), "{json}");
    for line in json.lines() {
        serde_json::from_str::<Value>(line).unwrap_or_else(|e| panic!("{e}: {line}"));
    }

    let text = run(&["--log-format", "text"]);
    assert!(
        text.contains("Scope finished") && !text.contains('\u{1b}'),
        "{text:?}"
    );
}
