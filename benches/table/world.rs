//! `case world --input DIR`: the `demo` run over a generated world, end to end.
//!
//! As `src/cli/demo.rs` does: the world is served by the in-process TIP simulator over
//! HTTPS with a client certificate, the connector's documented defaults are pointed at
//! it, and the service runs every scope once into a directory of bundles in a temporary
//! directory. The simulator shares the process, so its work (TLS, JSON answers) is in the
//! CPU time and the world (decoded and encoded) in the memory; its payloads are encoded
//! before the clock starts so that serving them costs no compression.

use std::path::Path;

use anyhow::{Context, bail};
use connector_kaspersky::cli::demo;
use connector_kaspersky::runtime::health::Health;
use connector_kaspersky::runtime::service::{self, RunOptions};
use connector_kaspersky::scopes::Scope;
use connector_kaspersky::simulator::tip::SimulatorOptions;
use connector_kaspersky::simulator::tip::{World, serve};
use tokio_util::sync::CancellationToken;

use super::cases::{CaseName, CaseReport};
use super::measure::{self, Clock};
use crate::common::convert::Totals;
use crate::common::inputs::{encode_payloads, size_on_disk};

/// Runs the world case on the world directory `dir`.
pub fn run(dir: &Path) -> anyhow::Result<CaseReport> {
    let input_bytes =
        size_on_disk(dir).with_context(|| format!("cannot read {}", dir.display()))?;
    let world = World::load(dir).with_context(|| format!("cannot load {}", dir.display()))?;
    let publications = world.publications().len() as u64;
    encode_payloads(&world);

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the tokio runtime")?;
    runtime.block_on(async move {
        let simulator = serve(world, SimulatorOptions::default())
            .await
            .context("cannot start the TIP simulator")?;
        let work = tempfile::tempdir().context("cannot create a temporary directory")?;
        let files = simulator.write_credentials(work.path())?;
        let out = work.path().join("bundles");
        let config = demo::demo_config(&simulator, &files, &out)?;
        let options = RunOptions {
            once: true,
            state_file: Some(work.path().join("state.json")),
        };

        let start_rss = measure::rss_bytes()?;
        let clock = Clock::start()?;
        let outcome = service::run(config, options, Health::default(), CancellationToken::new())
            .await
            .context("the run failed")?;
        let elapsed = clock.stop()?;
        simulator.shutdown().await;

        let report = outcome.last_run.context("the run did not happen")?;
        if !report.succeeded() {
            bail!("the run failed: {}", report.failures().join("; "));
        }
        let (files, bytes) = count_files(&out)?;
        let of = |scope: Scope| report.scopes.iter().filter(move |s| s.scope == scope);
        let totals = Totals {
            items: publications,
            converted: of(Scope::Publication).map(|s| s.delivered as u64).sum(),
            skipped: report.scopes.iter().map(|s| s.skipped.len() as u64).sum(),
            bundles: files,
            objects: report.scopes.iter().map(|s| s.objects as u64).sum(),
            messages: files,
            output_bytes: bytes,
            ..Totals::default()
        };
        CaseReport::new(CaseName::World, totals, input_bytes, elapsed, start_rss)
    })
}

/// The bundle files in `dir` and their total size.
fn count_files(dir: &Path) -> anyhow::Result<(u64, u64)> {
    let (mut files, mut bytes) = (0, 0);
    let entries =
        std::fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))?;
    for entry in entries {
        let meta = entry?.metadata()?;
        if meta.is_file() {
            files += 1;
            bytes += meta.len();
        }
    }
    Ok((files, bytes))
}
