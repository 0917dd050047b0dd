//! The command line: `run`, `demo`, `convert`, `check`, and the stand-ins.
//!
//! Each command is a module; this one parses arguments, sets up logging and dispatches.
//! Failures reach the user as one line with their causes, and an exit code.

pub mod convert;
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
    /// Log line format: pycti's JSON lines, or text. Default: text on a terminal.
    #[arg(long, global = true, value_enum)]
    pub log_format: Option<LogFormat>,
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Convert files downloaded from the portal into STIX bundles, offline.
    Convert(convert::ConvertArgs),
}

/// Parses the command line, runs the command and returns the process's exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let format = cli.log_format.unwrap_or_else(LogFormat::detect);
    match run(cli, format) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Exit code of a configuration error: nothing was done.
pub const EXIT_CONFIG: u8 = 2;

fn run(cli: Cli, format: LogFormat) -> anyhow::Result<ExitCode> {
    let config = match Config::from_process_env(cli.config.as_deref()) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("error: {error}");
            return Ok(ExitCode::from(EXIT_CONFIG));
        }
    };
    match cli.command {
        Command::Convert(args) => {
            logging::init(format, "warn", &config.connector.name);
            warn_ignored_keys(&config);
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
    }
}

/// Unknown keys in config.yml are not fatal (pycti ignores them too), but a typo should
/// not go unnoticed.
fn warn_ignored_keys(config: &Config) {
    for key in &config.ignored_keys {
        tracing::warn!(key = %key, "Unknown configuration key ignored");
    }
}
