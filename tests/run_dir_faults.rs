//! `run --once` in directory mode against a misbehaving TIP (issue #3, DESIGN.md
//! differences 1 and 6): a publication that cannot be fetched fails the run without
//! stopping the others, the cursor stops before it, and the next run fetches exactly
//! what is missing; transient failures are retried; a failed master file is fetched again.
//!
//! The simulator serves the default generated world. Publications are fetched one at a
//! time in `updated` order, so the n-th `get_one` request is for the n-th publication:
//! faults for a later one are queued behind pass-through faults (a zero delay) for the
//! ones before it.
#![cfg(feature = "simulator")]

#[path = "support/run_harness.rs"]
mod harness;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use connector_kaspersky::simulator::tip::{Fault, GenerateParams, Payload, World, generate};
use connector_kaspersky::tip::Endpoint;
use harness::{IGNORE_PREFIX, RunHarness, of_scope, unix_seconds};

/// A listed publication: id and `updated` in Unix seconds.
#[derive(Clone, Debug)]
struct Listed {
    id: String,
    updated: i64,
}

/// The world's publications that the connector fetches, in the order it fetches them.
fn fetch_order(world: &World) -> Vec<Listed> {
    let mut listed: Vec<Listed> = world
        .publications()
        .iter()
        .filter(|p| !p.name().starts_with(IGNORE_PREFIX))
        .map(|p| Listed {
            id: p.id().to_owned(),
            updated: unix_seconds(&p.meta()["updated"]),
        })
        .collect();
    listed.sort_by(|a, b| (a.updated, &a.id).cmp(&(b.updated, &b.id)));
    let mut seconds: Vec<i64> = listed.iter().map(|p| p.updated).collect();
    seconds.dedup();
    assert_eq!(
        seconds.len(),
        listed.len(),
        "distinct update times, one cursor step each"
    );
    assert!(
        listed.len() >= 5,
        "enough publications to fail some in the middle"
    );
    listed
}

/// A harness on the default generated world for the publication scope alone, one
/// publication in flight, one retry.
async fn publication_harness() -> (RunHarness, Vec<Listed>) {
    let world = generate(&GenerateParams::default());
    let order = fetch_order(&world);
    let mut h = RunHarness::start(world).await;
    h.set("KASPERSKY_SCOPES", "publication")
        .set("KASPERSKY_PUBLICATION_CONCURRENCY", 1)
        .set("KASPERSKY_MAX_RETRIES", 1);
    (h, order)
}

