//! Running the `master_ioc` scope: fetch the file on its weekday, send the groups whose
//! content is new, remember what arrived.
//!
//! `latest_master_ioc_timestamp` is written only when every group of the file reached the
//! sinks; until then the file is fetched again on every run, whatever the weekday, and only
//! the groups still missing are sent (see [`super::digest`]).

use std::collections::HashSet;

use jiff::Timestamp;
use serde_json::Value;

use super::digest::{self, Fingerprint};
use super::importer::{Importer, ScopeReport};
use super::master_file::{MasterFile, fetch_text};
use super::progress::Progress;
use super::schedule::master_file_is_due;
use super::state::{LATEST_MASTER_IOC, State};
use crate::config::Scope;
use crate::formats::master_ioc;
use crate::scopes::{self, BuildSettings};
use crate::sink::{BundleLabel, Sinks};

/// Fingerprints of the groups delivered from the current file.
pub const DELIVERED_GROUPS: &str = "kaspersky_master_ioc_groups";
/// True while a fetched file has groups not yet delivered.
pub const PENDING: &str = "kaspersky_master_ioc_pending";

/// Runs the scope.
pub async fn run(
    importer: &Importer,
    sinks: &mut Sinks,
    state: &State,
    now: Timestamp,
) -> ScopeReport {
    let weekday = importer.kaspersky.master_ioc_fetch_weekday;
    let pending = state.get(PENDING) == Some(&Value::Bool(true));
    if !pending && !master_file_is_due(weekday, state.timestamp(LATEST_MASTER_IOC), now) {
        tracing::info!(scope = "master_ioc", "Master IoC file not due on this run");
        return ScopeReport::not_due(Scope::MasterIoc);
    }
    let mut report = ScopeReport::new(Scope::MasterIoc);
    let mut keys = State::new();
    keys.set(PENDING, Value::Bool(true));
    report.state = keys;

    // Its bad lines are already reported, one skipped row each.
    let Some((text, _)) = fetch_text(importer, MasterFile::Ioc, &mut report).await else {
        return report;
    };

    let mut reader = master_ioc::rows(&text);
    let grouped = tokio::task::block_in_place(|| scopes::master_ioc::group_rows(&mut reader));
    report.fetched = grouped.rows;
    super::metrics::items_fetched("master_ioc", report.fetched as u64);
    report.skip(grouped.broken);
    let groups = grouped.groups;
    tracing::info!(
        scope = "master_ioc",
        rows = grouped.rows,
        groups = groups.len(),
        "Master IoC file read"
    );

    let previous = digest::load(state.get(DELIVERED_GROUPS));
    let mut delivered_now: HashSet<u32> = HashSet::new();
    let settings_print = settings_fingerprint(&importer.settings);
    let mut progress = Progress::new("master_ioc", "groups", groups.len());
    for group in &groups {
        progress.advance(1);
        if importer.cancel.is_cancelled() {
            report.interrupted = true;
            break;
        }
        let name = &*group.name;
        let mut lost = Vec::new();
        let rows = tokio::task::block_in_place(|| {
            scopes::master_ioc::read_group(&mut reader, group, &mut lost)
        });
        report.skip(lost);
        let fingerprint = group_fingerprint(name, &rows, settings_print);
        if previous.contains(&fingerprint) {
            report.unchanged += 1;
            delivered_now.insert(fingerprint);
            continue;
        }

        let known = importer.known_publication(name).await;
        let built = tokio::task::block_in_place(|| {
            scopes::master_ioc::build(name, &rows, known.as_ref(), &importer.settings, now)
        });
        let Some(built) = built else {
            delivered_now.insert(fingerprint);
            continue;
        };
        report.skip(built.skipped);
        let label = BundleLabel {
            scope: "master_ioc",
            item: (*name).to_owned(),
            key: built.report_id.clone(),
        };
        match sinks.deliver(&label, &built.bundle).await {
            Ok(delivered) => {
                delivered_now.insert(fingerprint);
                report.delivered += 1;
                report.objects += built.bundle.len();
                report.messages += delivered.messages;
                let iocs = built.iocs;
                tracing::debug!(scope = "master_ioc", group = %name, iocs, "Group delivered");
            }
            Err(error) => {
                report.fail(
                    format!("group {name:?}: delivery failed: {error}"),
                    "delivery",
                );
            }
        }
    }

    // Fingerprints of groups no longer in the file are dropped with the old set.
    let mut keys = State::new();
    keys.set(DELIVERED_GROUPS, digest::store(&delivered_now));
    if report.succeeded() && !report.interrupted {
        keys.set_timestamp(LATEST_MASTER_IOC, now);
        keys.set(PENDING, Value::Null);
    } else {
        keys.set(PENDING, Value::Bool(true));
    }
    report.state = keys;
    report
}

/// A group's fingerprint: its name and its rows under the settings (see
/// [`settings_fingerprint`]); a group whose fingerprint was delivered is not sent again.
pub fn group_fingerprint(name: &str, rows: &[master_ioc::MasterIocRow<'_>], settings: u64) -> u32 {
    digest::group(name, rows.iter().map(|row| row_fingerprint(row, settings)))
}

/// What of a row shapes its objects.
fn row_fingerprint(row: &master_ioc::MasterIocRow<'_>, settings: u64) -> u64 {
    Fingerprint::default()
        .feed(&settings.to_le_bytes())
        .feed(row.uid.as_bytes())
        .feed(row.indicator.as_bytes())
        .feed(row.indicator_type.as_bytes())
        .feed(&row.detection_date.as_second().to_le_bytes())
        .value()
}

/// What of the configuration shapes a group's bundle: a change re-sends every group.
pub fn settings_fingerprint(settings: &BuildSettings) -> u64 {
    let mut print = Fingerprint::default()
        .feed(settings.tlp.id().as_bytes())
        .feed(&[
            settings.create_observables as u8,
            settings.create_indicators as u8,
        ])
        .feed(format!("{:?}", settings.confidence).as_bytes())
        .feed(format!("{:?}", settings.master_ioc).as_bytes())
        .feed(format!("{:?}", settings.publication).as_bytes());
    for excluded in &settings.master_ioc_excluded_types {
        print = print.feed(excluded.as_bytes());
    }
    print.value()
}
