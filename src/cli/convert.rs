//! `convert`: files downloaded from the portal, turned into STIX bundles offline.
//!
//! For air-gapped sites and for inspection. It honours the same configuration as `run`
//! (TLP, exclusions, create_observables/create_indicators, report type and status) and
//! writes one bundle per publication or group, to standard output (one per line) or into
//! a directory.

use std::io::{self, BufWriter, Write};
use std::path::PathBuf;

use anyhow::{Context, bail};
use jiff::Timestamp;
use serde_json::Value;

use super::summary::Summary;
use crate::formats::text::{self, Mend};
use crate::formats::{master_ioc, openioc, payload, yara};
use crate::scopes::{self, BuildSettings};
use crate::sink::{BundleLabel, DirectorySink};
use crate::stix::Bundle;

/// What kind of file `convert` reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ConvertKind {
    /// A `get_one` response body, or the bare publication object.
    Publication,
    /// A `get_master_ioc` response body, or the decoded CSV.
    MasterIoc,
    /// A `get_master_yara` response body, or any YARA file.
    MasterYara,
    /// An OpenIOC document.
    Openioc,
}

/// `convert KIND FILE [--out DIR] [--now RFC3339]`.
#[derive(Clone, Debug, clap::Args)]
pub struct ConvertArgs {
    /// What the file holds.
    #[arg(value_enum)]
    pub kind: ConvertKind,
    /// The file to convert.
    pub file: PathBuf,
    /// Write one bundle file per publication or group into this directory, instead of
    /// one bundle per line on standard output.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// The time the objects are stamped with (RFC 3339); default: now. Fix it for
    /// reproducible output.
    #[arg(long, value_name = "RFC3339")]
    pub now: Option<Timestamp>,
}

/// Where converted bundles go.
pub enum Output {
    /// One compact bundle per line.
    Lines(BufWriter<Box<dyn Write>>),
    Directory(DirectorySink),
}

impl Output {
    /// Standard output, one bundle per line.
    pub fn stdout() -> Self {
        Output::Lines(BufWriter::new(Box::new(io::stdout())))
    }

    /// Writes one bundle.
    pub fn write(&mut self, label: &BundleLabel, bundle: &Bundle) -> anyhow::Result<()> {
        match self {
            Output::Lines(writer) => {
                serde_json::to_writer(&mut *writer, bundle)?;
                writer
                    .write_all(b"\n")
                    .context("cannot write to standard output")?;
            }
            Output::Directory(sink) => {
                sink.write(label, bundle)?;
            }
        }
        Ok(())
    }

    /// Flushes buffered output.
    pub fn finish(&mut self) -> anyhow::Result<()> {
        if let Output::Lines(writer) = self {
            writer.flush().context("cannot write to standard output")?;
        }
        Ok(())
    }
}

