//! `table --python FILE.json`: our Master IoC pipeline beside the Python connector's, on
//! the same CSV file.
//!
//! The Python figure is the JSON line of `bench/python/run.sh run <csv>` (see
//! `bench/python/README.md`): its clock covers decoding, parsing, grouping, STIX building,
//! splitting and message bodies, from the CSV text. Ours is `case master-ioc-csv` on the
//! same file, which covers the same steps from the same text. Both count as IoCs the rows
//! of a type that becomes objects.

use std::fmt::Write;
use std::path::Path;

use anyhow::Context;
use serde::Deserialize;

use super::cases::CaseReport;
use super::child::{case_args, run_case};
use super::report::{ensure_input, per, thousands};
use crate::common::inputs::{DEFAULT_SEED, InputSpec, Kind};

/// The fields of the Python harness's JSON line that the comparison reads.
#[derive(Clone, Debug, Deserialize)]
pub struct PythonRun {
    pub rows: u64,
    pub iocs: u64,
    pub messages: u64,
    pub message_bytes: u64,
    pub seconds: f64,
    pub cpu_seconds: f64,
    pub peak_rss_mb: f64,
    #[serde(default)]
    pub python: Option<String>,
    #[serde(default)]
    pub pycti: Option<String>,
}

/// Both runs on one file.
#[derive(Debug)]
pub struct PythonComparison {
    pub csv: String,
    pub python: PythonRun,
    pub ours: CaseReport,
}

/// Reads the Python line in `file`, runs `case master-ioc-csv` on `csv` (default: the
/// generated file of the same row count, made if missing) and pairs the two.
pub fn compare(file: &Path, csv: Option<&Path>, data: &Path) -> anyhow::Result<PythonComparison> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let line = text
        .lines()
        .rev()
        .find(|line| line.trim_start().starts_with('{'))
        .with_context(|| format!("{} holds no JSON line", file.display()))?;
    let python: PythonRun = serde_json::from_str(line)
        .with_context(|| format!("{} is not the harness's JSON line", file.display()))?;

    let csv = match csv {
        Some(csv) => csv.to_path_buf(),
        None => {
            let spec = InputSpec {
                kind: Kind::MasterIocCsv,
                size: python.rows as usize,
                seed: DEFAULT_SEED,
                pdf_bytes: 0,
            };
            let path = data.join(spec.file_name());
            ensure_input(&spec, &path)?;
            path
        }
    };
    eprintln!("bench: running master-ioc-csv on {}", csv.display());
    let ours: CaseReport = run_case(&case_args("master-ioc-csv", &csv)?)?;
    Ok(PythonComparison {
        csv: csv.display().to_string(),
        python,
        ours,
    })
}

/// The comparison as a small Markdown table.
pub fn render(comparison: &PythonComparison, out: &mut String) {
    let (py, ours) = (&comparison.python, &comparison.ours);
    let _ = writeln!(
        out,
        "Beside the Python connector (Python {}, pycti {}) on {}:\n",
        py.python.as_deref().unwrap_or("?"),
        py.pycti.as_deref().unwrap_or("?"),
        comparison.csv
    );
    if py.rows != ours.items {
        let _ = writeln!(
            out,
            "**Not the same file**: the Python run read {} rows, ours {}.\n",
            thousands(py.rows),
            thousands(ours.items)
        );
    }
    out.push_str("| connector | rows | IoCs | messages | IoCs/s | IoCs/CPU-s | peak RSS MiB |\n");
    out.push_str("|---|---:|---:|---:|---:|---:|---:|\n");
    let ours_row = [
        thousands(ours.items),
        thousands(ours.converted),
        thousands(ours.messages),
        thousands(per(ours.converted, ours.seconds)),
        thousands(per(ours.converted, ours.cpu_seconds)),
        format!("{:.1}", ours.peak_rss_bytes as f64 / (1024.0 * 1024.0)),
    ];
    let py_row = [
        thousands(py.rows),
        thousands(py.iocs),
        thousands(py.messages),
        thousands(per(py.iocs, py.seconds)),
        thousands(per(py.iocs, py.cpu_seconds)),
        format!("{:.1}", py.peak_rss_mb),
    ];
    for (name, cells) in [("this connector", ours_row), ("Python connector", py_row)] {
        let _ = writeln!(out, "| {name} | {} |", cells.join(" | "));
    }
    let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { f64::NAN };
    let _ = writeln!(
        out,
        "\nRatio (this / Python): {:.1}× IoCs/s, {:.1}× IoCs/CPU-s; message bytes {} vs {}.\n",
        ratio(
            ours.converted as f64 / ours.seconds,
            py.iocs as f64 / py.seconds
        ),
        ratio(
            ours.converted as f64 / ours.cpu_seconds,
            py.iocs as f64 / py.cpu_seconds
        ),
        thousands(ours.output_bytes),
        thousands(py.message_bytes),
    );
}
