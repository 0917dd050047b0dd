//! The command line: `run`, `demo`, `convert`, `check`, and the stand-ins.
//!
//! Each command is a module; this one parses arguments, sets up logging and dispatches.
//! Failures reach the user as one line with their causes, and an exit code.

pub mod check;
pub mod convert;
#[cfg(feature = "simulator")]
pub mod demo;
pub mod run;
#[cfg(feature = "simulator")]
pub mod standins;
pub mod summary;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::Config;
use crate::runtime::logging::{self, LogFormat};

/// Imports the Kaspersky Threat Intelligence Portal into OpenCTI as STIX 2.1.
#[derive(Debug, Parser)]
#[command(name = "connector-kaspersky", version, about, long_about = None)]
pub struct Cli {
    /// The configuration file (default: ./config.yml when it exists). Environment
    /// variables override it.
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Log line format: pycti's JSON lines, or text. Wins over `opencti.json_logging`;
    /// without either, text on a terminal and JSON otherwise.
    #[arg(long, global = true, value_enum)]
    pub log_format: Option<LogFormat>,
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the connector: import on schedule into OpenCTI (what the container runs).
    Run(run::RunArgs),
    /// Run the whole import once on a built-in TIP simulator, into ./bundles, with built-in
    /// settings: --config and environment variables are not read.
    #[cfg(feature = "simulator")]
    Demo(demo::DemoArgs),
    /// Convert files downloaded from the portal into STIX bundles, offline.
    Convert(convert::ConvertArgs),
    /// Check the configuration, the certificate, the TIP and OpenCTI, and say what a run
    /// would do. Exit codes: 2 configuration, 3 certificate, 4 TIP, 5 OpenCTI.
    Check(check::CheckArgs),
    /// Serve the TIP simulator on its own, to point a connector at it.
    #[cfg(feature = "simulator")]
    Simulator(standins::SimulatorArgs),
    /// Serve the OpenCTI stand-in on its own (GraphQL API on loopback, local RabbitMQ).
    #[cfg(feature = "simulator")]
    OpenctiStandin(standins::StandInArgs),
}

/// Parses the command line, runs the command and returns the process's exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

use check::EXIT_CONFIG;

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    #[cfg(feature = "simulator")]
    let format = LogFormat::for_stderr(cli.log_format, None);
    #[cfg(feature = "simulator")]
    match cli.command {
        Command::Demo(args) => {
            if let Some(path) = &cli.config {
                eprintln!(
                    "note: demo uses built-in settings; {} is not read",
                    path.display()
                );
            }
            // Skipped items are counted in the table; only errors are worth a log line.
            logging::init(format, "error", "Kaspersky");
            crate::runtime::progress::enable_bars();
            return runtime.block_on(demo::run(args));
        }
        Command::Simulator(args) => {
            logging::init(format, "info", "simulator");
            return runtime.block_on(standins::simulator(args));
        }
        Command::OpenctiStandin(args) => {
            logging::init(format, "info", "opencti-standin");
            return runtime.block_on(standins::opencti_standin(args));
        }
        _ => {}
    }
    let config = match Config::from_process_env(cli.config.as_deref()) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("error: {error}");
            return Ok(ExitCode::from(EXIT_CONFIG));
        }
    };
    let json_logging = config.opencti.json_logging;
    let format = LogFormat::for_stderr(
        cli.log_format,
        config.opencti.json_logging_set.then_some(json_logging),
    );
    match cli.command {
        Command::Run(args) => {
            logging::init(
                format,
                config.connector.log_level.tracing_level().as_str(),
                &config.connector.name,
            );
            warn_ignored_keys(&config);
            runtime.block_on(run::run(config, args))
        }
        Command::Check(args) => {
            logging::init(format, "error", &config.connector.name);
            runtime.block_on(check::run(config, args))
        }
        Command::Convert(args) => {
            logging::init(format, "warn", &config.connector.name);
            warn_ignored_keys(&config);
            crate::runtime::progress::enable_bars();
            let settings = crate::scopes::BuildSettings::from_config(&config);
            let limit = config.kaspersky.max_payload_bytes;
            let mut output = match &args.out {
                Some(dir) => convert::Output::Directory(crate::sink::DirectorySink::new(dir)?),
                None => convert::Output::stdout(),
            };
            let summary = convert::convert(&args, &settings, limit, &mut output)?;
            eprint!("{summary}");
            Ok(ExitCode::SUCCESS)
        }
        #[cfg(feature = "simulator")]
        _ => unreachable!("handled above"),
    }
}

/// Unknown keys in config.yml are not fatal (pycti ignores them too), but a typo should
/// not go unnoticed.
fn warn_ignored_keys(config: &Config) {
    for key in &config.ignored_keys {
        tracing::warn!(key = %key, "Unknown configuration key ignored");
    }
}