/// Ids of the publications written so far.
fn written(h: &RunHarness) -> Vec<String> {
    let mut ids: Vec<String> = of_scope(&h.bundles(), "publication")
        .keys()
        .map(|name| name.split('-').nth(1).unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

fn ids(listed: &[&Listed]) -> Vec<String> {
    let mut ids: Vec<String> = listed.iter().map(|p| p.id.clone()).collect();
    ids.sort();
    ids
}

/// Lets the first `n` `get_one` requests through untouched.
fn pass(h: &RunHarness, n: u32) {
    h.sim
        .faults()
        .push_times(Endpoint::GetOne, Fault::Delay(Duration::ZERO), n);
}

fn status(code: u16, retry_after: Option<&str>) -> Fault {
    Fault::Status {
        code,
        retry_after: retry_after.map(str::to_owned),
    }
}

/// Two publications answer 503 past the retry budget: the run fails and says which, the
/// others are written, the cursor stops before the first failure; the next run fetches
/// exactly the two and the cursor reaches the newest `updated`.
#[tokio::test(flavor = "multi_thread")]
async fn publications_failing_past_retries_are_fetched_again_next_run() {
    let (h, order) = publication_harness().await;
    let (third, fifth) = (&order[2], &order[4]);
    let unavailable = status(503, None);
    pass(&h, 2);
    h.sim
        .faults()
        .push_times(Endpoint::GetOne, unavailable.clone(), 2);
    pass(&h, 1);
    h.sim.faults().push_times(Endpoint::GetOne, unavailable, 2);

    let first = h.run_once().await;
    first.assert_failure();
    assert_eq!(
        h.sim.faults().pending(),
        0,
        "every queued fault met its request"
    );
    for failed in [third, fifth] {
        assert!(
            first.stderr.contains(&failed.id),
            "the failure names publication {}:\n{}",
            failed.id,
            first.stderr
        );
    }
    let others: Vec<&Listed> = order
        .iter()
        .filter(|p| p.id != third.id && p.id != fifth.id)
        .collect();
    assert_eq!(written(&h), ids(&others));
    assert_eq!(
        h.sim.requests(Endpoint::GetOne),
        order.len() as u64 + 2,
        "each failed publication was tried twice"
    );
    assert_eq!(
        h.state_seconds("latest_publication_timestamp"),
        Some(order[1].updated),
        "the cursor stops before the first failure"
    );
    assert!(h.state_seconds("latest_run_timestamp").is_some());

    h.sim.counts().reset();
    h.run_once().await.assert_success();
    assert_eq!(
        h.sim.requests(Endpoint::GetOne),
        2,
        "only the two failed publications are fetched again"
    );
    assert_eq!(written(&h), ids(&order.iter().collect::<Vec<_>>()));
    assert_eq!(
        h.state_seconds("latest_publication_timestamp"),
        Some(order.last().unwrap().updated)
    );
    assert!(
        h.state()
            .get("kaspersky_publications_delivered_ahead")
            .is_none(),
        "nothing is left ahead of the cursor: {}",
        h.state()
    );
}

/// A 429 with `Retry-After: 1` is waited out, then the publication arrives.
#[tokio::test(flavor = "multi_thread")]
async fn a_429_with_retry_after_is_retried_and_everything_arrives() {
    let (h, order) = publication_harness().await;
    pass(&h, 1);
    h.sim.inject(Endpoint::GetOne, status(429, Some("1")));

    h.run_once().await.assert_success();
    assert_eq!(h.sim.requests(Endpoint::GetOne), order.len() as u64 + 1);
    assert_eq!(written(&h), ids(&order.iter().collect::<Vec<_>>()));
    assert_eq!(
        h.state_seconds("latest_publication_timestamp"),
        Some(order.last().unwrap().updated)
    );
}

/// An answer slower than the read timeout is given up on and asked again.
#[tokio::test(flavor = "multi_thread")]
async fn a_timeout_is_retried_and_everything_arrives() {
    let (mut h, order) = publication_harness().await;
    h.set("KASPERSKY_READ_TIMEOUT_SEC", 1);
    pass(&h, 1);
    h.sim
        .inject(Endpoint::GetOne, Fault::Delay(Duration::from_secs(3)));

    h.run_once().await.assert_success();
    assert_eq!(h.sim.requests(Endpoint::GetOne), order.len() as u64 + 1);
    assert_eq!(written(&h), ids(&order.iter().collect::<Vec<_>>()));
}

/// A get_one answer that is not JSON fails that publication only; it is fetched again
/// next run.
#[tokio::test(flavor = "multi_thread")]
async fn a_malformed_publication_is_reported_and_the_others_delivered() {
    let (h, order) = publication_harness().await;
    let broken = &order[2];
    pass(&h, 2);
    h.sim.inject(Endpoint::GetOne, Fault::MalformedBody);

    let first = h.run_once().await;
    first.assert_failure();
    assert!(
        first.stderr.contains(&broken.id),
        "the failure names publication {}:\n{}",
        broken.id,
        first.stderr
    );
    let others: Vec<&Listed> = order.iter().filter(|p| p.id != broken.id).collect();
    assert_eq!(written(&h), ids(&others));
    assert_eq!(
        h.sim.requests(Endpoint::GetOne),
        order.len() as u64,
        "a malformed answer is not retried"
    );
    assert_eq!(
        h.state_seconds("latest_publication_timestamp"),
        Some(order[1].updated)
    );

    h.sim.counts().reset();
    h.run_once().await.assert_success();
    assert_eq!(h.sim.requests(Endpoint::GetOne), 1);
    assert_eq!(written(&h), ids(&order.iter().collect::<Vec<_>>()));
}

/// The Master IoC file failing past its retries on its weekday fails the run but not the
/// other scopes and leaves `latest_master_ioc_timestamp` unset; the next run imports it
/// even on another weekday, and once it is delivered it waits for its weekday again.
#[tokio::test(flavor = "multi_thread")]
async fn a_failed_master_ioc_file_is_imported_by_the_next_run() {
    let mut h = RunHarness::start(generate(&GenerateParams::default())).await;
    let today = weekday_today();
    h.set("KASPERSKY_MAX_RETRIES", 1)
        .set("KASPERSKY_MASTER_IOC_FETCH_WEEKDAY", today);
    h.sim
        .faults()
        .push_times(Endpoint::GetMasterIoc, status(503, None), 2);

    let first = h.run_once().await;
    if weekday_today() != today {
        eprintln!("skipped: the UTC day changed during the test");
        return;
    }
    first.assert_failure();
    assert!(first.stderr.contains("Master IoC"), "{}", first.stderr);
    assert_eq!(h.sim.requests(Endpoint::GetMasterIoc), 2);
    let bundles = h.bundles();
    assert!(of_scope(&bundles, "master_ioc").is_empty());
    assert!(!of_scope(&bundles, "publication").is_empty());
    assert!(!of_scope(&bundles, "master_yara").is_empty());
    let state = h.state();
    assert!(
        state.get("latest_master_ioc_timestamp").is_none(),
        "{state}"
    );
    assert!(
        state.get("latest_master_yara_timestamp").is_some(),
        "{state}"
    );
    assert!(
        state.get("latest_publication_timestamp").is_some(),
        "{state}"
    );

    // Another weekday than the file's: the file is still owed.
    h.set("KASPERSKY_MASTER_IOC_FETCH_WEEKDAY", today % 7 + 1);
    h.sim.counts().reset();
    h.run_once().await.assert_success();
    assert_eq!(h.sim.requests(Endpoint::GetMasterIoc), 1);
    assert_eq!(
        h.sim.requests(Endpoint::GetOne),
        0,
        "publications are not fetched again"
    );
    assert!(!of_scope(&h.bundles(), "master_ioc").is_empty());
    assert!(h.state_seconds("latest_master_ioc_timestamp").is_some());
    harness::validate_dir(&h.bundles_dir());

    h.sim.counts().reset();
    h.run_once().await.assert_success();
    assert_eq!(
        h.sim.requests(Endpoint::GetMasterIoc),
        0,
        "delivered: not due"
    );
}

/// Today's ISO weekday in UTC (1 = Monday).
fn weekday_today() -> i8 {
    jiff::Timestamp::now()
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .weekday()
        .to_monday_one_offset()
}

/// A byte that is not UTF-8 in a comment of a Master YARA condition line costs the rule
/// it falls in, not the line: blanked, the line would leave a rule with no condition at
/// all. The rule is named with its lines; every other rule is delivered as before.
#[tokio::test(flavor = "multi_thread")]
async fn a_master_yara_line_of_invalid_utf8_costs_its_rule() {
    async fn patterns(world: World) -> (BTreeMap<String, String>, harness::RunOutput) {
        let mut h = RunHarness::start(world).await;
        h.set("KASPERSKY_MASTER_YARA_FETCH_WEEKDAY", weekday_today());
        let run = h.run_once().await;
        let patterns = of_scope(&h.bundles(), "master_yara")
            .values()
            .flat_map(|bundle| harness::objects(bundle, "indicator"))
            .map(|i| {
                let text = |key: &str| i[key].as_str().unwrap().to_owned();
                (text("name"), text("pattern"))
            })
            .collect();
        (patterns, run)
    }

    let clean = generate(&GenerateParams::default());
    let raw = clean.master_yara.as_ref().unwrap().raw().to_vec();
    let mut lines: Vec<Vec<u8>> = raw.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
    // The condition of a public rule, so that no other rule needs it.
    let text = |line: &[u8]| String::from_utf8(line.to_vec()).unwrap();
    let damaged_line = (1..lines.len())
        .find(|&at| {
            text(&lines[at - 1]).trim() == "condition:" && {
                let head = (0..at)
                    .rev()
                    .map(|i| text(&lines[i]))
                    .find(|l| l.contains("rule "));
                head.is_some_and(|l| l.starts_with("rule "))
            }
        })
        .expect("a public rule's condition");
    let first_line = (0..damaged_line)
        .rev()
        .find(|&i| text(&lines[i]).starts_with("rule "))
        .unwrap();
    let rule = text(&lines[first_line])["rule ".len()..]
        .split([' ', ':', '{'])
        .next()
        .unwrap()
        .to_owned();
    lines[damaged_line].extend_from_slice(b" // caf\xe9");
    let mut damaged = clean.clone();
    damaged.master_yara = Some(Payload::new(lines.join(&b'\n')));

    let (mut all, run) = patterns(clean).await;
    run.assert_success();
    let (some, run) = patterns(damaged).await;
    run.assert_success();
    let named = format!(
        "YARA rule {rule} (lines {}-{})",
        first_line + 1,
        damaged_line + 2
    );
    let reason = format!("not UTF-8 at line {}", damaged_line + 1);
    assert!(
        run.stderr.contains(&named) && run.stderr.contains(&reason),
        "{named}: {reason}: {}",
        run.stderr
    );
    assert!(
        all.remove(&rule).is_some(),
        "{rule} is delivered from the clean file"
    );
    assert_eq!(
        some, all,
        "only the damaged rule is lost, the others are intact"
    );
}

/// A state time that cannot be read stops the run with the key and the value named, and
/// the state is left for the user to fix: read as "no value" it would restart the scope
/// from the beginning and re-import everything.
#[tokio::test(flavor = "multi_thread")]
async fn a_state_time_that_is_not_a_time_stops_the_run() {
    let h = RunHarness::start(generate(&GenerateParams::default())).await;
    for value in [
        serde_json::json!("abc"),
        serde_json::json!(99_999_999_999_999_i64),
    ] {
        let state = serde_json::json!({
            "latest_publication_timestamp": value,
            "latest_run_timestamp": 1_700_000_000,
        });
        h.write_state(&state);
        let run = h.run_once().await;
        run.assert_failure();
        assert_eq!(run.status.code(), Some(1), "{}", run.stderr);
        let named = format!("latest_publication_timestamp holds {value}");
        assert!(run.stderr.contains(&named), "{named}: {}", run.stderr);
        assert_eq!(h.state(), state, "the state is left as it is");
        assert!(h.bundles().is_empty(), "nothing is imported");
        assert_eq!(h.sim.requests(Endpoint::GetList), 0, "nothing is fetched");
    }
}

/// The list of publications failing past its retries fails the scope and moves no
/// cursor; the next run imports everything.
#[tokio::test(flavor = "multi_thread")]
async fn a_failed_list_is_listed_again_next_run() {
    let (h, order) = publication_harness().await;
    h.sim
        .faults()
        .push_times(Endpoint::GetList, status(503, None), 2);

    h.run_once().await.assert_failure();
    assert_eq!(h.sim.requests(Endpoint::GetOne), 0);
    assert!(written(&h).is_empty());
    assert_eq!(h.state_seconds("latest_publication_timestamp"), None);

    h.run_once().await.assert_success();
    assert_eq!(written(&h), ids(&order.iter().collect::<Vec<_>>()));
    assert_eq!(
        h.state_seconds("latest_publication_timestamp"),
        Some(order.last().unwrap().updated)
    );
}

/// A connection dropped in the middle of an answer is retried.
#[tokio::test(flavor = "multi_thread")]
async fn a_dropped_answer_is_retried_and_everything_arrives() {
    let (h, order) = publication_harness().await;
    pass(&h, 3);
    h.sim.inject(Endpoint::GetOne, Fault::DropConnection);

    h.run_once().await.assert_success();
    assert_eq!(h.sim.requests(Endpoint::GetOne), order.len() as u64 + 1);
    assert_eq!(written(&h), ids(&order.iter().collect::<Vec<_>>()));
}

/// A bundle directory that cannot be written (here a file stands where it should be) is
/// one clear error line; nothing is fetched, no state is written, and the next run, once
/// the directory is usable, imports everything.
#[tokio::test(flavor = "multi_thread")]
async fn an_unwritable_bundle_directory_is_a_clear_error_and_loses_nothing() {
    let (h, order) = publication_harness().await;
    std::fs::write(h.bundles_dir(), "not a directory").unwrap();

    let run = h.run_once().await;
    run.assert_failure();
    assert!(
        run.stderr.contains("cannot create the bundle directory"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(&h.bundles_dir().display().to_string()),
        "{}",
        run.stderr
    );
    assert_eq!(h.sim.requests(Endpoint::GetOne), 0);
    assert!(
        !h.state_path().exists(),
        "no state for a run that did not happen"
    );

    std::fs::remove_file(h.bundles_dir()).unwrap();
    h.run_once().await.assert_success();
    assert_eq!(written(&h), ids(&order.iter().collect::<Vec<_>>()));
}

/// A line of the Master IoC file that is not UTF-8 costs that line: it is named, every
/// other row is imported and the file counts as imported.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_master_ioc_line_of_invalid_utf8_costs_that_line_only() {
    async fn indicators(world: World) -> (BTreeSet<String>, harness::RunOutput, RunHarness) {
        let mut h = RunHarness::start(world).await;
        h.set("KASPERSKY_MASTER_IOC_FETCH_WEEKDAY", weekday_today())
            .set("KASPERSKY_MASTER_IOC_EXCLUDED_IOC_INDICATOR_TYPES", "");
        let run = h.run_once().await;
        let ids = of_scope(&h.bundles(), "master_ioc")
            .values()
            .flat_map(|bundle| harness::objects(bundle, "indicator"))
            .map(|indicator| indicator["id"].as_str().unwrap().to_owned())
            .collect();
        (ids, run, h)
    }

    let clean = generate(&GenerateParams::default());
    let raw = clean.master_ioc.as_ref().unwrap().raw().to_vec();
    let mut lines: Vec<Vec<u8>> = raw.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
    // A row that becomes an indicator of its own.
    let damaged_line = lines
        .iter()
        .position(|line| line.ends_with(b",sha256Hash"))
        .expect("a sha256Hash row");
    lines[damaged_line].splice(0..0, *b"\xff");
    let mut damaged = clean.clone();
    damaged.master_ioc = Some(Payload::new(lines.join(&b'\n')));

    let (all, run, _) = indicators(clean).await;
    run.assert_success();
    let (some, run, h) = indicators(damaged).await;
    run.assert_success();
    let named = format!("Master IoC line {}", damaged_line + 1);
    assert!(
        run.stderr.contains(&named) && run.stderr.contains("not UTF-8"),
        "{named}: {}",
        run.stderr
    );
    assert!(some.is_subset(&all));
    assert_eq!(all.len() - some.len(), 1, "only the damaged row is lost");
    assert!(h.state_seconds("latest_master_ioc_timestamp").is_some());
}

/// Waits until `done` holds, polling; false after `limit`.
async fn eventually(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let started = std::time::Instant::now();
    while started.elapsed() < limit {
        if done() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    done()
}

/// SIGTERM while every `get_one` answers 503: the run ends at once instead of going
/// through each publication's retry schedule (about 95 s each here), exits as stopped,
/// and the cursor stays before every publication not delivered.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn sigterm_during_a_tip_outage_stops_the_run_at_once() {
    let (mut h, order) = publication_harness().await;
    h.set("KASPERSKY_MAX_RETRIES", 5)
        .set("KASPERSKY_RETRY_MAX_DELAY_SEC", 30);
    h.sim
        .faults()
        .push_times(Endpoint::GetOne, status(503, None), 10_000);

    let mut child = h.spawn_once();
    assert!(
        eventually(Duration::from_secs(60), || h.sim.requests(Endpoint::GetOne)
            >= 1)
        .await,
        "the first publication is asked for:\n{}",
        h.log()
    );
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let mut exit = None;
    let ended = eventually(Duration::from_secs(60), || {
        exit = child.try_wait().expect("the child can be waited for");
        exit.is_some()
    })
    .await;
    if !ended {
        let _ = child.kill();
        let _ = child.wait();
    }
    assert!(ended, "the run ends soon after SIGTERM:\n{}", h.log());
    assert!(
        exit.unwrap().success(),
        "a stop is no failure:\n{}",
        h.log()
    );

    // The first try of the first publication, perhaps its first retry: no schedule.
    let asked = h.sim.requests(Endpoint::GetOne);
    assert!(
        asked <= 2,
        "{asked} get_one requests for {} publications",
        order.len()
    );
    assert!(written(&h).is_empty());
    let cursor = h.state_seconds("latest_publication_timestamp").unwrap_or(0);
    assert!(
        cursor < order[0].updated,
        "the cursor {cursor} passed an undelivered publication: {}",
        h.state()
    );
    assert!(
        h.state_seconds("latest_run_timestamp").is_none(),
        "a stopped run is no run"
    );

    // Nothing was lost: the next run imports everything.
    h.sim.faults().clear();
    h.set("KASPERSKY_RETRY_MAX_DELAY_SEC", 1);
    h.run_once().await.assert_success();
    assert_eq!(written(&h), ids(&order.iter().collect::<Vec<_>>()));
}

/// Every `get_one` answers 503: after 3 publications in a row have failed past their
/// retries the scope stops asking, says the TIP looks unavailable, and the cursor does
/// not move; the next run, the TIP back, imports everything.
#[tokio::test(flavor = "multi_thread")]
async fn a_tip_outage_stops_the_scope_after_three_publications() {
    let (mut h, order) = publication_harness().await;
    let retries = 2;
    h.set("KASPERSKY_MAX_RETRIES", retries);
    assert!(order.len() > 3, "publications left after the breaker");
    h.sim
        .faults()
        .push_times(Endpoint::GetOne, status(503, None), 10_000);

    let first = h.run_once().await;
    first.assert_failure();
    assert!(
        first.stderr.contains(
            "the TIP looks unavailable: 3 publications in a row failed; \
             the rest are left for the next run"
        ),
        "{}",
        first.stderr
    );
    assert_eq!(
        h.sim.requests(Endpoint::GetOne),
        3 * (retries + 1),
        "three publications, each through its retries, and no more"
    );
    assert!(written(&h).is_empty());
    let cursor = h.state_seconds("latest_publication_timestamp").unwrap_or(0);
    assert!(cursor < order[0].updated, "{}", h.state());

    h.sim.faults().clear();
    h.sim.counts().reset();
    h.run_once().await.assert_success();
    assert_eq!(h.sim.requests(Endpoint::GetOne), order.len() as u64);
    assert_eq!(written(&h), ids(&order.iter().collect::<Vec<_>>()));
    assert_eq!(
        h.state_seconds("latest_publication_timestamp"),
        Some(order.last().unwrap().updated)
    );
}

/// With several requests in flight the breaker still counts publications in delivery
/// order: a failure between successes does not trip it, and at most the requests already
/// in flight are made past the third failure in a row.
#[tokio::test(flavor = "multi_thread")]
async fn the_breaker_counts_in_delivery_order_with_requests_in_flight() {
    let (mut h, order) = publication_harness().await;
    let (retries, concurrency) = (1, 3);
    h.set("KASPERSKY_MAX_RETRIES", retries)
        .set("KASPERSKY_PUBLICATION_CONCURRENCY", concurrency);
    assert!(
        order.len() as u64 > 3 + concurrency,
        "publications past the breaker"
    );
    h.sim
        .faults()
        .push_times(Endpoint::GetOne, status(503, None), 10_000);

    h.run_once().await.assert_failure();
    let asked = h.sim.requests(Endpoint::GetOne);
    let most = (3 + concurrency - 1) * (retries + 1);
    assert!(
        asked >= 3 * (retries + 1) && asked <= most,
        "{asked} get_one requests, expected at most {most}"
    );
    assert!(written(&h).is_empty());
}
