//! The commands of the `table` benchmark program: `gen`, `case` and `table`.
//!
//! - [`plan`]: which cases run at which sizes, and where the inputs live.
//! - [`cases`]: `case <conversion> --input FILE`, one case timed in this process.
//! - [`world`]: `case world --input DIR`, the demo's run over a world directory.
//! - [`publish`]: `case publish --messages N`, ours beside a bare loop on RabbitMQ.
//! - [`report`]: `table`, every case in a child process, one Markdown table.
//! - [`python`]: the comparison with the Python connector's harness.
//! - [`measure`], [`child`]: `/proc` figures; running a case as a child.

mod cases;
mod child;
mod measure;
mod plan;
mod publish;
mod python;
mod report;
mod world;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::common::inputs::{DEFAULT_SEED, InputSpec, Kind};
use cases::CaseName;

/// Benchmarks of issue #7. Run as `cargo bench --bench table -- <command>`, or with
/// `bench/run.sh` for the table. Linux only (figures come from /proc).
#[derive(Debug, Parser)]
#[command(
    name = "table",
    bin_name = "cargo bench --bench table --",
    version,
    about,
    long_about = None
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Writes a reproducible input (the same kind, size and seed give the same bytes).
    Gen(GenArgs),
    /// Runs one case in this process and prints one JSON line.
    Case(CaseArgs),
    /// Makes the missing inputs, runs every case as a child process, prints the table.
    Table(report::TableArgs),
}

#[derive(Debug, clap::Args)]
struct GenArgs {
    #[arg(value_enum)]
    kind: Kind,
    /// Rows (master-ioc, master-ioc-csv), rules (master-yara), OpenIOC items
    /// (publication) or publications (world); default 100000, 100000, 10000, 20000, 500.
    #[arg(long)]
    size: Option<usize>,
    #[arg(long, default_value_t = DEFAULT_SEED)]
    seed: u64,
    /// PDF size of a publication, in bytes (at least; the PDF's framing adds a little).
    #[arg(long, default_value_t = 20_000_000)]
    pdf_bytes: usize,
    /// The file to write (a directory for `world`).
    #[arg(long)]
    out: PathBuf,
}

#[derive(Debug, clap::Args)]
struct CaseArgs {
    #[arg(value_enum)]
    name: CaseName,
    /// The input, as `gen` writes it (all cases but `publish`).
    #[arg(long, required_unless_present = "messages")]
    input: Option<PathBuf>,
    /// Messages each publishing loop sends (`publish` only).
    #[arg(long)]
    messages: Option<usize>,
    /// Unconfirmed messages at most (`publish` only).
    #[arg(long, default_value_t = 1024)]
    window: usize,
    /// Master IoC types to leave out, comma separated (default: none, as the Python
    /// harness; the connector's documented default is `md5Hash,sha1Hash`).
    #[arg(long, value_delimiter = ',')]
    exclude: Option<Vec<String>>,
}

/// Parses the command line (without the `--bench` cargo adds) and runs the command.
pub fn main() -> ExitCode {
    let args = std::env::args_os().filter(|arg| arg != "--bench");
    let cli = Cli::parse_from(args);
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("bench: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Gen(args) => generate(args),
        Command::Case(args) => case(args),
        Command::Table(args) => report::run(&args),
    }
}

fn generate(args: GenArgs) -> anyhow::Result<()> {
    let size = args.size.unwrap_or(match args.kind {
        Kind::MasterIoc | Kind::MasterIocCsv => 100_000,
        Kind::MasterYara => 10_000,
        Kind::Publication => 20_000,
        Kind::World => 500,
    });
    let spec = InputSpec {
        kind: args.kind,
        size,
        seed: args.seed,
        pdf_bytes: args.pdf_bytes,
    };
    spec.write(&args.out)?;
    let bytes = crate::common::inputs::size_on_disk(&args.out)
        .with_context(|| format!("cannot read {}", args.out.display()))?;
    eprintln!("bench: wrote {} ({bytes} bytes)", args.out.display());
    Ok(())
}

fn case(args: CaseArgs) -> anyhow::Result<()> {
    let line = match args.name {
        CaseName::Publish => {
            let messages = args.messages.context("publish needs --messages N")?;
            serde_json::to_string(&publish::run(messages, args.window)?)?
        }
        name => {
            let input = args.input.context("this case needs --input")?;
            let report = match name {
                CaseName::World => world::run(&input)?,
                _ => cases::run_conversion(name, &input, args.exclude)?,
            };
            serde_json::to_string(&report)?
        }
    };
    println!("{line}");
    Ok(())
}
