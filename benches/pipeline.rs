//! `cargo bench --bench pipeline`: criterion benchmarks of the hot steps, on small
//! generated inputs (the same generator and seed as the `table` program).
//!
//! Each step is measured alone, with its input prepared outside the timed loop: Master IoC
//! payload decoding and CSV reading, building one Master IoC group's bundle, splitting and
//! encoding that bundle's queue messages, OpenIOC parsing, YARA splitting (with each rule
//! compiled, under the default `yara-validate` feature). Sample sizes and times are kept
//! short so that the whole run stays within about three minutes.

// The `table` program uses the rest of the shared code.
#[allow(dead_code)]
mod common;

use std::hint::black_box;
use std::time::Duration;

use common::convert::{Job, Totals};
use common::inputs::{DEFAULT_SEED, master_ioc_answer, master_yara_answer, publication_answer};
use connector_kaspersky::formats::master_ioc::{self, MasterIocRow};
use connector_kaspersky::formats::{openioc, payload, yara};
use connector_kaspersky::scopes::master_ioc::{anchor, build_group};
use connector_kaspersky::scopes::publication;
use connector_kaspersky::simulator::tip::GenerateParams;
use connector_kaspersky::simulator::tip::generate::write_master_ioc;
use connector_kaspersky::tip::{Endpoint, response};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

/// Rows of the single Master IoC group.
const GROUP_ROWS: usize = 1_000;
/// Rows of the Master IoC file decoded and read.
const FILE_ROWS: usize = 10_000;
/// OpenIOC items of the parsed document.
const OPENIOC_ITEMS: usize = 1_000;
/// Rules of the split YARA file.
const YARA_RULES: usize = 50;

/// The text of a Master IoC CSV of `rows` rows, all in one group.
fn one_group_csv(rows: usize) -> String {
    let params = GenerateParams {
        seed: DEFAULT_SEED,
        master_ioc_rows: rows,
        master_ioc_group_rows: Some((rows, rows)),
        master_yara_rules: 0,
        ..GenerateParams::default()
    };
    let mut csv = Vec::new();
    write_master_ioc(&params, &mut csv).expect("writing to memory cannot fail");
    String::from_utf8(csv).expect("the generator writes UTF-8")
}

/// The base64 payload of a Master file answer.
fn master_payload(endpoint: Endpoint, field: &str, body: &[u8]) -> String {
    response::parse_master(endpoint, field, body.to_vec()).expect("a generated answer reads")
}

fn master_ioc(c: &mut Criterion) {
    let mut body = Vec::new();
    master_ioc_answer(FILE_ROWS, DEFAULT_SEED, &mut body).expect("writing to memory");
    let encoded = master_payload(Endpoint::GetMasterIoc, "master_ioc", &body);
    let limit = payload::DEFAULT_MAX_DECOMPRESSED_BYTES;
    let text = payload::decode_text(&encoded, limit).expect("a generated payload decodes");

    let mut group = c.benchmark_group("master_ioc");
    group.throughput(Throughput::Elements(FILE_ROWS as u64));
    group.bench_function("payload_decode_10k_rows", |b| {
        b.iter(|| payload::decode_text(black_box(&encoded), limit))
    });
    group.bench_function("read_rows_10k", |b| {
        b.iter(|| {
            master_ioc::rows(black_box(&text))
                .filter(Result::is_ok)
                .count()
        })
    });

    let job = Job::bench();
    let csv = one_group_csv(GROUP_ROWS);
    let rows: Vec<MasterIocRow<'_>> = master_ioc::rows(&csv).filter_map(Result::ok).collect();
    let earliest = rows
        .iter()
        .map(|r| r.detection_date)
        .min()
        .unwrap_or(job.now);
    let anchor = anchor(&rows[0].publication, None, earliest, &job.settings);
    group.throughput(Throughput::Elements(rows.len() as u64));
    group.bench_function("build_group_1k_rows", |b| {
        b.iter(|| build_group(black_box(&rows), &anchor, &job.settings, job.now))
    });

    let built = build_group(&rows, &anchor, &job.settings, job.now).expect("the group builds");
    group.throughput(Throughput::Elements(built.bundle.len() as u64));
    group.bench_function("split_and_encode_1k_rows_bundle", |b| {
        b.iter(|| {
            let mut totals = Totals::default();
            totals
                .send(black_box(&built.bundle), &job)
                .map(|()| totals.output_bytes)
        })
    });
    group.finish();
}

fn openioc_parse(c: &mut Criterion) {
    let body = publication_answer(OPENIOC_ITEMS, 0, DEFAULT_SEED);
    let full = response::parse_one(&body).expect("a generated answer reads");
    let encoded = full
        .report_iocs
        .clone()
        .expect("the publication has OpenIOC");
    let limit = payload::DEFAULT_MAX_DECOMPRESSED_BYTES;
    let xml = payload::decode(&encoded, limit).expect("a generated payload decodes");
    let items = openioc::parse(&xml)
        .expect("a generated document parses")
        .items
        .len();

    let mut group = c.benchmark_group("publication");
    group.throughput(Throughput::Elements(items as u64));
    group.bench_function("openioc_parse_1k_items", |b| {
        b.iter(|| openioc::parse(black_box(&xml)))
    });
    let job = Job::bench();
    group.bench_function("decode_and_build_1k_items", |b| {
        b.iter(|| {
            let (input, _) = publication::decode(full.clone(), limit);
            publication::build(input, &job.settings, job.now)
        })
    });
    group.finish();
}

fn yara_split(c: &mut Criterion) {
    let mut body = Vec::new();
    master_yara_answer(YARA_RULES, DEFAULT_SEED, &mut body).expect("writing to memory");
    let encoded = master_payload(Endpoint::GetMasterYara, "master_yara", &body);
    let text = payload::decode_text(&encoded, payload::DEFAULT_MAX_DECOMPRESSED_BYTES)
        .expect("a generated payload decodes");

    let mut group = c.benchmark_group("master_yara");
    group.throughput(Throughput::Elements(YARA_RULES as u64));
    group.bench_function("split_and_validate_50_rules", |b| {
        b.iter(|| yara::split(black_box(&text)))
    });
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4))
}

criterion_group! {
    name = benches;
    config = config();
    targets = master_ioc, openioc_parse, yara_split
}
criterion_main!(benches);
