//! The pipelines the benchmarks time: a TIP answer body in memory to queue message bodies.
//!
//! Each function mirrors, step for step, what the runtime does with the same answer
//! (`src/runtime/master_ioc.rs`, `master_yara.rs`, `publications.rs::fetch_and_build`)
//! and then what the queue sink does with each bundle (`opencti::delivery`: split,
//! encode every message). What the benchmark cannot or should not do is left out: the
//! HTTP request, the look-ups of known publications and stored YARA rules in OpenCTI
//! (there is no platform: every group is new), and the AMQP publishing itself (measured
//! on its own by `case publish`). Message bodies are counted and dropped.
//!
//! When the library's steps change, these functions are the one place to follow them:
//! keep each a plain sequence of the runtime's calls.

use std::collections::HashSet;
use std::hint::black_box;

use anyhow::Context;
use connector_kaspersky::formats::master_ioc;
use connector_kaspersky::formats::yara::{self, YaraFile, YaraRule};
use connector_kaspersky::formats::{payload, text};
use connector_kaspersky::opencti::message::MessageEncoder;
use connector_kaspersky::opencti::split::split_bundle;
use connector_kaspersky::runtime;
use connector_kaspersky::runtime::digest;
use connector_kaspersky::scopes::{self, BuildSettings, publication};
use connector_kaspersky::stix::Bundle;
use connector_kaspersky::tip::{Endpoint, response};
use jiff::Timestamp;
use serde_json::{Map, Value};

/// What every conversion needs: the build settings, a fixed "now", the payload cap and
/// the identities the queue messages carry.
#[derive(Clone, Debug)]
pub struct Job {
    pub settings: BuildSettings,
    pub now: Timestamp,
    pub max_payload: u64,
    pub applicant_id: String,
    pub work_id: String,
}

impl Job {
    /// The benchmark's job: the documented defaults except that no IoC type is excluded
    /// (every row and item becomes objects, as in the Python harness's default), a fixed
    /// time so that ids repeat from run to run, and the applicant and work ids of the
    /// Python harness (`bench/python/bench_master_ioc.py`), so that both sides' message
    /// bodies have the same size.
    pub fn bench() -> Job {
        let settings = BuildSettings {
            master_ioc_excluded_types: Vec::new(),
            publication_excluded_ioc_types: Vec::new(),
            ..BuildSettings::default()
        };
        Job {
            settings,
            now: Timestamp::constant(1_780_272_000, 0),
            max_payload: payload::DEFAULT_MAX_DECOMPRESSED_BYTES,
            applicant_id: "88ec0c6a-13ce-5e39-b486-354fe4a7084f".to_owned(),
            work_id: "work_bench-master-ioc".to_owned(),
        }
    }
}

/// What a conversion produced.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Totals {
    /// Rows, rules or OpenIOC items read (broken ones included).
    pub items: u64,
    /// Items that became STIX objects.
    pub converted: u64,
    /// Items skipped (broken, unmapped, refused).
    pub skipped: u64,
    /// Size of the decoded Master file text (Master cases only).
    pub decompressed_bytes: Option<u64>,
    /// Size of a publication's decoded PDF.
    pub pdf_bytes: Option<u64>,
    /// Bundles built (groups, publications).
    pub bundles: u64,
    /// Objects in those bundles.
    pub objects: u64,
    /// Queue messages, one per split object.
    pub messages: u64,
    /// Total size of the message bodies, as they go on the wire.
    pub output_bytes: u64,
}

impl Totals {
    /// Splits `bundle` and encodes each message as `QueueDelivery::deliver_split` does
    /// (one encoder per bundle, sequence from 1), counting and dropping the bodies.
    pub fn send(&mut self, bundle: &Bundle, job: &Job) -> anyhow::Result<()> {
        let split = split_bundle(bundle);
        let mut encoder = MessageEncoder::new(&job.applicant_id, Some(&job.work_id));
        for (index, item) in split.items.iter().enumerate() {
            let body = encoder
                .encode(&split.bundle_id, index as u64 + 1, item)
                .with_context(|| format!("encoding a message of bundle {}", split.bundle_id))?;
            self.messages += 1;
            self.output_bytes += body.len() as u64;
            black_box(body);
        }
        self.bundles += 1;
        self.objects += bundle.len() as u64;
        Ok(())
    }
}

/// The `get_master_ioc` answer to queue messages: `tip::TipClient::get_master_ioc`, then
/// `runtime::master_ioc::run`.
pub fn convert_master_ioc(body: Vec<u8>, job: &Job) -> anyhow::Result<Totals> {
    let encoded = response::parse_master(Endpoint::GetMasterIoc, "master_ioc", body)
        .context("reading the get_master_ioc answer")?;
    let raw =
        payload::decode_owned(encoded, job.max_payload).context("decoding the Master IoC file")?;
    let (text, _) = text::mostly_utf8(raw, text::Mend::Blank).context("the Master IoC file")?;
    master_ioc_text(&text, job)
}

/// The same pipeline from the plain CSV file, for the comparison with the Python
/// connector's harness, which starts from the CSV text too.
pub fn convert_master_ioc_csv(body: Vec<u8>, job: &Job) -> anyhow::Result<Totals> {
    let text = String::from_utf8(body).context("the Master IoC CSV is not UTF-8")?;
    master_ioc_text(&text, job)
}

