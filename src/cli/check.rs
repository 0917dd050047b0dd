//! `check`: is this configuration ready to run? Each part is tried once, in order, and
//! the exit code says which failed; then what a run would do now, scope by scope.

use std::path::PathBuf;
use std::process::ExitCode;

use jiff::Timestamp;

use crate::config::{Config, Scope};
use crate::opencti::OpenCtiClient;
use crate::runtime::schedule::{master_file_is_due, run_is_due};
use crate::runtime::service::tip_client;
use crate::runtime::state::{
    LATEST_MASTER_IOC, LATEST_MASTER_YARA, LATEST_PUBLICATION, LATEST_RUN, State, StateFile,
};

/// Exit code: the configuration is invalid (also for every other command).
pub const EXIT_CONFIG: u8 = 2;
/// Exit code: the TIP certificate file cannot be used.
pub const EXIT_CERTIFICATE: u8 = 3;
/// Exit code: the TIP API did not answer as it should.
pub const EXIT_TIP: u8 = 4;
/// Exit code: OpenCTI is not reachable (or refuses the token).
pub const EXIT_OPENCTI: u8 = 5;

/// `check [--state-file PATH]`.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct CheckArgs {
    /// The state file `run` uses without OpenCTI (default ./connector-state.json).
    #[arg(long, value_name = "PATH")]
    pub state_file: Option<PathBuf>,
}

/// Runs the checks and prints the plan.
pub async fn run(config: Config, args: CheckArgs) -> anyhow::Result<ExitCode> {
    let ok = |what: &str| println!("ok      {what}");
    let failed = |what: &str, error: &dyn std::fmt::Display, code: u8| {
        println!("FAILED  {what}: {error}");
        Ok(ExitCode::from(code))
    };

    if let Err(error) = config.check_for_run() {
        return failed("configuration", &error, EXIT_CONFIG);
    }
    ok("configuration");

    let tip = match tip_client(&config) {
        Ok(tip) => tip,
        Err(error) => return failed("TIP certificate", &format!("{error:#}"), EXIT_CERTIFICATE),
    };
    ok(&format!(
        "TIP certificate {}",
        config.kaspersky.certificate_path.display()
    ));

    let now = Timestamp::now();
    let yesterday = now.as_second() - 86_400;
    match tip.get_list(Some(yesterday), None).await {
        Ok(list) => ok(&format!(
            "TIP API {}: {} publication(s) updated in the last day",
            config.kaspersky.base_url,
            list.len()
        )),
        Err(error) => return failed("TIP API", &error, EXIT_TIP),
    }

    let state = if config.connector.send_to_queue {
        let settings = crate::runtime::service::api_settings(&config)?;
        let client = match OpenCtiClient::new(&settings) {
            Ok(client) => client,
            Err(error) => return failed("OpenCTI", &error, EXIT_OPENCTI),
        };
        match client.health_check().await {
            Ok(version) => ok(&format!("OpenCTI {} (version {version})", settings.url)),
            Err(error) => return failed("OpenCTI", &error, EXIT_OPENCTI),
        }
        let id = config.connector.id.clone().unwrap_or_default();
        match client.connector_state(&id).await {
            Ok(map) => State::from_map(map.unwrap_or_default()),
            Err(error) => {
                println!(
                    "note    the connector's state could not be read ({error}): showing a first run"
                );
                State::new()
            }
        }
    } else {
        let path = args
            .state_file
            .unwrap_or_else(|| PathBuf::from("connector-state.json"));
        StateFile::new(&path).load()?
    };

    println!();
    print!("{}", plan(&config, &state, now));
    Ok(ExitCode::SUCCESS)
}

/// What a run started `now` would do, scope by scope.
pub fn plan(config: &Config, state: &State, now: Timestamp) -> String {
    let k = &config.kaspersky;
    let period = config.connector.duration_period.unwrap_or(k.interval);
    let mut out = String::new();
    let latest = state.timestamp(LATEST_RUN);
    let when = if run_is_due(latest, period, now) {
        "now".to_owned()
    } else {
        let next = latest
            .map(|t| t.as_second() + period.as_secs() as i64)
            .unwrap_or_default();
        format!(
            "at {}",
            Timestamp::from_second(next)
                .map(|t| t.to_string())
                .unwrap_or_default()
        )
    };
    out.push_str(&format!(
        "next run: {when} (every {} s)\n",
        period.as_secs()
    ));
    for scope in Scope::ALL {
        if !k.scopes.contains(scope) {
            out.push_str(&format!("{scope:<12} disabled\n"));
            continue;
        }
        let line = match scope {
            Scope::Publication => {
                let from = state
                    .timestamp(LATEST_PUBLICATION)
                    .map(|t| (t, "the state"))
                    .or_else(|| {
                        Timestamp::from_second(k.publication_start_timestamp)
                            .ok()
                            .map(|t| (t, "publication_start_timestamp"))
                    });
                match from {
                    Some((t, source)) => format!("publications updated after {t} (from {source})"),
                    None => "every publication".to_owned(),
                }
            }
            Scope::MasterIoc => master_line(
                k.master_ioc_fetch_weekday,
                state.timestamp(LATEST_MASTER_IOC),
                now,
            ),
            Scope::MasterYara => master_line(
                k.master_yara_fetch_weekday,
                state.timestamp(LATEST_MASTER_YARA),
                now,
            ),
        };
        out.push_str(&format!("{:<12} {line}\n", scope.as_str()));
    }
    out
}

fn master_line(weekday: Option<u8>, last: Option<Timestamp>, now: Timestamp) -> String {
    let due = master_file_is_due(weekday, last, now);
    let schedule = match weekday {
        None => "every run".to_owned(),
        Some(day) => format!("ISO weekday {day}"),
    };
    let last = last.map_or_else(|| "never".to_owned(), |t| t.to_string());
    let verdict = if due { "due" } else { "not due" };
    format!("{verdict} ({schedule}; last fetched {last})")
}
