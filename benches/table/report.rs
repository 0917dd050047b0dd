//! The `table` command: make the missing inputs, run every case in a child process, print
//! one Markdown table with the targets of issue #7 beside the figures.

use std::fmt::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;

use super::cases::{CaseName, CaseReport};
use super::child::{case_args, run_case};
use super::measure;
use super::plan::{Plan, Run, Sizes, data_dir};
use super::publish::PublishReport;
use super::python;
use crate::common::inputs::InputSpec;

const MIB: f64 = 1024.0 * 1024.0;

/// Master IoC rows per second the issue asks for, on one core.
const MASTER_IOC_RATE_TARGET: f64 = 100_000.0;
/// Messages per second with confirms the issue asks for.
const PUBLISH_RATE_TARGET: f64 = 20_000.0;
/// The 1M-row Master IoC may use the decompressed file plus this much.
const MASTER_IOC_RSS_HEADROOM: u64 = 64 << 20;
/// The PDF publication may use this many times the PDF.
const PDF_RSS_FACTOR: u64 = 5;

/// `table` options.
#[derive(Clone, Debug, clap::Args)]
pub struct TableArgs {
    /// `quick` for a smoke run of seconds, `full` for the sizes of issue #7.
    #[arg(long, value_enum, default_value = "full")]
    pub sizes: Sizes,
    /// The JSON line printed by `bench/python/run.sh run <csv>`: adds the comparison with
    /// the Python connector on the same CSV.
    #[arg(long, value_name = "FILE.json")]
    pub python: Option<PathBuf>,
    /// The CSV the Python harness ran on (default: the generated file of as many rows,
    /// seed 7, in the data directory).
    #[arg(long, value_name = "FILE.csv", requires = "python")]
    pub python_csv: Option<PathBuf>,
    /// Leave out the publish case (no broker at hand).
    #[arg(long)]
    pub no_publish: bool,
}

/// One case's outcome.
struct Row<'a> {
    run: &'a Run,
    result: anyhow::Result<CaseReport>,
}

/// Runs the table and prints it.
pub fn run(args: &TableArgs) -> anyhow::Result<()> {
    let plan = Plan::new(args.sizes);
    let data = data_dir();
    std::fs::create_dir_all(&data).with_context(|| format!("cannot create {}", data.display()))?;
    let load_before = measure::load_average();

    let mut rows = Vec::new();
    for run in &plan.runs {
        let path = data.join(run.input.file_name());
        ensure_input(&run.input, &path)?;
        eprintln!("bench: running {} on {}", run.case.as_str(), run.size);
        let result = case_args(run.case.as_str(), &path).and_then(|args| run_case(&args));
        if let Err(error) = &result {
            eprintln!(
                "bench: {} on {} failed: {error:#}",
                run.case.as_str(),
                run.size
            );
        }
        rows.push(Row { run, result });
    }

    let publish = (!args.no_publish && plan.publish_messages > 0).then(|| {
        let messages = plan.publish_messages.to_string();
        eprintln!("bench: publishing {messages} messages three times");
        let result = run_case::<PublishReport>(&["case", "publish", "--messages", &messages]);
        if let Err(error) = &result {
            eprintln!("bench: the publish case failed: {error:#}");
        }
        result
    });
    let python = match &args.python {
        Some(file) => Some(python::compare(file, args.python_csv.as_deref(), &data)?),
        None => None,
    };

    let load_after = measure::load_average();
    let mut out = String::new();
    header(&mut out, args.sizes, &data, &load_before, &load_after);
    table(&mut out, &rows);
    if let Some(publish) = &publish {
        publish_section(&mut out, publish);
    }
    targets(
        &mut out,
        &rows,
        publish.as_ref().and_then(|p| p.as_ref().ok()),
    );
    if let Some(python) = &python {
        python::render(python, &mut out);
    }
    print!("{out}");
    Ok(())
}

/// Writes `spec` to `path` unless it is already there.
pub fn ensure_input(spec: &InputSpec, path: &Path) -> anyhow::Result<()> {
    if path.exists() {
        return Ok(());
    }
    eprintln!("bench: generating {}", path.display());
    spec.write(path)
}

fn header(out: &mut String, sizes: Sizes, data: &Path, before: &str, after: &str) {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let model = measure::cpu_model().unwrap_or_else(|| "unknown CPU".to_owned());
    let sizes = match sizes {
        Sizes::Quick => "quick",
        Sizes::Full => "full",
    };
    let _ = writeln!(
        out,
        "## connector-kaspersky benchmarks (issue #7), sizes `{sizes}`\n"
    );
    let _ = writeln!(out, "- machine: {cores} cores ({model}), Linux");
    let _ = writeln!(
        out,
        "- load average (1, 5, 15 min): {before} before, {after} after"
    );
    let _ = writeln!(out, "- inputs: {} (seed 7)", data.display());
    let _ = writeln!(
        out,
        "- items/s is wall time; items/CPU-s is CPU time of all the case's threads\n"
    );
}