/// Converts one file. An unreadable or malformed file is an error; a readable file with
/// nothing convertible in it is not (the summary says why).
pub fn convert(
    args: &ConvertArgs,
    settings: &BuildSettings,
    max_payload: u64,
    output: &mut Output,
) -> anyhow::Result<Summary> {
    let bytes = std::fs::read(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let now = args.now.unwrap_or_else(Timestamp::now);
    let mut summary = Summary::default();
    let file = args.file.display();
    match args.kind {
        ConvertKind::Publication => {
            publication_file(&bytes, settings, max_payload, now, output, &mut summary)
                .with_context(|| format!("{file}"))?;
        }
        ConvertKind::MasterIoc => {
            let raw = raw_or_payload(&bytes, "master_ioc", max_payload)
                .with_context(|| format!("{file}"))?;
            let text = text_lines(raw, &mut summary).with_context(|| format!("{file}"))?;
            master_ioc_file(&text, settings, now, output, &mut summary)?;
        }
        ConvertKind::MasterYara => {
            let raw = raw_or_payload(&bytes, "master_yara", max_payload)
                .with_context(|| format!("{file}"))?;
            // Bad lines are kept, mended, so that the rules they fall in can be dropped.
            let (text, bad) =
                text::mostly_utf8(raw, Mend::Replace).with_context(|| format!("{file}"))?;
            let file = yara::split_except(&text, &bad);
            master_yara_file(&file, settings, now, output, &mut summary)?;
        }
        ConvertKind::Openioc => {
            let document = openioc::parse(&bytes).with_context(|| {
                format!("{} is not a readable OpenIOC document", args.file.display())
            })?;
            summary.read("IoCs", document.items.len());
            let built = scopes::publication::build_openioc(&document, settings, now);
            summary.excluded += built.excluded;
            summary.skipped(&built.skipped);
            if built.iocs == 0 {
                summary
                    .notes
                    .push("no indicator item of the document could be imported".into());
            } else {
                let label = BundleLabel {
                    scope: "openioc",
                    item: document.id.clone().unwrap_or_else(|| "document".into()),
                    key: built.bundle.id().to_owned(),
                };
                output.write(&label, &built.bundle)?;
                summary.bundle(&built.bundle);
            }
        }
    }
    output.finish()?;
    Ok(summary)
}

/// The bytes of a master file: the decoded payload of a TIP response body, or the file
/// itself when it is not JSON.
fn raw_or_payload(bytes: &[u8], field: &str, max_payload: u64) -> anyhow::Result<Vec<u8>> {
    let start = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let looks_like_json = start.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    let raw = if looks_like_json {
        let body: Value = serde_json::from_slice(start).context("malformed JSON")?;
        let data = envelope_data(&body)?;
        let encoded = data
            .get(field)
            .and_then(Value::as_str)
            .with_context(|| format!("the response has no return_data.{field} text"))?;
        payload::decode(encoded, max_payload).with_context(|| format!("return_data.{field}"))?
    } else {
        start.to_vec()
    };
    Ok(raw)
}

/// The text of a Master IoC file: lines that are not UTF-8 are skipped and reported, unless
/// most of the file is not text at all.
fn text_lines(raw: Vec<u8>, summary: &mut Summary) -> anyhow::Result<String> {
    let (text, bad) = text::mostly_utf8(raw, Mend::Blank)?;
    let skipped: Vec<scopes::Skipped> = bad
        .iter()
        .map(|b| scopes::Skipped {
            item: format!("line {}", b.line),
            reason: format!("not UTF-8 (invalid byte at offset {})", b.offset),
            minor: false,
        })
        .collect();
    summary.skipped(&skipped);
    Ok(text)
}

/// `return_data` of a TIP response, after checking `status`.
pub(crate) fn envelope_data(body: &Value) -> anyhow::Result<&Value> {
    match body.get("status").and_then(Value::as_str) {
        Some("ok") => body
            .get("return_data")
            .context("the response has no return_data"),
        Some(status) => bail!("the response's status is {status:?}, not \"ok\""),
        None => bail!("not a TIP response (no \"status\")"),
    }
}

fn publication_file(
    bytes: &[u8],
    settings: &BuildSettings,
    max_payload: u64,
    now: Timestamp,
    output: &mut Output,
    summary: &mut Summary,
) -> anyhow::Result<()> {
    let body: Value = serde_json::from_slice(bytes).context("malformed JSON")?;
    let object = if body.get("status").is_some() {
        envelope_data(&body)?
    } else {
        &body
    };
    let publication: crate::tip::Publication = serde_json::from_value(object.clone())
        .context("not a TIP publication (a get_one response or the publication object)")?;
    summary.read("publications", 1);

    let (input, mut skipped) = scopes::publication::decode(publication, max_payload);
    let id = input.id.clone();
    summary.read("IoCs", input.iocs.as_ref().map_or(0, |d| d.items.len()));
    summary.read(
        "YARA rules",
        input
            .yara
            .as_ref()
            .map_or(0, |y| y.rules.len() + y.errors.len()),
    );
    let built = scopes::publication::build(input, settings, now);
    skipped.extend(built.skipped.iter().cloned());
    summary.excluded += built.excluded;
    summary.skipped(&skipped);
    let label = BundleLabel {
        scope: "publication",
        item: id,
        key: built.report_id.clone(),
    };
    output.write(&label, &built.bundle)?;
    summary.bundle(&built.bundle);
    Ok(())
}

fn master_ioc_file(
    text: &str,
    settings: &BuildSettings,
    now: Timestamp,
    output: &mut Output,
    summary: &mut Summary,
) -> anyhow::Result<()> {
    let mut reader = master_ioc::rows(text);
    let grouped = scopes::master_ioc::group_rows(&mut reader);
    summary.read("Master IoC rows", grouped.rows);
    summary.skipped(&grouped.broken);

    let groups = grouped.groups;
    let mut progress =
        crate::runtime::progress::Progress::new("master_ioc", "groups", groups.len());
    for group in &groups {
        progress.advance(1);
        let mut lost = Vec::new();
        let rows = scopes::master_ioc::read_group(&mut reader, group, &mut lost);
        summary.skipped(&lost);
        let name = &*group.name;
        let Some(built) = scopes::master_ioc::build(name, &rows, None, settings, now) else {
            continue;
        };
        summary.excluded += built.excluded;
        summary.skipped(&built.skipped);
        let label = BundleLabel {
            scope: "master_ioc",
            item: name.to_owned(),
            key: built.report_id,
        };
        output.write(&label, &built.bundle)?;
        summary.bundle(&built.bundle);
    }
    if summary.bundles == 0 {
        summary
            .notes
            .push("no row of the file could be imported".into());
    }
    Ok(())
}

fn master_yara_file(
    file: &yara::YaraFile,
    settings: &BuildSettings,
    now: Timestamp,
    output: &mut Output,
    summary: &mut Summary,
) -> anyhow::Result<()> {
    summary.read("YARA rules", file.rules.len() + file.errors.len());
    summary.skipped(&scopes::master_yara::skipped(file));
    if !settings.create_indicators {
        summary.excluded += file.rules.len();
        summary
            .notes
            .push("create_indicators is false: YARA rules become no object".into());
        return Ok(());
    }

    for (group, rules) in scopes::master_yara::groups(file) {
        // Offline there is no state to remember when a group was first seen: a group none
        // of whose rules is dated gets the Unix epoch, so that no report id depends on the
        // time of the conversion (the service keeps a first-seen date instead).
        let anchor = scopes::master_yara::anchor(
            &group,
            &rules,
            None,
            Some(Timestamp::UNIX_EPOCH),
            settings,
        );
        let built = scopes::master_yara::build_group(&rules, anchor.as_ref(), settings, now);
        let item = if group.is_empty() {
            "without-report".to_owned()
        } else {
            group.clone()
        };
        let report_id = built.report_id.as_deref();
        let key = crate::runtime::master_yara::content_key(&group, &rules, report_id);
        output.write(
            &BundleLabel {
                scope: "master_yara",
                item,
                key,
            },
            &built.bundle,
        )?;
        summary.bundle(&built.bundle);
    }
    if summary.bundles == 0 {
        summary.notes.push("the file holds no YARA rule".into());
    }
    Ok(())
}
