//! `case <name> --input FILE`: one conversion case, timed in this process, reported as
//! one JSON line.
//!
//! The clock starts once the input is in memory as a `Vec<u8>` (what the TIP client holds
//! after reading an HTTP body) and stops when the last queue message is encoded. Peak
//! memory is the whole process's, read at the end: the `table` command runs each case in
//! a process of its own for that reason.

use std::path::Path;

use anyhow::Context;
use serde::{Deserialize, Serialize};

use super::measure::{self, Clock, Elapsed};
use crate::common::convert::{self, Job, Totals};

/// The cases.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum CaseName {
    /// A `get_master_ioc` answer; items are CSV rows.
    MasterIoc,
    /// A plain Master IoC CSV file (as the Python harness reads); items are rows.
    MasterIocCsv,
    /// A `get_master_yara` answer; items are rules.
    MasterYara,
    /// A `get_one` answer; items are OpenIOC items.
    Publication,
    /// A world directory served by the TIP simulator; items are publications.
    World,
    /// Publishing with confirms to the local RabbitMQ: ours beside a bare loop.
    Publish,
}

impl CaseName {
    /// The name as written on the command line and in the JSON line.
    pub fn as_str(self) -> &'static str {
        match self {
            CaseName::MasterIoc => "master-ioc",
            CaseName::MasterIocCsv => "master-ioc-csv",
            CaseName::MasterYara => "master-yara",
            CaseName::Publication => "publication",
            CaseName::World => "world",
            CaseName::Publish => "publish",
        }
    }

    /// What the case's items are.
    pub fn item_unit(self) -> &'static str {
        match self {
            CaseName::MasterIoc | CaseName::MasterIocCsv => "rows",
            CaseName::MasterYara => "rules",
            CaseName::Publication => "openioc items",
            CaseName::World => "publications",
            CaseName::Publish => "messages",
        }
    }
}

/// The JSON line of a conversion case.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CaseReport {
    pub case: String,
    /// Items read (see [`CaseName::item_unit`]).
    pub items: u64,
    pub item_unit: String,
    /// Items that became STIX objects (for a world: publications delivered).
    pub converted: u64,
    pub skipped: u64,
    /// Size of the input file (a world: of its directory).
    pub input_bytes: u64,
    /// Size of the decoded Master file text (Master cases only).
    pub decompressed_bytes: Option<u64>,
    /// Size of a publication's decoded PDF.
    pub pdf_bytes: Option<u64>,
    /// Total size of the queue message bodies (a world: of the bundle files written).
    pub output_bytes: u64,
    /// Queue messages (a world: bundle files).
    pub messages: u64,
    pub bundles: u64,
    pub objects: u64,
    /// Wall time of the timed part.
    pub seconds: f64,
    /// CPU time of the whole process during the timed part (all threads).
    pub cpu_seconds: f64,
    /// Resident memory when the clock started (the input already read).
    pub start_rss_bytes: u64,
    /// Peak resident memory of the process, read at the end.
    pub peak_rss_bytes: u64,
}

impl CaseReport {
    /// The report of `case` from its totals and measurements.
    pub fn new(
        case: CaseName,
        totals: Totals,
        input_bytes: u64,
        elapsed: Elapsed,
        start_rss_bytes: u64,
    ) -> anyhow::Result<CaseReport> {
        Ok(CaseReport {
            case: case.as_str().to_owned(),
            items: totals.items,
            item_unit: case.item_unit().to_owned(),
            converted: totals.converted,
            skipped: totals.skipped,
            input_bytes,
            decompressed_bytes: totals.decompressed_bytes,
            pdf_bytes: totals.pdf_bytes,
            output_bytes: totals.output_bytes,
            messages: totals.messages,
            bundles: totals.bundles,
            objects: totals.objects,
            seconds: elapsed.seconds,
            cpu_seconds: elapsed.cpu_seconds,
            start_rss_bytes,
            peak_rss_bytes: measure::peak_rss_bytes()?,
        })
    }
}

/// Runs a conversion case (not `world`, not `publish`) on `input`; `exclude` replaces the
/// Master IoC types left out (default: none).
pub fn run_conversion(
    case: CaseName,
    input: &Path,
    exclude: Option<Vec<String>>,
) -> anyhow::Result<CaseReport> {
    let body = std::fs::read(input).with_context(|| format!("cannot read {}", input.display()))?;
    let input_bytes = body.len() as u64;
    let mut job = Job::bench();
    if let Some(types) = exclude {
        job.settings.master_ioc_excluded_types = types;
    }

    let start_rss = measure::rss_bytes()?;
    let clock = Clock::start()?;
    let totals = match case {
        CaseName::MasterIoc => convert::convert_master_ioc(body, &job),
        CaseName::MasterIocCsv => convert::convert_master_ioc_csv(body, &job),
        CaseName::MasterYara => convert::convert_master_yara(body, &job),
        CaseName::Publication => convert::convert_publication(body, &job),
        CaseName::World | CaseName::Publish => {
            anyhow::bail!("{} is not a conversion case", case.as_str())
        }
    }
    .with_context(|| format!("case {} on {}", case.as_str(), input.display()))?;
    let elapsed = clock.stop()?;
    CaseReport::new(case, totals, input_bytes, elapsed, start_rss)
}
