//! Running the `publication` scope: list, fetch each new publication, build, deliver.
//!
//! The cursor (`latest_publication_timestamp`) moves only over the contiguous run of
//! publications, in `updated` order, that reached every sink. A publication that failed,
//! and every one after it, is listed again next run; those after it that were delivered
//! are remembered in a compact list so that they are not sent twice.

use std::collections::HashSet;

use futures_util::StreamExt;
use jiff::Timestamp;
use serde_json::Value;

use super::importer::{Importer, ScopeReport, timed};
use super::progress::Progress;
use super::state::{LATEST_PUBLICATION, State};
use crate::config::Scope;
use crate::scopes::publication;
use crate::sink::{BundleLabel, Sinks};
use crate::tip::{Publication, TipError};

/// Ids of publications delivered beyond the cursor (after one that failed).
pub const DELIVERED_AHEAD: &str = "kaspersky_publications_delivered_ahead";

/// At most this many ids are kept ahead of the cursor; beyond, a few may be sent twice
/// (OpenCTI merges them), but the state stays small.
const MAX_AHEAD: usize = 2000;

/// After this many publications in a row failed because the TIP looked down (see
/// [`TipError::is_unavailable`]), the scope stops asking: each one has already waited out
/// its whole retry schedule, so going on through the list would make one run take hours
/// during an outage. The rest are left for the next run. Counted in delivery order, so
/// requests in flight (`publication_concurrency`) do not change when it trips.
const OUTAGE_AFTER: usize = 3;

/// What happened to one listed publication.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fate {
    /// Delivered now, earlier, or ignored by prefix: the cursor may pass it.
    Done,
    Failed,
}

