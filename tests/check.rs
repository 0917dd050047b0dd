//! `check`: each part is tried in order and its failure has its own exit code (issue #8);
//! `run` uses the same code for a configuration problem.
#![cfg(feature = "simulator")]

use std::path::Path;
use std::process::{Command, Output};

use connector_kaspersky::simulator::opencti::{StandIn, StandInBroker, StandInConfig};
use connector_kaspersky::simulator::tip::{GenerateParams, SimulatorOptions, generate, serve};

/// Runs `check` with only the given variables (plus PATH), in an empty directory.
fn check(dir: &Path, vars: &[(&str, String)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_connector-kaspersky"));
    command.arg("check").current_dir(dir).env_clear();
    command.env("PATH", std::env::var("PATH").unwrap_or_default());
    for (key, value) in vars {
        command.env(key, value);
    }
    command.output().expect("the binary runs")
}

fn code(output: &Output) -> i32 {
    output.status.code().expect("exited normally")
}

#[tokio::test(flavor = "multi_thread")]
async fn each_failing_part_has_its_exit_code() {
    let sim = serve(
        generate(&GenerateParams::default()),
        SimulatorOptions::default(),
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let files = sim.write_credentials(dir.path()).unwrap();
    let broker = StandInBroker {
        declare_url: None,
        ..StandInBroker::default()
    };
    let opencti = StandIn::start(StandInConfig {
        broker,
        ..StandInConfig::default()
    })
    .await
    .unwrap();

    let mut vars: Vec<(&str, String)> = sim
        .env_vars(&files)
        .into_iter()
        .map(|(k, v)| (k, v.to_string()))
        .collect();
    vars.push(("OPENCTI_URL", opencti.url()));
    vars.push(("OPENCTI_TOKEN", opencti.token().to_owned()));
    vars.push((
        "CONNECTOR_ID",
        "0b6c5c5e-6a5e-4a53-9a0c-d2d4a4a0a001".into(),
    ));
    let with = |key: &'static str, value: &str| {
        let mut changed = vars.clone();
        changed.retain(|(k, _)| *k != key);
        changed.push((key, value.to_owned()));
        changed
    };

    let ok = check(dir.path(), &vars);
    let stdout = String::from_utf8_lossy(&ok.stdout);
    assert_eq!(
        code(&ok),
        0,
        "{stdout}{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(stdout.contains("ok      TIP API"), "{stdout}");
    assert!(
        stdout.contains("publication "),
        "the plan names every scope: {stdout}"
    );
    assert!(stdout.contains("master_ioc "), "{stdout}");

    let bad_tlp = check(dir.path(), &with("KASPERSKY_TLP", "orange"));
    assert_eq!(code(&bad_tlp), 2, "invalid configuration");
    let no_certificate = check(
        dir.path(),
        &with("KASPERSKY_CERTIFICATE_PATH", "/nonexistent.pem"),
    );
    assert_eq!(code(&no_certificate), 3, "certificate");
    let wrong_password = check(dir.path(), &with("KASPERSKY_PASSWORD", "not-the-password"));
    assert_eq!(code(&wrong_password), 4, "TIP");
    assert!(String::from_utf8_lossy(&wrong_password.stdout).contains("401"));
    let no_platform = check(dir.path(), &with("OPENCTI_URL", "http://127.0.0.1:9"));
    assert_eq!(code(&no_platform), 5, "OpenCTI");
}

/// `run` refuses a configuration it cannot run with exit code 2, as it does one it cannot
/// read: the README says configuration problems exit 2.
#[test]
fn run_exits_2_on_a_configuration_it_cannot_run() {
    let dir = tempfile::tempdir().unwrap();
    let run = |vars: &[(&str, &str)]| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_connector-kaspersky"));
        command
            .args(["run", "--once"])
            .current_dir(dir.path())
            .env_clear();
        command.env("PATH", std::env::var("PATH").unwrap_or_default());
        command.envs(vars.iter().copied());
        command.output().unwrap()
    };
    let kaspersky = [
        ("KASPERSKY_USER", "user"),
        ("KASPERSKY_PASSWORD", "password"),
        ("KASPERSKY_CERTIFICATE_PATH", "/nonexistent.pem"),
    ];
    let cases: [(&[(&str, &str)], &str); 3] = [
        (&[("OPENCTI_TOKEN", "t")], "OPENCTI_URL"),
        (
            &[
                ("CONNECTOR_SEND_TO_QUEUE", "false"),
                ("CONNECTOR_SEND_TO_DIRECTORY", "false"),
            ],
            "bundles would go nowhere",
        ),
        (&[("KASPERSKY_TLP", "purple")], "KASPERSKY_TLP"),
    ];
    for (vars, named) in cases {
        let mut vars = vars.to_vec();
        vars.extend(kaspersky);
        let output = run(&vars);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(code(&output), 2, "{named}: {stderr}");
        assert!(stderr.contains(named), "{named}: {stderr}");
    }
}
