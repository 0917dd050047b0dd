//! Reproducible benchmark inputs, written as the TIP sends them.
//!
//! Every input comes from the library's deterministic world generator
//! (`connector_kaspersky::simulator::tip::generate`): the same kind, size and seed give
//! the same bytes on every machine. Master files are streamed row by row (rule by rule)
//! through gzip and base64 into the answer, so a million-row file never sits in memory.
//! Answers use the envelope the simulator serves (reference/kaspersky-tip-api.md §2, §3).

use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use base64::engine::general_purpose::STANDARD;
use base64::write::EncoderWriter;
use connector_kaspersky::simulator::tip::generate::{write_master_ioc, write_master_yara};
use connector_kaspersky::simulator::tip::{GenerateParams, Payload, World, generate};
use flate2::Compression;
use flate2::write::GzEncoder;
use serde_json::Value;

/// The seed of every input unless asked otherwise (the Python harness's default too).
pub const DEFAULT_SEED: u64 = 7;

/// Rows per Master IoC group, as in real files: about 1,800 groups for a million rows.
pub const GROUP_ROWS: (usize, usize) = (100, 1000);

/// Master YARA rules per group (publication), on average.
pub const RULES_PER_GROUP: usize = 8;

/// What `gen` can write.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    /// The `get_master_ioc` answer: base64 of the gzipped CSV in the JSON envelope.
    MasterIoc,
    /// The same Master IoC rows as a plain CSV file (for the Python harness).
    MasterIocCsv,
    /// The `get_master_yara` answer.
    MasterYara,
    /// A `get_one` answer: one publication with `size` OpenIOC items and a PDF.
    Publication,
    /// A world directory of `size` publications (the simulator's layout).
    World,
}

/// One input: its kind, size, seed and (for a publication) PDF size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InputSpec {
    pub kind: Kind,
    /// Rows, rules, OpenIOC items or publications.
    pub size: usize,
    pub seed: u64,
    /// Minimum PDF size of a publication, in bytes.
    pub pdf_bytes: usize,
}

impl InputSpec {
    /// The file (or directory) name the table gives this input, unique per parameters.
    pub fn file_name(&self) -> String {
        let (size, seed) = (self.size, self.seed);
        match self.kind {
            Kind::MasterIoc => format!("master_ioc_{size}_s{seed}.json"),
            Kind::MasterIocCsv => format!("master_ioc_{size}_s{seed}.csv"),
            Kind::MasterYara => format!("master_yara_{size}_s{seed}.json"),
            Kind::Publication => format!("publication_{size}_pdf{}_s{seed}.json", self.pdf_bytes),
            Kind::World => format!("world_{size}_s{seed}"),
        }
    }

    /// Writes the input to `out`: a file, or for a world a directory. A file is written
    /// beside and renamed into place, so an interrupted run leaves no half file to be
    /// taken for a whole one.
    pub fn write(&self, out: &Path) -> anyhow::Result<()> {
        if self.kind == Kind::World {
            return write_world(self.size, self.seed, out);
        }
        let partial = partial_path(out);
        let file = fs::File::create(&partial)
            .with_context(|| format!("cannot create {}", partial.display()))?;
        let mut file = BufWriter::with_capacity(1 << 16, file);
        match self.kind {
            Kind::MasterIoc => master_ioc_answer(self.size, self.seed, &mut file),
            Kind::MasterIocCsv => {
                write_master_ioc(&master_ioc_params(self.size, self.seed), &mut file)
            }
            Kind::MasterYara => master_yara_answer(self.size, self.seed, &mut file),
            Kind::Publication => {
                let body = publication_answer(self.size, self.pdf_bytes, self.seed);
                file.write_all(&body)
            }
            Kind::World => unreachable!("handled above"),
        }
        .and_then(|()| file.flush())
        .with_context(|| format!("cannot write {}", partial.display()))?;
        drop(file);
        fs::rename(&partial, out)
            .with_context(|| format!("cannot rename {} to {}", partial.display(), out.display()))
    }
}

fn partial_path(out: &Path) -> PathBuf {
    let mut name = out.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    out.with_file_name(name)
}

/// The generator's parameters for a Master IoC file of `rows` rows in real-sized groups.
pub fn master_ioc_params(rows: usize, seed: u64) -> GenerateParams {
    GenerateParams {
        seed,
        master_ioc_rows: rows,
        master_ioc_group_rows: Some(GROUP_ROWS),
        master_yara_rules: 0,
        ..GenerateParams::default()
    }
}