/// `runtime::master_ioc::run` from the decoded text on, every group new.
fn master_ioc_text(text: &str, job: &Job) -> anyhow::Result<Totals> {
    let mut totals = Totals {
        decompressed_bytes: Some(text.len() as u64),
        ..Totals::default()
    };
    let mut reader = master_ioc::rows(text);
    let grouped = scopes::master_ioc::group_rows(&mut reader);
    totals.items = grouped.rows as u64;
    totals.skipped = grouped.broken.len() as u64;

    let previous = digest::load(None);
    let mut delivered_now: HashSet<u32> = HashSet::new();
    let settings_print = runtime::master_ioc::settings_fingerprint(&job.settings);
    for group in &grouped.groups {
        let mut lost = Vec::new();
        let rows = scopes::master_ioc::read_group(&mut reader, group, &mut lost);
        totals.skipped += lost.len() as u64;
        let name = &*group.name;
        let fingerprint = runtime::master_ioc::group_fingerprint(name, &rows, settings_print);
        if previous.contains(&fingerprint) {
            continue;
        }
        let built = scopes::master_ioc::build(name, &rows, None, &job.settings, job.now);
        let Some(built) = built else {
            delivered_now.insert(fingerprint);
            continue;
        };
        totals.skipped += built.skipped.len() as u64;
        totals.converted += built.iocs as u64;
        totals.send(&built.bundle, job)?;
        delivered_now.insert(fingerprint);
    }
    black_box(digest::store(&delivered_now));
    Ok(totals)
}

/// The `get_master_yara` answer to queue messages: `tip::TipClient::get_master_yara`,
/// then `runtime::master_yara::run` with no platform to reconcile with.
pub fn convert_master_yara(body: Vec<u8>, job: &Job) -> anyhow::Result<Totals> {
    let encoded = response::parse_master(Endpoint::GetMasterYara, "master_yara", body)
        .context("reading the get_master_yara answer")?;
    let raw =
        payload::decode_owned(encoded, job.max_payload).context("decoding the Master YARA file")?;
    let (text, bad) =
        text::mostly_utf8(raw, text::Mend::Replace).context("the Master YARA file")?;
    let file = yara::split_except(&text, &bad);
    let mut totals = Totals {
        items: (file.rules.len() + file.errors.len()) as u64,
        skipped: scopes::master_yara::skipped(&file).len() as u64,
        decompressed_bytes: Some(text.len() as u64),
        ..Totals::default()
    };

    // The runtime copies the rules so that reconciling may edit them, then groups copies.
    let rules = file.rules.clone();
    let previous = digest::load(None);
    let mut delivered_now = HashSet::new();
    let mut first_seen: Map<String, Value> = Map::new();
    let settings_print = runtime::master_yara::settings_fingerprint(&job.settings);
    let view = YaraFile {
        imports: file.imports.clone(),
        rules,
        errors: Vec::new(),
    };
    let grouped = runtime::master_yara::owned_groups(&view);

    for (name, group) in &grouped {
        let fingerprint = runtime::master_yara::group_fingerprint(name, group, settings_print);
        if previous.contains(&fingerprint) {
            continue;
        }
        let refs: Vec<&YaraRule> = group.iter().collect();
        let name_key = runtime::master_yara::first_seen_key(name);
        let seen = first_seen
            .get(&name_key)
            .and_then(Value::as_i64)
            .and_then(|s| Timestamp::from_second(s).ok());
        let needs_first_seen =
            !name.is_empty() && scopes::master_yara::earliest_last_modified(&refs).is_none();
        let now_second = Timestamp::from_second(job.now.as_second()).unwrap_or(job.now);
        if needs_first_seen && seen.is_none() {
            first_seen.insert(name_key, Value::from(now_second.as_second()));
        }
        let anchor = scopes::master_yara::anchor(
            name,
            &refs,
            None,
            seen.or(Some(now_second)),
            &job.settings,
        );
        let built =
            scopes::master_yara::build_group(&refs, anchor.as_ref(), &job.settings, job.now);
        totals.converted += built.rules as u64;
        totals.send(&built.bundle, job)?;
        delivered_now.insert(fingerprint);
    }
    black_box(digest::store(&delivered_now));
    black_box(first_seen);
    Ok(totals)
}

/// A `get_one` answer to queue messages: `tip::TipClient::get_one`, then
/// `runtime::publications::fetch_and_build`, then the delivery of its bundle.
pub fn convert_publication(body: Vec<u8>, job: &Job) -> anyhow::Result<Totals> {
    let full = response::parse_one(&body).context("reading the get_one answer")?;
    drop(body);
    let (input, decode_skipped) = publication::decode(full, job.max_payload);
    let items = input.iocs.as_ref().map_or(0, |d| d.items.len());
    let pdf = input.pdf.as_ref().map_or(0, Vec::len);
    let built = publication::build(input, &job.settings, job.now);

    let mut totals = Totals {
        items: items as u64,
        converted: built.iocs as u64,
        skipped: (decode_skipped.len() + built.skipped.len()) as u64,
        pdf_bytes: Some(pdf as u64),
        ..Totals::default()
    };
    totals.send(&built.bundle, job)?;
    Ok(totals)
}
