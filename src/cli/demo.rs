//! `demo`: the whole import on an embedded TIP simulator, with built-in settings (no
//! configuration file, no environment variables).
//!
//! It starts the simulator on a free loopback port with the project's own fictional
//! world, points a default configuration at it, runs every scope once through the real
//! client over mutual TLS into a directory of bundles, and prints what came out.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use tokio_util::sync::CancellationToken;

use crate::config::{Config, Secret};
use crate::runtime::health::Health;
use crate::runtime::service::{self, RunOptions};
use crate::simulator::tip::{
    CredentialFiles, GenerateParams, SimulatorOptions, TipSimulator, generate, serve,
};

/// `demo [--out DIR]`.
#[derive(Clone, Debug, clap::Args)]
pub struct DemoArgs {
    /// Where the bundles go.
    #[arg(long, value_name = "DIR", default_value = "bundles")]
    pub out: PathBuf,
}

/// Runs the demo.
pub async fn run(args: DemoArgs) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let world = generate(&GenerateParams::default());
    let simulator = serve(world, SimulatorOptions::default()).await?;
    let work = tempfile::tempdir().context("cannot create a temporary directory")?;
    let files = simulator.write_credentials(work.path())?;
    eprintln!("TIP simulator listening on {}", simulator.base_url());

    let config = demo_config(&simulator, &files, &args.out)?;

    let options = RunOptions {
        once: true,
        state_file: Some(work.path().join("state.json")),
    };
    let outcome =
        service::run(config, options, Health::default(), CancellationToken::new()).await?;
    simulator.shutdown().await;

    let report = outcome.last_run.context("the demo run did not happen")?;
    let table = Table::read(&report)?;
    println!(
        "{}",
        table.render(started.elapsed().as_secs_f64(), &args.out)
    );
    for failure in report.failures() {
        eprintln!("failed: {failure}");
    }
    Ok(if report.succeeded() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The documented defaults, pointed at `simulator`, every scope due now, bundles into
/// `out` only: what `demo` runs with (and the benchmarks' world case).
pub fn demo_config(
    simulator: &TipSimulator,
    files: &CredentialFiles,
    out: &Path,
) -> anyhow::Result<Config> {
    let mut config = Config::load(None, |_| None)?;
    config.kaspersky.base_url = simulator.base_url();
    config.kaspersky.user = simulator.user().to_owned();
    config.kaspersky.password = Secret::new(simulator.password());
    config.kaspersky.certificate_path = files.certificate_path.clone();
    config.kaspersky.ca_path = Some(files.ca_path.clone());
    config.kaspersky.master_ioc_fetch_weekday = None;
    config.kaspersky.master_yara_fetch_weekday = None;
    config.connector.send_to_queue = false;
    config.connector.send_to_directory = true;
    config.connector.send_to_directory_path = Some(out.to_path_buf());
    config.connector.send_to_directory_retention = 0;
    Ok(config)
}

/// What the demo wrote, counted from the files the run reports it wrote: the folder may
/// hold earlier runs' bundles and other files.
#[derive(Debug, Default)]
struct Table {
    publications: usize,
    iocs: usize,
    yara_rules: usize,
    files: usize,
    skipped: usize,
    objects: BTreeMap<String, usize>,
}

impl Table {
    fn read(report: &crate::runtime::importer::RunReport) -> anyhow::Result<Table> {
        let mut table = Table {
            skipped: report.scopes.iter().map(|s| s.skipped.len()).sum(),
            ..Table::default()
        };
        // A file rewritten in the same run holds its last bundle: count it once.
        let files: BTreeSet<&Path> = report.files.iter().map(PathBuf::as_path).collect();
        for path in files {
            table.files += 1;
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            if name.starts_with("publication-") {
                table.publications += 1;
            }
            let bytes = std::fs::read(path)
                .with_context(|| format!("cannot read the bundle file {}", path.display()))?;
            let bundle: serde_json::Value = serde_json::from_slice(&bytes)
                .with_context(|| format!("the bundle file {} is not JSON", path.display()))?;
            for object in bundle["objects"].as_array().into_iter().flatten() {
                let kind = object["type"].as_str().unwrap_or("?").to_owned();
                match (kind.as_str(), object["pattern_type"].as_str()) {
                    ("indicator", Some("yara")) => table.yara_rules += 1,
                    ("indicator", Some("stix")) => table.iocs += 1,
                    _ => {}
                }
                *table.objects.entry(kind).or_default() += 1;
            }
        }
        Ok(table)
    }

    fn render(&self, seconds: f64, dir: &Path) -> String {
        let mut out = String::new();
        out.push_str(&format!("publications      {:>8}\n", self.publications));
        out.push_str(&format!("IoC indicators    {:>8}\n", self.iocs));
        out.push_str(&format!("YARA rules        {:>8}\n", self.yara_rules));
        out.push_str(&format!("items skipped     {:>8}\n", self.skipped));
        out.push_str("objects by type\n");
        for (kind, n) in &self.objects {
            out.push_str(&format!("  {kind:<20}{n:>8}\n"));
        }
        let total: usize = self.objects.values().sum();
        out.push_str(&format!("  {:<20}{total:>8}\n", "total"));
        out.push_str(&format!(
            "files written     {:>8}  in {}\n",
            self.files,
            dir.display()
        ));
        out.push_str(&format!("time taken        {seconds:>8.2} s"));
        out
    }
}