/// The generator's parameters for a Master YARA file of `rules` rules.
pub fn master_yara_params(rules: usize, seed: u64) -> GenerateParams {
    GenerateParams {
        seed,
        master_ioc_rows: 0,
        master_ioc_groups: (rules / RULES_PER_GROUP).max(8),
        master_yara_rules: rules,
        ..GenerateParams::default()
    }
}

/// Writes the `get_master_ioc` answer for `rows` rows.
pub fn master_ioc_answer<W: Write>(rows: usize, seed: u64, out: W) -> io::Result<()> {
    let params = master_ioc_params(rows, seed);
    master_answer("master_ioc", out, |gzip| write_master_ioc(&params, gzip))
}

/// Writes the `get_master_yara` answer for `rules` rules.
pub fn master_yara_answer<W: Write>(rules: usize, seed: u64, out: W) -> io::Result<()> {
    let params = master_yara_params(rules, seed);
    master_answer("master_yara", out, |gzip| write_master_yara(&params, gzip))
}

/// `{"status":"ok","return_data":{"<field>":"<base64 of gzip>"}}`, the payload written by
/// `fill` into the gzip stream.
fn master_answer<W: Write>(
    field: &str,
    mut out: W,
    fill: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    write!(out, r#"{{"status":"ok","return_data":{{"{field}":""#)?;
    {
        let base64 = EncoderWriter::new(&mut out, &STANDARD);
        let mut gzip = GzEncoder::new(base64, Compression::default());
        fill(&mut gzip)?;
        gzip.finish()?.finish()?;
    }
    out.write_all(br#""}}"#)?;
    out.flush()
}

/// The `get_one` answer of a publication with `items` OpenIOC items, a PDF of at least
/// `pdf_bytes` bytes and a few YARA rules, as the simulator serves it with
/// `include_info=pdf,yara,iocs`.
pub fn publication_answer(items: usize, pdf_bytes: usize, seed: u64) -> Vec<u8> {
    let params = GenerateParams {
        seed,
        publications: 1,
        iocs_per_publication: items,
        pdf_bytes,
        master_ioc_rows: 0,
        master_yara_rules: 0,
        ..GenerateParams::default()
    };
    let world = generate(&params);
    let publication = &world.publications()[0];
    let mut data = publication.meta().clone();
    for (key, payload) in [
        ("report_pdf", &publication.pdf),
        ("report_yara", &publication.yara),
        ("report_iocs", &publication.iocs),
    ] {
        if let Some(payload) = payload {
            data.insert(key.to_owned(), Value::String(payload.encoded().to_owned()));
        }
    }
    let answer = serde_json::json!({"status": "ok", "return_data": data});
    serde_json::to_vec(&answer).expect("JSON values always serialize")
}

/// Writes a world of `publications` publications (and the default small Master files)
/// into the directory `out`, replacing an earlier world there.
pub fn write_world(publications: usize, seed: u64, out: &Path) -> anyhow::Result<()> {
    if out.exists() {
        if !out.join("publications.json").exists() {
            bail!("{} exists and is not a world directory", out.display());
        }
        fs::remove_dir_all(out).with_context(|| format!("cannot remove {}", out.display()))?;
    }
    let partial = partial_path(out);
    if partial.exists() {
        fs::remove_dir_all(&partial)
            .with_context(|| format!("cannot remove {}", partial.display()))?;
    }
    world(publications, seed)
        .write(&partial)
        .with_context(|| format!("cannot write the world into {}", partial.display()))?;
    fs::rename(&partial, out)
        .with_context(|| format!("cannot rename {} to {}", partial.display(), out.display()))
}

/// A `demo`-style world: the demo's defaults with `publications` publications.
pub fn world(publications: usize, seed: u64) -> World {
    generate(&GenerateParams {
        seed,
        publications,
        ..GenerateParams::default()
    })
}

/// The total size of the files under `path` (a file or a directory).
pub fn size_on_disk(path: &Path) -> io::Result<u64> {
    let meta = fs::metadata(path)?;
    if !meta.is_dir() {
        return Ok(meta.len());
    }
    let mut total = 0;
    for entry in fs::read_dir(path)? {
        total += size_on_disk(&entry?.path())?;
    }
    Ok(total)
}

/// The encoded form of every payload of `world`, made now so that serving it later costs
/// no compression (the simulator encodes on first use).
pub fn encode_payloads(world: &World) {
    let payloads = world
        .publications()
        .iter()
        .flat_map(|p| [&p.pdf, &p.iocs, &p.yara])
        .chain([&world.master_ioc, &world.master_yara]);
    for payload in payloads.flatten() {
        let _: &str = Payload::encoded(payload);
    }
}