fn table(out: &mut String, rows: &[Row<'_>]) {
    out.push_str(
        "| case | size | items | seconds | items/s | items/CPU-s | output MB/s \
         | peak RSS MiB | RSS target |\n",
    );
    out.push_str("|---|---|---:|---:|---:|---:|---:|---:|---|\n");
    for row in rows {
        let (case, size) = (row.run.case.as_str(), &row.run.size);
        let report = match &row.result {
            Ok(report) => report,
            Err(error) => {
                let _ = writeln!(out, "| {case} | {size} | failed: {error:#} | | | | | | |");
                continue;
            }
        };
        let _ = writeln!(
            out,
            "| {case} | {size} | {} {} | {:.2} | {} | {} | {:.1} | {:.1} | {} |",
            thousands(report.items),
            report.item_unit,
            report.seconds,
            thousands(per(report.items, report.seconds)),
            thousands(per(report.items, report.cpu_seconds)),
            report.output_bytes as f64 / 1e6 / report.seconds.max(1e-9),
            report.peak_rss_bytes as f64 / MIB,
            rss_target(row.run.case, report).map_or_else(|| "–".to_owned(), |t| t.describe()),
        );
    }
    out.push('\n');
}

/// A peak-memory target and the figure it is compared with.
struct RssTarget {
    limit: u64,
    peak: u64,
    what: String,
}

impl RssTarget {
    fn met(&self) -> bool {
        self.peak < self.limit
    }

    fn describe(&self) -> String {
        format!(
            "< {:.0} MiB ({}): {} ({:.2}× the limit)",
            self.limit as f64 / MIB,
            self.what,
            if self.met() { "met" } else { "missed" },
            self.peak as f64 / self.limit as f64
        )
    }
}

fn rss_target(case: CaseName, report: &CaseReport) -> Option<RssTarget> {
    let (limit, what) = match case {
        CaseName::MasterIoc => {
            let text = report.decompressed_bytes?;
            let what = format!("{:.1} MiB decompressed + 64", text as f64 / MIB);
            (text + MASTER_IOC_RSS_HEADROOM, what)
        }
        CaseName::Publication => {
            let pdf = report.pdf_bytes?;
            let what = format!("5× the {:.1} MiB PDF", pdf as f64 / MIB);
            (pdf * PDF_RSS_FACTOR, what)
        }
        _ => return None,
    };
    Some(RssTarget {
        limit,
        peak: report.peak_rss_bytes,
        what,
    })
}

fn publish_section(out: &mut String, publish: &anyhow::Result<PublishReport>) {
    let report = match publish {
        Ok(report) => report,
        Err(error) => {
            let _ = writeln!(out, "Publishing with confirms: failed: {error:#}\n");
            return;
        }
    };
    let _ = writeln!(
        out,
        "Publishing with confirms to {}, {} persistent messages of {} bytes on average, \
         at most {} unconfirmed, into a durable queue:\n",
        report.broker,
        thousands(report.messages),
        thousands(report.body_bytes),
        report.window
    );
    out.push_str("| publisher | msg/s | seconds | CPU seconds | vs bare loop |\n");
    out.push_str("|---|---:|---:|---:|---:|\n");
    let per_bundle = format!(
        "AmqpPublisher, flush after each bundle ({} msgs)",
        thousands(report.bundle_messages as u64)
    );
    for (name, rate) in [
        ("bare lapin loop (the ceiling)", &report.bare),
        ("AmqpPublisher, one flush at the end", &report.ours),
        (per_bundle.as_str(), &report.ours_per_bundle),
    ] {
        let _ = writeln!(
            out,
            "| {name} | {} | {:.2} | {:.2} | {:.0} % |",
            thousands(rate.messages_per_second as u64),
            rate.seconds,
            rate.cpu_seconds,
            100.0 * rate.messages_per_second / report.bare.messages_per_second
        );
    }
    out.push('\n');
}

fn targets(out: &mut String, rows: &[Row<'_>], publish: Option<&PublishReport>) {
    out.push_str("Targets of issue #7 (shown, not asserted):\n\n");
    let largest = |case: CaseName| {
        rows.iter()
            .filter(|row| row.run.case == case)
            .filter_map(|row| Some((row.run, row.result.as_ref().ok()?)))
            .max_by_key(|(run, _)| run.input.size)
    };
    let verdict = |met: bool| if met { "met" } else { "missed" };

    if let Some((run, report)) = largest(CaseName::MasterIoc) {
        let rate = per(report.items, report.seconds);
        let _ = writeln!(
            out,
            "- Master IoC ≥ 100,000 IoCs/s on one core ({}): {} rows/s, {} rows/CPU-s: {}",
            run.size,
            thousands(rate),
            thousands(per(report.items, report.cpu_seconds)),
            verdict(rate as f64 >= MASTER_IOC_RATE_TARGET)
        );
        if let Some(target) = rss_target(CaseName::MasterIoc, report) {
            let _ = writeln!(
                out,
                "- Master IoC ({}) peak RSS {:.0} MiB {}",
                run.size,
                report.peak_rss_bytes as f64 / MIB,
                target.describe()
            );
        }
    }
    if let Some((run, report)) = largest(CaseName::Publication)
        && let Some(target) = rss_target(CaseName::Publication, report)
    {
        let _ = writeln!(
            out,
            "- publication ({}) peak RSS {:.0} MiB {}",
            run.size,
            report.peak_rss_bytes as f64 / MIB,
            target.describe()
        );
    }
    if let Some(publish) = publish {
        let rate = publish.ours_per_bundle.messages_per_second;
        let _ = writeln!(
            out,
            "- ≥ 20,000 msg/s publishing with confirms: {} msg/s flushing per bundle, {} with \
             one flush, bare loop {}: {}",
            thousands(rate as u64),
            thousands(publish.ours.messages_per_second as u64),
            thousands(publish.bare.messages_per_second as u64),
            verdict(rate >= PUBLISH_RATE_TARGET)
        );
    }
    out.push('\n');
}

/// `n / seconds`, rounded down.
pub fn per(n: u64, seconds: f64) -> u64 {
    if seconds <= 0.0 {
        return 0;
    }
    (n as f64 / seconds) as u64
}

/// `1234567` as `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}