/// Runs the scope.
pub async fn run(
    importer: &Importer,
    sinks: &mut Sinks,
    state: &State,
    now: Timestamp,
) -> ScopeReport {
    let mut report = ScopeReport::new(Scope::Publication);
    let config = &importer.kaspersky;
    let start = state
        .timestamp(LATEST_PUBLICATION)
        .map(|t| t.as_second())
        .unwrap_or(config.publication_start_timestamp);
    let ahead: HashSet<String> = state
        .get(DELIVERED_AHEAD)
        .and_then(Value::as_array)
        .map(|ids| {
            ids.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();

    // The list: everything updated after the cursor, oldest first.
    let listed = match timed("get_list", importer.tip.get_list(Some(start), None)).await {
        Ok(list) => list,
        Err(error) => {
            report.fail(format!("cannot list publications: {error}"), "tip");
            return report;
        }
    };
    let mut items: Vec<Publication> = listed
        .into_iter()
        .filter(|p| p.updated.timestamp.as_second() > start)
        .collect();
    items.sort_by(|a, b| (a.updated, &a.id).cmp(&(b.updated, &b.id)));
    report.fetched = items.len();
    super::metrics::items_fetched("publication", items.len() as u64);
    tracing::info!(
        scope = "publication",
        since = start,
        count = items.len(),
        "Publications listed"
    );

    // Which of them need fetching: not ignored by prefix, not delivered ahead before.
    let mut fates = vec![Fate::Done; items.len()];
    let mut work = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let ignored = config
            .publication_report_ignore_prefixes
            .iter()
            .any(|p| item.name.starts_with(p.as_str()));
        if ignored {
            let (id, name) = (&item.id, &item.name);
            tracing::debug!(publication_id = %id, name = %name, "Publication ignored by prefix");
        } else if !ahead.contains(&item.id) {
            work.push(index);
        }
    }

    // Fetch and build with a few requests in flight, deliver in order.
    let concurrency = config.publication_concurrency.max(1);
    let mut built = futures_util::stream::iter(work.iter().copied())
        .map(|index| fetch_and_build(importer, &items[index], now))
        .buffered(concurrency);
    let mut cursor = 0;
    let mut progress = Progress::new("publication", "publications", work.len());
    let mut unavailable_in_a_row = 0;
    while let Some((index, result)) = next(&mut built, &work, &mut cursor).await {
        progress.advance(1);
        if importer.cancel.is_cancelled() {
            // This one and every one not reached stay before the cursor; dropping the
            // stream ends the requests still in flight.
            left_for_next_run(&mut fates, &work[cursor - 1..]);
            report.interrupted = true;
            tracing::info!(
                scope = "publication",
                left = work.len() + 1 - cursor,
                "Stopping: publications left for the next run"
            );
            break;
        }
        let item = &items[index];
        match result {
            Ok(built) => {
                unavailable_in_a_row = 0;
                report.skip(built.skipped);
                let label = BundleLabel {
                    scope: "publication",
                    item: item.id.clone(),
                    key: built.report_id.clone(),
                };
                match sinks.deliver(&label, &built.bundle).await {
                    Ok(delivered) => {
                        report.delivered += 1;
                        report.objects += built.bundle.len();
                        report.messages += delivered.messages;
                        tracing::info!(
                            scope = "publication",
                            publication_id = %item.id,
                            objects = built.bundle.len(),
                            iocs = built.iocs,
                            yara_rules = built.yara_rules,
                            "Publication delivered"
                        );
                    }
                    Err(error) => {
                        fates[index] = Fate::Failed;
                        report.fail(
                            format!("publication {}: delivery failed: {error}", item.id),
                            "delivery",
                        );
                    }
                }
            }
            Err(error) => {
                fates[index] = Fate::Failed;
                report.fail(format!("publication {}: {error}", item.id), "tip");
                if !error.is_unavailable() {
                    unavailable_in_a_row = 0;
                    continue;
                }
                unavailable_in_a_row += 1;
                if unavailable_in_a_row >= OUTAGE_AFTER {
                    // Not `report.fail`: no item failed here, the metric counts items.
                    let left = work.len() - cursor;
                    left_for_next_run(&mut fates, &work[cursor..]);
                    let what = format!(
                        "the TIP looks unavailable: {unavailable_in_a_row} publications in a \
                         row failed; the rest are left for the next run"
                    );
                    tracing::error!(scope = "publication", left, error = %what, "Import stopped");
                    report.failures.push(what);
                    break;
                }
            }
        }
    }

    report.state = cursor_state(&items, &fates, start);
    report
}

/// Marks the publications of `work` as failed, so that the cursor stays before them.
fn left_for_next_run(fates: &mut [Fate], work: &[usize]) {
    for &index in work {
        fates[index] = Fate::Failed;
    }
}

/// The next built publication, with its index in `items`.
async fn next<S>(stream: &mut S, work: &[usize], position: &mut usize) -> Option<(usize, S::Item)>
where
    S: futures_util::Stream + Unpin,
{
    let item = stream.next().await?;
    let index = work[*position];
    *position += 1;
    Some((index, item))
}

/// One publication, fetched, decoded and built off the async reactor.
async fn fetch_and_build(
    importer: &Importer,
    item: &Publication,
    now: Timestamp,
) -> Result<Box<publication::Built>, TipError> {
    let full = timed("get_one", importer.tip.get_one(&item.id)).await?;
    let settings = importer.settings.clone();
    let max_payload = importer.kaspersky.max_payload_bytes;
    let built = tokio::task::spawn_blocking(move || {
        let (input, decode_skipped) = publication::decode(full, max_payload);
        let mut built = publication::build(input, &settings, now);
        let mut skipped = decode_skipped;
        skipped.append(&mut built.skipped);
        built.skipped = skipped;
        Box::new(built)
    })
    .await
    .expect("building a publication does not panic");
    Ok(built)
}

/// The scope's state after a run: the cursor at the newest `updated` before the first
/// failure (never between two publications of the same second), and the ids delivered
/// beyond it.
fn cursor_state(items: &[Publication], fates: &[Fate], start: i64) -> State {
    let mut cursor = start;
    let mut stopped = false;
    let mut ahead = Vec::new();
    let mut index = 0;
    while index < items.len() {
        // One second's publications move the cursor together.
        let second = items[index].updated.timestamp.as_second();
        let end = items[index..]
            .iter()
            .position(|p| p.updated.timestamp.as_second() != second)
            .map_or(items.len(), |n| index + n);
        let all_done = fates[index..end].iter().all(|f| *f == Fate::Done);
        if !stopped && all_done {
            cursor = second;
        } else {
            stopped = true;
            for i in index..end {
                if fates[i] == Fate::Done && ahead.len() < MAX_AHEAD {
                    ahead.push(Value::String(items[i].id.clone()));
                }
            }
        }
        index = end;
    }

    let mut state = State::new();
    if cursor > start || !items.is_empty() {
        state.set(LATEST_PUBLICATION, Value::from(cursor));
    }
    state.set(
        DELIVERED_AHEAD,
        if ahead.is_empty() {
            Value::Null
        } else {
            Value::Array(ahead)
        },
    );
    state
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stix::PyDateTime;

    fn item(id: &str, updated: i64) -> Publication {
        let at = PyDateTime::utc(Timestamp::from_second(updated).unwrap());
        serde_json::from_value(serde_json::json!({
            "id": id, "name": id, "desc": "", "published": updated, "updated": updated,
        }))
        .map(|mut p: Publication| {
            p.updated = at;
            p
        })
        .unwrap()
    }

    #[test]
    fn the_cursor_stops_before_the_first_failure() {
        let items = [item("a", 100), item("b", 200), item("c", 300)];
        let state = cursor_state(&items, &[Fate::Done, Fate::Failed, Fate::Done], 50);
        assert_eq!(state.get(LATEST_PUBLICATION), Some(&Value::from(100)));
        assert_eq!(state.get(DELIVERED_AHEAD), Some(&serde_json::json!(["c"])));
    }

    #[test]
    fn a_second_moves_only_when_all_of_it_arrived() {
        let items = [item("a", 100), item("b", 100), item("c", 200)];
        let state = cursor_state(&items, &[Fate::Done, Fate::Failed, Fate::Done], 50);
        assert_eq!(state.get(LATEST_PUBLICATION), Some(&Value::from(50)));
        assert_eq!(
            state.get(DELIVERED_AHEAD),
            Some(&serde_json::json!(["a", "c"]))
        );
    }

    #[test]
    fn a_clean_run_clears_the_list_ahead() {
        let items = [item("a", 100), item("b", 200)];
        let state = cursor_state(&items, &[Fate::Done, Fate::Done], 50);
        assert_eq!(state.get(LATEST_PUBLICATION), Some(&Value::from(200)));
        assert_eq!(state.get(DELIVERED_AHEAD), Some(&Value::Null));
    }
}
