//! Which cases the table runs at each size, and where their inputs live.

use std::path::{Path, PathBuf};

use super::cases::CaseName;
use crate::common::inputs::{DEFAULT_SEED, InputSpec, Kind};

/// The two sets of sizes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Sizes {
    /// Small inputs: a smoke run of a few seconds.
    Quick,
    /// The sizes of issue #7.
    Full,
}

/// One conversion case on one input.
#[derive(Clone, Debug)]
pub struct Run {
    pub case: CaseName,
    /// How the table names the size ("1M rows", "20k items + 20 MB PDF").
    pub size: String,
    pub input: InputSpec,
}

/// Everything one table runs.
#[derive(Clone, Debug)]
pub struct Plan {
    pub runs: Vec<Run>,
    /// Messages of the publish case (0: no publish case).
    pub publish_messages: usize,
}

/// OpenIOC items of the publication whose memory is the PDF's.
const PDF_ALONE_ITEMS: usize = 100;

impl Plan {
    /// The plan of a set of sizes.
    pub fn new(sizes: Sizes) -> Plan {
        let (ioc_rows, yara_rules, items, pdf, worlds, messages): (
            &[usize],
            &[usize],
            usize,
            usize,
            usize,
            usize,
        ) = match sizes {
            Sizes::Quick => (&[2_000, 20_000], &[200], 2_000, 1_000_000, 20, 5_000),
            Sizes::Full => (
                &[10_000, 100_000, 1_000_000],
                &[1_000, 10_000],
                20_000,
                20_000_000,
                500,
                200_000,
            ),
        };
        let mut runs = Vec::new();
        for &rows in ioc_rows {
            runs.push(run(CaseName::MasterIoc, Kind::MasterIoc, rows, 0, "rows"));
        }
        for &rules in yara_rules {
            runs.push(run(
                CaseName::MasterYara,
                Kind::MasterYara,
                rules,
                0,
                "rules",
            ));
        }
        // The PDF alone (a usual publication's few items), then with many items: the
        // memory target is about the PDF, the second shows what items add to it.
        for items in [PDF_ALONE_ITEMS, items] {
            let mut publication = run(
                CaseName::Publication,
                Kind::Publication,
                items,
                pdf,
                "items",
            );
            publication.size = format!("{} + {} MB PDF", publication.size, pdf / 1_000_000);
            runs.push(publication);
        }
        runs.push(run(CaseName::World, Kind::World, worlds, 0, "publications"));
        Plan {
            runs,
            publish_messages: messages,
        }
    }
}

fn run(case: CaseName, kind: Kind, size: usize, pdf_bytes: usize, unit: &str) -> Run {
    Run {
        case,
        size: format!("{} {unit}", short_count(size as u64)),
        input: InputSpec {
            kind,
            size,
            seed: DEFAULT_SEED,
            pdf_bytes,
        },
    }
}

/// `20k`, `1M`, `1.5M`, `500`.
pub fn short_count(n: u64) -> String {
    let (value, suffix) = match n {
        1_000_000.. => (n as f64 / 1e6, "M"),
        1_000.. => (n as f64 / 1e3, "k"),
        _ => return n.to_string(),
    };
    if value.fract() == 0.0 {
        format!("{value:.0}{suffix}")
    } else {
        format!("{value:.1}{suffix}")
    }
}

/// Where inputs go: `$BENCH_DATA`, else `bench-data` in the target directory.
pub fn data_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("BENCH_DATA") {
        return PathBuf::from(dir);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    target.join("bench-data")
}
